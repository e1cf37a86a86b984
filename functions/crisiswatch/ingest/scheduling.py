"""A schedule tick: one fetch job per watch on the scheduled platform, into that platform's queue.

Each watch's job is sent on its own: one that cannot be queued (too large for SQS, refused) is
logged and counted with its reason, and the other watches' jobs still go out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field

from crisiswatch.constants import FETCH_LOOKBACK_MINUTES, SERVICE
from crisiswatch.ports import Clock, Queue, QueueSendError, WatchCatalogue
from crisiswatch.vocabulary import FetchJob

logger = Logger(service=SERVICE, child=True)

# Metric names of a tick: jobs queued, and watches whose job was not.
JOBS_SCHEDULED, JOBS_FAILED = "FetchJobsScheduled", "FetchJobsFailed"


class UnknownPlatform(Exception):
    pass


class ScheduleEvent(BaseModel):
    """What each platform's EventBridge rule sends."""

    platform: str
    lookback_minutes: int = Field(default=FETCH_LOOKBACK_MINUTES, gt=0, le=24 * 60)


@dataclass(frozen=True)
class Scheduled:
    """What one tick did: how many jobs were queued, and the watches whose job was not."""

    queued: int
    failed: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """The tick's metrics, by name."""
        return {JOBS_SCHEDULED: self.queued, JOBS_FAILED: len(self.failed)}


@dataclass(frozen=True)
class Scheduler:
    watches: WatchCatalogue
    fetch_queues: Mapping[str, Queue]  # one per platform
    clock: Clock

    def schedule(self, event: ScheduleEvent) -> Scheduled:
        """Queue one job per watch of the platform, each on its own (see the module)."""
        queue = self.fetch_queues.get(event.platform)
        if queue is None:
            raise UnknownPlatform(
                f"no fetch queue for platform {event.platform!r}: {sorted(self.fetch_queues)}"
            )
        now = self.clock.now()
        since = now - timedelta(minutes=event.lookback_minutes)
        queued, failed = 0, []
        for watch in self.watches.list():
            if event.platform not in watch.platforms:
                continue
            job = FetchJob(watch=watch, platform=event.platform, scheduled_at=now, since=since)
            try:
                queued += queue.send_all([job.model_dump_json()])
            except QueueSendError as e:  # this watch's job only: the others still go out
                logger.error(
                    "fetch job not queued",
                    watch_id=watch.id,
                    platform=event.platform,
                    error=type(e).__name__,
                    reason=str(e),
                )
                failed.append(watch.id)
        return Scheduled(queued, failed)
