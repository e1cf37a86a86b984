"""After posts are stored: read each touched watch against its normal, assess its stories, open,
raise or resolve their incidents, and start escalations for rises.

    detector = Detector(posts, baselines, incidents, workflow, rules, ack_timeouts)
    detector.reassess(watch, {story_id: [top posts of this batch]}, now)
    detector.sweep(watch, now)      # no new posts: resolve what has gone quiet
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from aws_lambda_powertools import Logger

from crisiswatch.constants import DEFAULT_ACK_TIMEOUT_SECONDS
from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.escalation.routing import Routing, held_until
from crisiswatch.incidents.baseline import (
    MAX_CATCH_UP_HOURS,
    Baseline,
    Expected,
    expected,
    fold,
    hours_to_fold,
)
from crisiswatch.incidents.detection import (
    QUIET_RESOLVE_MINUTES,
    Evidence,
    assess,
    escalation_input,
    execution_name,
    quiet_resolution,
)
from crisiswatch.incidents.policy import (
    DEFAULT_RULES,
    MIN_WINDOW_MENTIONS,
    STORY_WINDOW_HOURS,
    LevelRule,
    WindowStats,
)
from crisiswatch.incidents.record import Incident, TopPost
from crisiswatch.incidents.surprise import WINDOWS_MINUTES, Reading, read_windows, sums_since, window_start
from crisiswatch.ports import (
    BaselineStore,
    EscalationWorkflow,
    IncidentAlreadyOpen,
    IncidentRepository,
    PostRepository,
    StaleIncident,
)
from crisiswatch.vocabulary import Post, Score, Watch

logger = Logger(child=True)
MAX_ATTEMPTS = 3
# An open incident's counters and activity time are written at most this often when nothing else
# changed (level, status, deadlines, top posts), and then apart from the incident
# (IncidentRepository.refresh_figures): a burst's every batch rewrote the whole item (and its index
# entry) for figures that readers see move within minutes anyway.
STATS_REFRESH = timedelta(minutes=5)
# While the watch is surprising, its stories busiest over the last hour are assessed (plus every
# story with an open incident): a burst's story is among them, ordinary chatter's one-post ones not.
STORIES_PER_ASSESSMENT = 5
WHOLE_WATCH = ""  # the story id of a surge spread over many stories: the watch's own counters


def top_post(post: Post, score: Score) -> TopPost:
    return TopPost(
        key=post.key,
        url=post.url,
        author=post.author.name,
        followers=post.author.followers,
        verified_type=post.author.verified_type,
        text=post.text[:280],
        created_at=post.created_at,
        risk=score.risk,
        negative=score.negative,
        categories=score.categories,
        reasons=score.reasons,
    )


@dataclass(frozen=True)
class Change:
    """What one assessment did to one story's incident."""

    incident: Incident
    opened: bool = False
    raised: bool = False
    resolved: bool = False

    @property
    def alerts(self) -> bool:
        """A notification goes out: the incident opened or its level rose."""
        return self.opened or self.raised


class IncidentEvents(Protocol):
    """Told after each write, for the incident's timeline (crisiswatch.escalation.response.IncidentLog)."""

    def opened(self, incident: Incident) -> None: ...

    def raised(self, incident: Incident) -> None: ...

    def resolved(self, incident: Incident) -> None: ...


@dataclass
class Detector:
    posts: PostRepository
    baselines: BaselineStore
    incidents: IncidentRepository
    workflow: EscalationWorkflow
    rules: tuple[LevelRule, ...] = DEFAULT_RULES
    ack_timeouts: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ACK_TIMEOUT_SECONDS))
    quiet_minutes: int = QUIET_RESOLVE_MINUTES
    events: IncidentEvents | None = None
    durations: ClockDurations = field(default_factory=ClockDurations)

    # -- the watch's normal --------------------------------------------------------------------

    def normal(self, watch_id: str, now: datetime) -> Baseline | None:
        """The watch's baseline at `now`, after folding in every complete hour not learnt yet."""
        baseline = self.baselines.get(watch_id)
        start = (
            baseline.through if baseline and baseline.through else now - timedelta(hours=MAX_CATCH_UP_HOURS)
        )
        current_hour = now.replace(minute=0, second=0, microsecond=0)
        if start < current_hour:
            buckets = self.posts.buckets(watch_id, start, current_hour - timedelta(microseconds=1))
            first_seen = buckets[0][0] if buckets else None
            hours = hours_to_fold(baseline, now, first_seen)
            if hours:
                by_hour: dict[datetime, WindowStats] = {}
                for moment, stats in buckets:
                    hour = moment.replace(minute=0)
                    by_hour[hour] = by_hour.get(hour, WindowStats()) + stats
                learnt = baseline
                for hour in hours:
                    learnt = fold(learnt, hour, by_hour.get(hour, WindowStats()))
                if not self.baselines.put(watch_id, learnt, baseline.through if baseline else None):
                    learnt = self.baselines.get(watch_id)  # another scorer folded the same hours
                baseline = learnt
        return baseline

    def readings(self, watch_id: str, now: datetime, baseline: Baseline | None) -> list[Reading]:
        buckets = self.posts.buckets(watch_id, window_start(now, max(WINDOWS_MINUTES)), now)
        return read_windows(buckets, now, lambda moment: expected(baseline, moment))

    # -- stories and their incidents -----------------------------------------------------------

    def evidence(
        self, watch_id: str, story: str, readings: Sequence[Reading], normal: Expected, now: datetime
    ) -> Evidence:
        start = now - timedelta(hours=STORY_WINDOW_HOURS)
        buckets = self.posts.buckets(watch_id, start, now, story)
        recent, *in_windows = sums_since(buckets, [start] + [window_start(now, r.minutes) for r in readings])
        if story == WHOLE_WATCH:
            # The watch's own numbers are mostly its normal chatter: what counts is the surge,
            # the posts of its most surprising window.
            best = max(readings, key=lambda r: r.surprise, default=None)
            recent = best.stats if best is not None else recent
        return Evidence(
            readings=readings,
            story=recent,
            story_in_windows=in_windows,
            normal=normal,
            whole_watch=story == WHOLE_WATCH,
        )

    def reassess(
        self, watch: Watch, touched: Mapping[str, Sequence[TopPost | None]], now: datetime
    ) -> list[Change]:
        """Assess the stories this batch touched (when the watch is surprising) and every story with
        an open incident. `touched` maps each story to the batch's posts of it (a TopPost for a
        negative one, None otherwise).

        Safe to repeat: everything derives from stored counters, and escalations are named per
        incident and level, so a redelivered batch re-runs it without double effects. Concurrent
        scorers are serialised by each incident's version (retry on a stale read).
        """
        return self._assess(watch, touched, now, self.incidents.open_incidents(watch.id))

    def sweep(self, watch: Watch, now: datetime) -> list[Change]:
        """No new posts for this watch: its open incidents are re-read, and the quiet ones resolved."""
        open_now = self.incidents.open_incidents(watch.id)
        return self._assess(watch, {}, now, open_now) if open_now else []

    def _assess(
        self,
        watch: Watch,
        touched: Mapping[str, Sequence[TopPost | None]],
        now: datetime,
        open_now: list[Incident],
    ) -> list[Change]:
        baseline = self.normal(watch.id, now)
        normal = expected(baseline, now)
        readings = self.readings(watch.id, now, baseline)
        threshold = min(rule.min_surprise for rule in self.rules)
        surprising = any(
            r.surprise >= threshold and r.stats.mentions >= MIN_WINDOW_MENTIONS for r in readings
        )
        open_stories = {i.story_id: i for i in open_now}
        stories = sorted(open_stories)
        if surprising:
            # The stories busiest over the last hour, from the stored counts (not from this
            # batch, whose posts may be any part of the burst).
            counts = self.posts.story_counts(watch.id, window_start(now, max(WINDOWS_MINUTES)), now)
            busiest = sorted(counts, key=lambda s: (-counts[s], s))[:STORIES_PER_ASSESSMENT]
            stories += [s for s in busiest if s not in open_stories]
        evidence = {story: self.evidence(watch.id, story, readings, normal, now) for story in stories}
        if surprising and WHOLE_WATCH not in evidence and not any(e.dominant for e in evidence.values()):
            # A surge that no single story dominates (many small ones at once) is still a surge:
            # the watch as a whole is its story (its own counters: story ""). A dominant story
            # raises its own incident once it is big enough, and only it.
            evidence[WHOLE_WATCH] = self.evidence(watch.id, WHOLE_WATCH, readings, normal, now)
        changes = []
        for story, found in evidence.items():
            every = touched.values() if story == WHOLE_WATCH else [touched.get(story, ())]
            candidates = [p for posts in every for p in posts if p is not None]
            change = self._apply(watch, story, found, candidates, now, open_stories.get(story))
            if change is not None:
                changes.append(change)
        return changes

    def _apply(
        self,
        watch: Watch,
        story: str,
        evidence: Evidence,
        candidates: list[TopPost],
        now: datetime,
        current: Incident | None,
    ) -> Change | None:
        """`current`: the story's open incident as just read (re-read after a concurrent change)."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if attempt > 1:
                current = self.incidents.open_incident(watch.id, story)
            updated = assess(current, watch, story, evidence, candidates, now, self.rules, self.durations)
            if updated is None:
                return None
            try:
                if current is None:
                    self.incidents.create(updated)
                    logger.info("incident opened", incident_id=updated.incident_id, level=updated.level.value)
                    if self.events:
                        self.events.opened(updated)
                    return Change(self._escalate_if_needed(watch, updated, now), opened=True)
                resolution = None if evidence.active else quiet_resolution(updated, now, self.quiet_minutes)
                if resolution is not None:
                    return Change(self._resolve(updated, resolution), resolved=True)
                if _only_figures_moved(current, updated):
                    if _figures_due(current, updated, now):
                        self.incidents.refresh_figures(
                            updated.incident_id, updated.stats, updated.last_active_at, now
                        )
                    return None
                updated = self.incidents.update(updated)
                raised = updated.level > current.level
                if raised:
                    logger.info("level raised", incident_id=updated.incident_id, level=updated.level.value)
                    if self.events:
                        self.events.raised(updated)
                return Change(self._escalate_if_needed(watch, updated, now), raised=raised)
            except (IncidentAlreadyOpen, StaleIncident):
                logger.info("incident changed concurrently; re-reading", watch_id=watch.id, attempt=attempt)
        raise StaleIncident(
            f"watch {watch.id} story {story}: incident kept changing over {MAX_ATTEMPTS} attempts"
        )

    def _resolve(self, incident: Incident, resolution) -> Incident:
        resolved = self.incidents.resolve(incident, resolution)
        if incident.escalated_level is not None:
            self.workflow.stop(execution_name(incident, incident.escalated_level), cause=resolution.reason)
        logger.info("incident resolved", incident_id=incident.incident_id, reason=resolution.reason)
        if self.events:
            self.events.resolved(resolved)
        return resolved

    def _escalate_if_needed(self, watch: Watch, incident: Incident, now: datetime) -> Incident:
        if not incident.needs_escalation:
            return incident
        routing = Routing(ack_timeouts=self.ack_timeouts)
        policy = routing.policy(watch, watch.id)
        until = held_until(policy, incident.level, now)
        held = int((until - now).total_seconds()) if until else 0
        payload = escalation_input(incident, routing.ack_timeouts_for(policy), held)
        started = self.workflow.start(execution_name(incident), payload)
        logger.info(
            "escalation", incident_id=incident.incident_id, level=incident.level.value, started=started
        )
        if incident.escalated_level is not None:
            # The new level's escalation notifies its own tiers; the lower one must not go on in parallel.
            self.workflow.stop(
                execution_name(incident, incident.escalated_level),
                cause=f"superseded by the {incident.level.value} escalation",
            )
        return self.incidents.mark_escalated(incident, incident.level)


def _only_figures_moved(current: Incident, updated: Incident) -> bool:
    """Nothing but the figures (counters, activity time) changed, and no escalation is owed (a run
    that crashed before starting one). A post entering the top posts is written with the incident:
    it comes from this batch only."""
    fields = ("level", "status", "deadlines", "top_posts")
    return all(getattr(updated, f) == getattr(current, f) for f in fields) and not current.needs_escalation


def _figures_due(current: Incident, updated: Incident, now: datetime) -> bool:
    """The figures are written apart (IncidentRepository.refresh_figures) when they changed and the
    last write is STATS_REFRESH old: the counts are derived again from the stored counters next
    time. The last activity is not: an assessment that is not busy keeps the stored one, and the
    quiet resolve counts from it. So a story busy again STATS_REFRESH after the stored activity is
    written whenever the last write was: the stored activity is never more than that behind.
    (Throttled with the counts alone, a busy moment just after another write was lost for good:
    the CED evaluation resolved 19 stories before 6 quiet hours, one 3 hours early, and alerted the
    rest of 3 of them as new incidents: docs/detection.md, "Ending".)"""
    moved = (updated.stats, updated.last_active_at) != (current.stats, current.last_active_at)
    if not moved:
        return False
    stale_activity = (
        updated.last_active_at is not None
        and current.last_active_at is not None
        and updated.last_active_at - current.last_active_at >= STATS_REFRESH
    )
    return stale_activity or now - current.updated_at >= STATS_REFRESH
