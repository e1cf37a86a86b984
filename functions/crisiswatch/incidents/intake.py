"""The scorer's work on one batch of posts: score each, give it its story, store it once, then
re-assess every watch the batch touched (open, raise or resolve its stories' incidents, escalate).

    batch = intake.batch(bodies)  # the batch's stories, looked up at once for the posts that parse
    for message_id, body in messages:
        batch.add_message(body, redelivered=..., ref=message_id)  # raises on a post that cannot be
                                                                  # scored: it fails alone
    batch.finish()  # store each watch's posts at once and re-assess, each watch on its own: one
    batch.retry     # that raises is logged and counted, and these refs, its messages, are retried
                    # (then the DLQ); the other watches' succeed

A watch is re-assessed when its posts stored something or moved a counter (engagement growth), or
when one of them is a redelivery: the first delivery's run may have crashed after storing, and the
redelivered batch finishes its job (everything derives from stored counters, escalations are named
per level). A batch of posts the store already counted, unchanged, changes nothing to assess.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from crisiswatch.constants import DEFAULT_HEARTBEAT_SILENT_MINUTES
from crisiswatch.incidents import heartbeat
from crisiswatch.incidents.policy import counts_of
from crisiswatch.incidents.record import TopPost
from crisiswatch.incidents.service import Change, Detector, top_post
from crisiswatch.incidents.stories import StoryAssigner
from crisiswatch.ports import Clock, ScoredPost, StoryIndex
from crisiswatch.scoring import Scorer
from crisiswatch.vocabulary import Post, Watch
from crisiswatch.watches import WatchCache

logger = Logger(child=True)

# Outcomes of a post, and the metric names the handler counts them under.
STORED, DUPLICATE, UNKNOWN_WATCH = "PostsScored", "DuplicatePosts", "PostsForUnknownWatches"
SCORED = "scored"  # what `add` returns for a post it will save at `finish`
ASSESSMENTS_SKIPPED = "AssessmentsSkipped"  # a watch's posts changed nothing: not re-assessed
LEVEL_RAISED, RESOLVED = "LevelRaised", "IncidentsResolved"
ASSESSMENT_FAILED = "WatchAssessmentsFailed"  # a watch whose save or re-assessment raised (retried)
SILENT_WATCHES = heartbeat.SILENT_WATCHES  # one count per sweep, no per-watch dimension


@dataclass
class Intake:
    watches: WatchCache
    detector: Detector
    stories: StoryIndex
    clock: Clock
    # The heartbeat: a watch that usually sees posts and has seen none for this long is silent.
    silent_minutes: int = DEFAULT_HEARTBEAT_SILENT_MINUTES
    # One scorer per set of brand terms; callers that run many watches may share one mapping.
    scorers: dict[tuple[str, ...], Scorer] = field(default_factory=dict)
    _terms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def batch(self, bodies: Iterable[str] = ()) -> IntakeBatch:
        """A batch of queue messages; the ones that parse get their stories at once."""
        posts = []
        for body in bodies:
            try:
                posts.append(Post.model_validate_json(body))
            except ValidationError:
                continue  # add_message fails it, alone
        return IntakeBatch(self, posts)

    def batch_of(self, posts: Iterable[Post]) -> IntakeBatch:
        """A batch of posts already parsed (the memory runtime's evaluation feeds these)."""
        return IntakeBatch(self, posts)

    def scorer_for(self, watch: Watch) -> Scorer:
        """One scorer per set of brand terms (its jieba dictionary keeps them whole)."""
        terms = self._terms.get(watch.id, tuple(watch.brand_terms or watch.keywords))
        if terms not in self.scorers:
            self.scorers[terms] = Scorer(brand_terms=terms)
        return self.scorers[terms]

    def use_brand_terms(self, watch: Watch, terms: tuple[str, ...]) -> None:
        """Score this watch's posts for other brand terms than its own (none: every post is about it)."""
        self._terms[watch.id] = tuple(terms)

    def sweep(self) -> Sweep:
        """No batch needed: re-read every watch's open incidents and resolve the quiet ones; and
        find the watches that have gone silent (crisiswatch.incidents.heartbeat)."""
        now = self.clock.now()
        changes, silent = [], []
        for watch in self.watches.all().values():
            changes += self.detector.sweep(watch, now)
            if self._is_silent(watch, now):
                silent.append(watch.id)
        if silent:
            logger.warning("silent watches", watch_ids=silent, silent_minutes=self.silent_minutes)
        return Sweep(changes, silent)

    def _is_silent(self, watch: Watch, now: datetime) -> bool:
        # The stored normal, read as it is: the heartbeat itself folds no silent hour into it.
        baseline = self.detector.baselines.get(watch.id)
        if not heartbeat.usually_busy(baseline, now, self.silent_minutes):
            return False  # no bucket read for a watch that is often quiet
        buckets = self.detector.posts.buckets(watch.id, now - timedelta(minutes=self.silent_minutes), now)
        return heartbeat.is_silent(baseline, buckets, now, self.silent_minutes)


@dataclass(frozen=True)
class Sweep:
    """What one sweep did: the incidents it changed, and the ids of the watches found silent."""

    changes: list[Change]
    silent: list[str]

    @property
    def counts(self) -> dict[str, int]:
        """The sweep's metrics, by name."""
        return {RESOLVED: sum(c.resolved for c in self.changes), SILENT_WATCHES: len(self.silent)}


@dataclass(frozen=True)
class Assessment:
    watch_id: str
    changes: list[Change]

    @property
    def alerts(self) -> list[Change]:
        return [c for c in self.changes if c.alerts]


class IntakeBatch:
    """One batch, at one moment: the clock is read once, the watches once, the stories once."""

    def __init__(self, intake: Intake, posts: Iterable[Post] = ()) -> None:
        self._intake = intake
        self.now = intake.clock.now()
        self._watches = intake.watches.all()
        self._assigner = StoryAssigner(intake.stories, intake.detector.posts, intake.clock)
        self._story: dict[tuple[str, str], str] = {}
        self._scored: dict[str, list[ScoredPost]] = defaultdict(list)  # per watch, saved at finish()
        self._redelivered: set[str] = set()  # the watches with a redelivered post in this batch
        self._refs: dict[str, list[str]] = defaultdict(list)  # watch id -> the refs of its messages
        self.failed: dict[str, Exception] = {}  # watch id -> what its save or re-assessment raised
        self.counts: Counter[str] = Counter(
            {
                STORED: 0,
                DUPLICATE: 0,
                UNKNOWN_WATCH: 0,
                LEVEL_RAISED: 0,
                RESOLVED: 0,
                ASSESSMENTS_SKIPPED: 0,
                ASSESSMENT_FAILED: 0,
            }
        )
        by_watch: dict[str, list[Post]] = defaultdict(list)
        for post in posts:
            if post.watch_id in self._watches:
                by_watch[post.watch_id].append(post)
        for watch_id, posts in by_watch.items():
            self._assign(watch_id, posts)

    def _assign(self, watch_id: str, posts: list[Post]) -> None:
        for key, story in self._assigner.assign(watch_id, posts).items():
            self._story[(watch_id, key)] = story

    def add_message(self, body: str, redelivered: bool = False, ref: str = "") -> str:
        """A post as the posts queue carries it (JSON); a malformed one raises, and fails alone.
        ``redelivered``: the queue delivered this message before (its receive count is over 1).
        ``ref`` names the message (its SQS message id) in ``retry`` if its watch fails at ``finish``."""
        return self.add(Post.model_validate_json(body), redelivered, ref)

    def add(self, post: Post, redelivered: bool = False, ref: str = "") -> str:
        """Score one post, to be saved with its watch's others at ``finish``; returns SCORED, or
        UNKNOWN_WATCH for a post whose watch is gone (dropped)."""
        watch = self._watches.get(post.watch_id)
        if watch is None:
            logger.warning(
                "post for an unknown or deleted watch dropped", post_key=post.key, watch_id=post.watch_id
            )
            self.counts[UNKNOWN_WATCH] += 1
            return UNKNOWN_WATCH
        if (post.watch_id, post.key) not in self._story:
            self._assign(post.watch_id, [post])
        story = self._story[(post.watch_id, post.key)]
        score = self._intake.scorer_for(watch).score(post)
        self._scored[post.watch_id].append(ScoredPost(post, score, counts_of(post, score), story))
        if redelivered:
            self._redelivered.add(post.watch_id)
        if ref:
            self._refs[post.watch_id].append(ref)
        logger.debug("scored", post_key=post.key, risk=score.risk, story=story)
        return SCORED

    def finish(self) -> list[Assessment]:
        """Save each watch's posts (one write per post and per counter bucket) and re-assess the
        watches whose counters they moved, each watch on its own: one whose save or re-assessment
        raises is logged and counted (ASSESSMENT_FAILED) and kept in ``failed``; the others go on."""
        assessments = []
        for watch_id, scored in self._scored.items():
            try:
                assessment = self._finish_watch(watch_id, scored)
            except Exception as e:  # noqa: BLE001 - this watch only; its messages are retried (retry)
                logger.exception(
                    "watch assessment failed",
                    watch_id=watch_id,
                    error=type(e).__name__,
                    messages=len(self._refs[watch_id]),
                )
                self.failed[watch_id] = e
                self.counts[ASSESSMENT_FAILED] += 1
                continue
            if assessment is not None:
                assessments.append(assessment)
        return assessments

    def _finish_watch(self, watch_id: str, scored: list[ScoredPost]) -> Assessment | None:
        saved = self._intake.detector.posts.save_all(scored, self.now)
        stored = sum(s.stored for s in saved)
        self.counts[STORED] += stored
        self.counts[DUPLICATE] += len(saved) - stored
        if not stored and not any(s.growth for s in saved) and watch_id not in self._redelivered:
            self.counts[ASSESSMENTS_SKIPPED] += 1
            return None
        touched: dict[str, list[TopPost | None]] = defaultdict(list)
        for item in scored:
            touched[item.story].append(top_post(item.post, item.score) if item.score.is_negative else None)
        changes = self._intake.detector.reassess(self._watches[watch_id], touched, self.now)
        self.counts[LEVEL_RAISED] += sum(c.alerts for c in changes)
        self.counts[RESOLVED] += sum(c.resolved for c in changes)
        return Assessment(watch_id, changes)

    @property
    def retry(self) -> list[str]:
        """The refs of the messages whose watch failed at ``finish``: delivered again, they are
        redeliveries (counted once) that re-assess their watch; after the maximum receives, the DLQ."""
        return [ref for watch_id in self.failed for ref in self._refs[watch_id]]
