"""A schedule tick: one fetch job per watch on the scheduled platform, into that platform's queue."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, Field

from crisiswatch.constants import FETCH_LOOKBACK_MINUTES
from crisiswatch.ports import Clock, Queue, WatchCatalogue
from crisiswatch.vocabulary import FetchJob


class UnknownPlatform(Exception):
    pass


class ScheduleEvent(BaseModel):
    """What each platform's EventBridge rule sends."""

    platform: str
    lookback_minutes: int = Field(default=FETCH_LOOKBACK_MINUTES, gt=0, le=24 * 60)


@dataclass(frozen=True)
class Scheduler:
    watches: WatchCatalogue
    fetch_queues: Mapping[str, Queue]  # one per platform
    clock: Clock

    def schedule(self, event: ScheduleEvent) -> int:
        """Queue the jobs; returns how many."""
        queue = self.fetch_queues.get(event.platform)
        if queue is None:
            raise UnknownPlatform(
                f"no fetch queue for platform {event.platform!r}: {sorted(self.fetch_queues)}"
            )
        now = self.clock.now()
        since = now - timedelta(minutes=event.lookback_minutes)
        jobs = [
            FetchJob(watch=watch, platform=event.platform, scheduled_at=now, since=since).model_dump_json()
            for watch in self.watches.list()
            if event.platform in watch.platforms
        ]
        return queue.send_all(jobs)
