"""The scorer's work on one batch of posts: score each, store it once, then re-assess every watch
the batch touched (and escalate what rose).

    batch = intake.batch()
    for post in posts:
        batch.add(post)          # raises on a post that cannot be scored or stored: that record fails alone
    batch.finish()               # re-assess; raises when that fails: the whole batch is retried

Duplicates re-assess too: if the first delivery's run crashed after storing, the redelivered batch
finishes its job (everything is derived from stored counters, escalations are named per level).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from aws_lambda_powertools import Logger

from crisiswatch.constants import DEFAULT_ACK_TIMEOUT_SECONDS
from crisiswatch.incidents.policy import DEFAULT_RULES, LevelRule, counts_of
from crisiswatch.incidents.record import Incident, TopPost
from crisiswatch.incidents.service import reassess_watch, top_post
from crisiswatch.ports import Clock, EscalationWorkflow, IncidentRepository, PostRepository
from crisiswatch.scoring import Scorer
from crisiswatch.vocabulary import Post, Watch
from crisiswatch.watches import WatchCache

logger = Logger(child=True)

# Outcomes of a post, and the metric names the handler counts them under.
STORED, DUPLICATE, UNKNOWN_WATCH = "PostsScored", "DuplicatePosts", "PostsForUnknownWatches"
LEVEL_RAISED = "LevelRaised"


@dataclass
class Intake:
    watches: WatchCache
    posts: PostRepository
    incidents: IncidentRepository
    workflow: EscalationWorkflow
    clock: Clock
    rules: tuple[LevelRule, ...] = DEFAULT_RULES
    ack_timeouts: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ACK_TIMEOUT_SECONDS))
    _scorers: dict[tuple[str, ...], Scorer] = field(default_factory=dict)

    def batch(self) -> IntakeBatch:
        return IntakeBatch(self)

    def scorer_for(self, watch: Watch) -> Scorer:
        """One scorer per set of brand terms (its jieba dictionary keeps them whole)."""
        terms = tuple(watch.brand_terms or watch.keywords)
        if terms not in self._scorers:
            self._scorers[terms] = Scorer(brand_terms=terms)
        return self._scorers[terms]


@dataclass(frozen=True)
class Assessment:
    watch_id: str
    incident: Incident | None
    raised: bool


class IntakeBatch:
    """One batch, at one moment: the clock is read once, the watches once."""

    def __init__(self, intake: Intake) -> None:
        self._intake = intake
        self.now = intake.clock.now()
        self._watches = intake.watches.all()
        self._touched: dict[str, list[TopPost]] = {}
        self.counts: Counter[str] = Counter({STORED: 0, DUPLICATE: 0, UNKNOWN_WATCH: 0, LEVEL_RAISED: 0})

    def add_message(self, body: str) -> str:
        """A post as the posts queue carries it (JSON); a malformed one raises, and fails alone."""
        return self.add(Post.model_validate_json(body))

    def add(self, post: Post) -> str:
        """Score and store one post; returns which of STORED, DUPLICATE, UNKNOWN_WATCH it was."""
        watch = self._watches.get(post.watch_id)
        if watch is None:
            logger.warning(
                "post for an unknown or deleted watch dropped", post_key=post.key, watch_id=post.watch_id
            )
            self.counts[UNKNOWN_WATCH] += 1
            return UNKNOWN_WATCH
        score = self._intake.scorer_for(watch).score(post)
        stored = self._intake.posts.save(post, score, counts_of(post, score), self.now)
        candidates = self._touched.setdefault(post.watch_id, [])
        if score.is_negative:
            candidates.append(top_post(post, score))
        outcome = STORED if stored else DUPLICATE
        self.counts[outcome] += 1
        logger.debug("scored", post_key=post.key, risk=score.risk, stored=stored)
        return outcome

    def finish(self) -> list[Assessment]:
        intake = self._intake
        assessments = []
        for watch_id, candidates in self._touched.items():
            incident, raised = reassess_watch(
                self._watches[watch_id],
                candidates,
                self.now,
                intake.posts,
                intake.incidents,
                intake.workflow,
                intake.rules,
                intake.ack_timeouts,
            )
            assessments.append(Assessment(watch_id, incident, raised))
            self.counts[LEVEL_RAISED] += raised
        return assessments
