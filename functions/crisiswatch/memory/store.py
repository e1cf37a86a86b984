"""Posts and counters, incidents, cursors and watches, kept in dictionaries.

Stored values are plain JSON (what the DynamoDB adapters write and read back), so what a caller
gets is a copy, never an object another caller can change.
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from crisiswatch.incidents.baseline import Baseline
from crisiswatch.incidents.policy import BUCKET_MINUTES, WindowStats, bucket_start, engagement_growth
from crisiswatch.incidents.record import (
    WRITTEN_APART,
    Acknowledgement,
    Incident,
    IncidentStats,
    Notification,
    Resolution,
    Status,
)
from crisiswatch.ingest.cursor import FetchCursor
from crisiswatch.ports import (
    IncidentAlreadyOpen,
    IncidentNotFound,
    IncidentResolved,
    Saved,
    ScoredPost,
    StaleIncident,
    WatchExists,
    WatchNotFound,
)
from crisiswatch.vocabulary import Level, Post, Score, Watch
from crisiswatch.watches import readable_watches, stored_watch

BUCKET = timedelta(minutes=BUCKET_MINUTES)


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


class MemoryPostRepository:
    def __init__(self) -> None:
        self._posts: dict[str, dict[str, Any]] = {}
        # series (watch id, or watch id + story) -> bucket start -> counts, and the starts in order
        self._buckets: dict[tuple[str, str], dict[datetime, WindowStats]] = defaultdict(dict)
        self._starts: dict[tuple[str, str], list[datetime]] = defaultdict(list)
        self._stories: dict[tuple[str, datetime], dict[str, int]] = defaultdict(
            dict
        )  # watch bucket -> story -> posts

    def _add(self, watch_id: str, story: str, moment: datetime, counts: WindowStats) -> None:
        start = bucket_start(moment)
        if story and counts.mentions:
            tally = self._stories[(watch_id, start)]
            tally[story] = tally.get(story, 0) + counts.mentions
        for series in [(watch_id, "")] + ([(watch_id, story)] if story else []):
            buckets = self._buckets[series]
            current = buckets.get(start)
            if current is None:
                buckets[start] = counts
                insort(self._starts[series], start)
            else:
                buckets[start] = current + counts

    def save_all(self, batch: Sequence[ScoredPost], now: datetime) -> list[Saved]:
        return [self._save(item.post, item.score, item.counts, now, item.story) for item in batch]

    def _save(self, post: Post, score: Score, counts: WindowStats, now: datetime, story: str) -> Saved:
        item = self._posts.get(post.key)
        if item is not None and post.watch_id in item["watch_ids"]:
            engagement = post.engagement.model_dump(mode="json")
            growth = 0
            if item["post"]["engagement"] != engagement:
                growth = engagement_growth(item["post"]["engagement"], engagement)
                item["previous_engagement"] = item["post"]["engagement"]
                item["previous_seen_at"] = item["seen_at"]
                item["post"]["engagement"] = engagement
                item["seen_at"] = now.isoformat()
                if growth:
                    self._add(post.watch_id, story, now, WindowStats(engagement=growth))
            return Saved(stored=False, growth=growth)
        if item is None:
            item = self._posts[post.key] = {
                "pk": post.key,
                "post": post.model_dump(mode="json", exclude={"watch_id", "matched_terms"}),
                "watch_ids": set(),
            }
        item |= {"created_at": post.created_at.isoformat(), "seen_at": now.isoformat()}
        item[f"score#{post.watch_id}"] = {
            **score.model_dump(mode="json"),
            "matched_terms": post.matched_terms,
            **({"story": story} if story else {}),
        }
        item["watch_ids"].add(post.watch_id)
        self._add(post.watch_id, story, min(post.created_at, now), counts)
        return Saved(stored=True)

    def add_counts(self, watch_id: str, moment: datetime, counts: WindowStats, story: str = "") -> None:
        """Counters without posts: what `save_all` would have added for posts not kept one by one (the
        detection evaluation's warm-up days). Not a port method: nothing deployed does this."""
        self._add(watch_id, story, moment, counts)

    def buckets(
        self, watch_id: str, start: datetime, end: datetime, story: str = ""
    ) -> list[tuple[datetime, WindowStats]]:
        series = (watch_id, story)
        buckets, starts = self._buckets.get(series, {}), self._starts.get(series, [])
        found = starts[bisect_left(starts, bucket_start(start)) : bisect_right(starts, bucket_start(end))]
        return [(moment, buckets[moment]) for moment in found]

    def story_counts(self, watch_id: str, start: datetime, end: datetime) -> dict[str, int]:
        found: dict[str, int] = {}
        for moment, _ in self.buckets(watch_id, start, end):
            for story, n in self._stories.get((watch_id, moment), {}).items():
                found[story] = found.get(story, 0) + n
        return found

    def stories(self, watch_id: str, keys: Sequence[str]) -> dict[str, str]:
        found = {}
        for key in keys:
            story = self._posts.get(key, {}).get(f"score#{watch_id}", {}).get("story")
            if story:
                found[key] = story
        return found

    def get(self, post_key: str) -> dict[str, Any] | None:
        item = self._posts.get(post_key)
        if item is None:
            return None
        watch_ids = item["watch_ids"]
        return _copy({k: v for k, v in item.items() if k != "watch_ids"}) | {"watch_ids": set(watch_ids)}

    def __len__(self) -> int:
        return len(self._posts)


class MemoryBaselineStore:
    """Baselines are frozen models that folding replaces, never changes: kept as they are."""

    def __init__(self) -> None:
        self._baselines: dict[str, Baseline] = {}

    def get(self, watch_id: str) -> Baseline | None:
        return self._baselines.get(watch_id)

    def put(self, watch_id: str, baseline: Baseline, previous: datetime | None) -> bool:
        stored = self.get(watch_id)
        if (stored.through if stored else None) != previous:
            return False
        self._baselines[watch_id] = baseline
        return True


class MemoryIncidentRepository:
    """Incidents kept as frozen models (never as objects a caller could change in place: every
    change makes a new model; the lists inside are never mutated by the domain), so a read costs
    no validation: the evaluation reads a watch's incidents on every batch."""

    def __init__(self) -> None:
        self._incidents: dict[str, Incident] = {}
        self._tokens: dict[str, dict[str, str]] = {}
        self._open: dict[tuple[str, str], str] = {}  # (watch id, story id) -> its open incident
        self._sending: dict[str, set[str]] = {}  # incident id -> notification keys claimed, not recorded

    def get(self, incident_id: str) -> Incident:
        try:
            return self._incidents[incident_id]
        except KeyError:
            raise IncidentNotFound(incident_id) from None

    def open_incident(self, watch_id: str, story_id: str = "") -> Incident | None:
        incident_id = self._open.get((watch_id, story_id))
        return None if incident_id is None else self.get(incident_id)

    def open_incidents(self, watch_id: str) -> list[Incident]:
        return [self.get(i) for (watch, _), i in sorted(self._open.items()) if watch == watch_id]

    def list(
        self, status: Status, limit: int, cursor: str | None = None
    ) -> tuple[list[Incident], str | None]:
        keys = sorted(
            ((_iso(i.opened_at), i.incident_id) for i in self._incidents.values() if i.status == status),
            reverse=True,
        )
        if cursor:
            after = tuple(cursor.split("|", 1))
            keys = [key for key in keys if key < after]
        page = keys[:limit]
        # Like a DynamoDB query: a full page says where it stopped, even when nothing follows.
        next_cursor = "|".join(page[-1]) if len(page) == limit else None
        return [self.get(incident_id) for _, incident_id in page], next_cursor

    def refresh_figures(
        self, incident_id: str, stats: IncidentStats, last_active_at: datetime | None, at: datetime
    ) -> None:
        stored = self._incidents.get(incident_id)
        if stored is None or at <= stored.updated_at:
            return
        if last_active_at and stored.last_active_at and last_active_at < stored.last_active_at:
            return  # never an older busy moment: these figures wait for the next refresh
        self._incidents[incident_id] = stored.model_copy(
            update={
                "stats": stats,
                "last_active_at": last_active_at or stored.last_active_at,
                "updated_at": at,
            }
        )

    def create(self, incident: Incident) -> None:
        pointer = (incident.watch_id, incident.story_id)
        if pointer in self._open or incident.incident_id in self._incidents:
            raise IncidentAlreadyOpen(incident.watch_id)
        self._incidents[incident.incident_id] = incident
        self._tokens[incident.incident_id] = {}
        self._open[pointer] = incident.incident_id

    def update(self, incident: Incident) -> Incident:
        stored = self._incidents.get(incident.incident_id)
        if stored is None or stored.version != incident.version:
            raise StaleIncident(incident.incident_id)
        # Like the DynamoDB update: every field but the append-only lists, which keep what was
        # appended since the caller's read.
        kept = {name: getattr(stored, name) for name in WRITTEN_APART}
        new = incident.model_copy(update={"version": incident.version + 1} | kept)
        self._incidents[incident.incident_id] = new
        return new

    def record_notification(
        self, incident_id: str, notification: Notification, wait_token: str | None
    ) -> bool:
        stored = self.get(incident_id)
        if wait_token:
            self._tokens[incident_id][hashlib.sha256(wait_token.encode()).hexdigest()[:32]] = wait_token
        if notification.key and any(n.key == notification.key for n in stored.notifications):
            return False
        self._sending.get(incident_id, set()).discard(notification.key)
        self._incidents[incident_id] = stored.model_copy(
            update={"notifications": [*stored.notifications, notification]}
        )
        return True

    def claim_notification(self, incident_id: str, key: str) -> str:
        stored = self.get(incident_id)
        if any(n.key == key for n in stored.notifications):
            return "sent"
        sending = self._sending.setdefault(incident_id, set())
        if key in sending:
            return "in_flight"
        sending.add(key)
        return "claimed"

    def release_notification(self, incident_id: str, key: str) -> None:
        self._sending.get(incident_id, set()).discard(key)

    def remember_wait(self, incident_id: str, wait_token: str) -> None:
        self.get(incident_id)
        self._tokens[incident_id][hashlib.sha256(wait_token.encode()).hexdigest()[:32]] = wait_token

    def set_clocks(self, incident_id: str, clocks, statements, expected: int) -> Incident:
        stored = self.get(incident_id)
        if stored.clocks_version != expected:
            raise StaleIncident(incident_id)
        new = stored.model_copy(
            update={"clocks": list(clocks), "statements": list(statements), "clocks_version": expected + 1}
        )
        self._incidents[incident_id] = new
        return new

    def acknowledge(self, incident_id: str, ack: Acknowledgement) -> tuple[Incident, list[str]]:
        stored = self.get(incident_id)
        if stored.status == "resolved":
            raise IncidentResolved(incident_id)
        new = stored.model_copy(
            update={
                "status": "acknowledged",
                "acknowledgements": [*stored.acknowledgements, ack],
                "version": stored.version + 1,
            }
        )
        self._incidents[incident_id] = new
        tokens = list(self._tokens[incident_id].values())
        self._tokens[incident_id] = {}
        return new, tokens

    def mark_escalated(self, incident: Incident, level: Level) -> Incident:
        return self.update(incident.model_copy(update={"escalated_level": level}))

    def resolve(self, incident: Incident, resolution: Resolution) -> Incident:
        """Like the DynamoDB adapter: the stored incident gets its status, resolution and time;
        nothing else of `incident` is written."""
        stored = self._incidents.get(incident.incident_id)
        if stored is None or stored.version != incident.version:
            raise StaleIncident(incident.incident_id)
        if stored.busy_after(incident.last_active_at):
            raise StaleIncident(incident.incident_id)  # a busy moment stored since it was read
        resolved = stored.model_copy(
            update={
                "status": "resolved",
                "resolution": resolution,
                "updated_at": resolution.at,
                "version": stored.version + 1,
            }
        )
        self._incidents[incident.incident_id] = resolved
        self._open.pop((incident.watch_id, incident.story_id), None)
        self._tokens[incident.incident_id] = {}
        return resolved


def _iso(moment: datetime) -> str:
    return moment.isoformat()


class MemoryCursorStore:
    def __init__(self) -> None:
        self._cursors: dict[tuple[str, str], FetchCursor] = {}

    def get(self, watch_id: str, platform: str, fresh: bool = False) -> FetchCursor:
        return self._cursors.get((watch_id, platform), FetchCursor())

    def save(self, watch_id: str, platform: str, cursor: FetchCursor, now: datetime) -> bool:
        if self._cursors.get((watch_id, platform), FetchCursor()).version != cursor.version:
            return False
        self._cursors[(watch_id, platform)] = replace(cursor, version=cursor.version + 1)
        return True


class MemoryWatchCatalogue:
    def __init__(self, watches: list[Watch] | None = None) -> None:
        self._watches: dict[str, str] = {}
        for watch in watches or []:
            self._watches[watch.id] = watch.model_dump_json()

    def list(self) -> list[Watch]:
        return readable_watches((key, self._watches[key]) for key in sorted(self._watches))

    def count(self) -> int:
        return len(self._watches)

    def get(self, watch_id: str) -> Watch:
        if watch_id not in self._watches:
            raise WatchNotFound(watch_id)
        return stored_watch(watch_id, self._watches[watch_id])

    def put_stored(self, watch_id: str, data: str) -> None:
        """Store `data` (JSON) as the watch `watch_id` unvalidated, as a hand-edited table would."""
        self._watches[watch_id] = data

    def create(self, watch: Watch, now: datetime, by: str = "") -> None:
        if watch.id in self._watches:
            raise WatchExists(watch.id)
        self._watches[watch.id] = watch.model_dump_json()

    def replace(self, watch: Watch, now: datetime, by: str = "") -> None:
        if watch.id not in self._watches:
            raise WatchNotFound(watch.id)
        self._watches[watch.id] = watch.model_dump_json()

    def delete(self, watch_id: str) -> None:
        if self._watches.pop(watch_id, None) is None:
            raise WatchNotFound(watch_id)
