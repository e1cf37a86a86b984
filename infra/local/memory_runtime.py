"""The memory runtime: the functions' services on the in-memory adapters and one simulated clock.

Wired like the Lambdas wire them (crisiswatch.handlers.*.build), with `crisiswatch.memory` instead
of `crisiswatch.aws`: scheduler -> one fetch queue per platform -> fetcher (the real adapters,
paging and cursors, against the platform simulator through `InProcessClient`) -> posts queue ->
scorer (`Intake`: score, store once, assess) -> escalation (`MemoryWorkflow`: notify, wait for an
acknowledgement on the simulated clock, escalate) -> notifier -> alerts. (The API's routes run on
these adapters in tests/unit/handlers.)
Queues deliver as Lambda's SQS poller does: batches of the template's sizes, a failed record
retried, and moved to a dead-letter list after `DLQ_MAX_RECEIVE_COUNT` receives.

No AWS, no sockets, no wall-clock waits: what the replay and the detection evaluation run on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from aws_lambda_powertools import Logger

from crisiswatch.clock import SimulatedClock
from crisiswatch.constants import (
    DEFAULT_ACK_TIMEOUT_SECONDS,
    DLQ_MAX_RECEIVE_COUNT,
    FETCH_JOBS_BATCH_SIZE,
    POSTS_BATCH_SIZE,
)
from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.escalation.response import IncidentLog
from crisiswatch.escalation.routing import Routing
from crisiswatch.escalation.service import Notifier
from crisiswatch.incidents.intake import Intake
from crisiswatch.incidents.policy import rules_from_overrides
from crisiswatch.incidents.service import Detector
from crisiswatch.ingest.credentials import PlatformCredentials
from crisiswatch.ingest.fetching import Fetcher
from crisiswatch.ingest.http import JsonClient
from crisiswatch.ingest.scheduling import ScheduleEvent, Scheduler
from crisiswatch.memory.held import MemoryHeldAlerts
from crisiswatch.memory.messaging import MemoryAlertPublisher, MemoryQueue, MemorySecrets, Message
from crisiswatch.memory.store import (
    MemoryBaselineStore,
    MemoryCursorStore,
    MemoryIncidentRepository,
    MemoryPostRepository,
    MemoryWatchCatalogue,
)
from crisiswatch.memory.stories import MemoryStoryIndex
from crisiswatch.memory.timeline import MemoryTimeline
from crisiswatch.memory.timers import MemoryTimers
from crisiswatch.memory.workflow import MemoryWorkflow
from crisiswatch.vocabulary import Watch
from crisiswatch.watches import WatchCache

logger = Logger(child=True)

FETCH_SECONDS = 60  # what the fetcher's Lambda timeout would leave it (constants.FUNCTIONS)


@dataclass
class MemoryScoring:
    """The scorer's service (`Intake`) on in-memory adapters, as crisiswatch.handlers.scorer wires
    it on AWS: what the memory runtime and the detection evaluation run."""

    intake: Intake
    posts: MemoryPostRepository
    incidents: MemoryIncidentRepository
    baselines: MemoryBaselineStore
    stories: MemoryStoryIndex
    catalogue: MemoryWatchCatalogue
    workflow: MemoryWorkflow
    timeline: MemoryTimeline
    timers: MemoryTimers
    notifier: Notifier | None  # None: escalations run and nothing is sent (the evaluation)


def memory_intake(
    watches: Sequence[Watch],
    clock: SimulatedClock,
    *,
    alerts: MemoryAlertPublisher | None = None,
    level_thresholds: Mapping[str, Mapping[str, float]] | None = None,
    ack_timeouts: Mapping[str, int] | None = None,
    brand_terms: Mapping[str, tuple[str, ...]] | None = None,
    scorers: dict | None = None,
    routing: Routing | None = None,
    durations: ClockDurations | None = None,
) -> MemoryScoring:
    """Escalations notify through `alerts` (none: they run, and nothing is published).
    `brand_terms` overrides a watch's (the evaluation's watches have none to look for);
    `scorers` is shared by every intake given the same mapping (and so are their text caches)."""
    posts, incidents = MemoryPostRepository(), MemoryIncidentRepository()
    baselines, stories = MemoryBaselineStore(), MemoryStoryIndex()
    catalogue = MemoryWatchCatalogue(list(watches))
    timeline, timers, durations = MemoryTimeline(), MemoryTimers(clock), durations or ClockDurations()
    notifier = None
    if alerts is not None:
        notifier = Notifier(
            incidents,
            alerts,
            clock,
            watches=catalogue,
            timeline=timeline,
            timers=timers,
            held=MemoryHeldAlerts(),
            routing=routing or Routing(ack_timeouts=dict(ack_timeouts or DEFAULT_ACK_TIMEOUT_SECONDS)),
            durations=durations,
        )
    workflow = MemoryWorkflow(notifier.notify if notifier else (lambda request: None), clock)
    detector = Detector(
        posts=posts,
        baselines=baselines,
        incidents=incidents,
        workflow=workflow,
        rules=rules_from_overrides(level_thresholds or {}),
        ack_timeouts=dict(ack_timeouts or DEFAULT_ACK_TIMEOUT_SECONDS),
        events=IncidentLog(timeline, incidents, timers),
        durations=durations,
    )
    intake = Intake(watches=WatchCache(catalogue, max_age=0), detector=detector, stories=stories, clock=clock)
    if scorers is not None:
        intake.scorers = scorers
    for watch in watches:
        if brand_terms and watch.id in brand_terms:
            intake.use_brand_terms(watch, brand_terms[watch.id])
    return MemoryScoring(
        intake, posts, incidents, baselines, stories, catalogue, workflow, timeline, timers, notifier
    )


@dataclass
class Drained:
    delivered: int = 0
    failed: int = 0
    dead_lettered: int = 0


@dataclass
class MemoryRuntime:
    watches: Sequence[Watch]
    base_urls: Mapping[str, str]
    http: JsonClient
    clock: SimulatedClock
    ack_timeouts: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_ACK_TIMEOUT_SECONDS))
    level_thresholds: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    routing: Routing | None = None  # who is told (None: nobody on any tier)
    durations: ClockDurations = field(default_factory=ClockDurations)

    def __post_init__(self) -> None:
        clock = self.clock
        self.alerts = MemoryAlertPublisher()
        scoring = memory_intake(
            self.watches,
            clock,
            alerts=self.alerts,
            level_thresholds=self.level_thresholds,
            ack_timeouts=self.ack_timeouts,
            routing=self.routing,
            durations=self.durations,
        )
        self.posts, self.incidents, self.catalogue = scoring.posts, scoring.incidents, scoring.catalogue
        self.workflow, self.intake = scoring.workflow, scoring.intake
        self.timeline, self.timers, self.notifier = scoring.timeline, scoring.timers, scoring.notifier
        self.cursors = MemoryCursorStore()
        self.fetch_queues = {platform: MemoryQueue(f"fetch-{platform}") for platform in self.base_urls}
        self.posts_queue = MemoryQueue("posts")
        self.dead_letters: dict[str, list[str]] = {}
        self.seconds: dict[str, float] = {}  # per queue: the consumer's wall time so far
        self.scheduler = Scheduler(self.catalogue, self.fetch_queues, clock)
        self.fetcher = Fetcher(
            cursors=self.cursors,
            posts=self.posts_queue,
            base_urls=self.base_urls,
            credentials=PlatformCredentials(MemorySecrets(), {}),  # the simulator needs none
            http=lambda seconds_left: self.http,
            clock=clock,
            fetch_queues=self.fetch_queues,
        )

    # -- event sources -------------------------------------------------------------------------

    def tick(self, platform: str) -> tuple[Drained, Drained]:
        """One schedule tick of `platform`, run to the end: (fetch jobs, posts) drained."""
        self.scheduler.schedule(ScheduleEvent(platform=platform))
        fetched = self.pump_fetcher(platform)
        scored = self.pump_scorer()
        self.workflow.advance()
        self.fire_timers()
        return fetched, scored

    def fire_timers(self) -> int:
        """Hand every due timer to the notifier (as EventBridge Scheduler invokes it on AWS); one that
        fails is set again a minute later (Lambda's asynchronous retries)."""
        fired = 0
        for name, payload in self.timers.due():
            try:
                self.notifier.on_timer(payload)
                fired += 1
            except Exception as e:  # noqa: BLE001 - as on Lambda: logged, retried later
                logger.warning("timer failed", timer=name, error=type(e).__name__)
                self.timers.set(name, self.clock.now() + timedelta(minutes=1), payload)
        return fired

    def pump_fetcher(self, platform: str) -> Drained:
        def run(messages: list[Message]) -> set[int]:
            failed = set()
            for i, message in enumerate(messages):
                try:
                    self.fetcher.run_message(message.body, FETCH_SECONDS)
                except Exception:  # logged by the fetcher; the queue retries it
                    failed.add(i)
            return failed

        return self._drain(self.fetch_queues[platform], FETCH_JOBS_BATCH_SIZE, run)

    def pump_scorer(self) -> Drained:
        def run(messages: list[Message]) -> set[int]:
            batch = self.intake.batch(message.body for message in messages)
            failed = set()
            for i, message in enumerate(messages):
                try:
                    batch.add_message(message.body, redelivered=message.receives > 1, ref=str(i))
                except Exception:  # this record fails alone (partial batch response)
                    failed.add(i)
            batch.finish()  # a watch whose assessment fails: its messages are retried, as on AWS
            return failed | {int(ref) for ref in batch.retry}

        return self._drain(self.posts_queue, POSTS_BATCH_SIZE, run)

    def _drain(
        self, queue: MemoryQueue, batch_size: int, run: Callable[[list[Message]], set[int]]
    ) -> Drained:
        drained, started = Drained(), time.perf_counter()
        while messages := queue.receive(batch_size):
            failed = run(messages)
            for i, message in enumerate(messages):
                if i not in failed:
                    drained.delivered += 1
                elif message.receives >= DLQ_MAX_RECEIVE_COUNT:
                    self.dead_letters.setdefault(queue.name, []).append(message.body)
                    drained.failed += 1
                    drained.dead_lettered += 1
                else:
                    drained.failed += 1
                    queue.retry(message)
        self.seconds[queue.name] = self.seconds.get(queue.name, 0.0) + time.perf_counter() - started
        return drained
