"""Posts and counters, incidents, cursors and watches, kept in dictionaries.

Stored values are plain JSON (what the DynamoDB adapters write and read back), so what a caller
gets is a copy, never an object another caller can change.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from crisiswatch.incidents.policy import WindowStats, hour_bucket
from crisiswatch.incidents.record import APPEND_ONLY, Acknowledgement, Incident, Notification, Status
from crisiswatch.ports import (
    IncidentAlreadyOpen,
    IncidentNotFound,
    IncidentResolved,
    StaleIncident,
    WatchExists,
    WatchNotFound,
)
from crisiswatch.vocabulary import Level, Post, Score, Watch


def _copy(value: Any) -> Any:
    return json.loads(json.dumps(value))


class MemoryPostRepository:
    def __init__(self) -> None:
        self._posts: dict[str, dict[str, Any]] = {}
        self._buckets: dict[str, dict[str, WindowStats]] = defaultdict(dict)  # watch -> hour -> counts

    def save(self, post: Post, score: Score, counts: WindowStats, now: datetime) -> bool:
        item = self._posts.get(post.key)
        if item is not None and post.watch_id in item["watch_ids"]:
            engagement = post.engagement.model_dump(mode="json")
            if item["post"]["engagement"] != engagement:
                item["previous_engagement"] = item["post"]["engagement"]
                item["previous_seen_at"] = item["seen_at"]
                item["post"]["engagement"] = engagement
                item["seen_at"] = now.isoformat()
            return False
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
        }
        item["watch_ids"].add(post.watch_id)
        bucket = hour_bucket(min(post.created_at, now))
        buckets = self._buckets[post.watch_id]
        buckets[bucket] = buckets.get(bucket, WindowStats()) + counts
        return True

    def window(self, watch_id: str, now: datetime, hours: int) -> WindowStats:
        buckets = self._buckets.get(watch_id, {})
        total = WindowStats()
        for hour in {hour_bucket(now - timedelta(hours=back)) for back in range(hours)}:
            total = total + buckets.get(hour, WindowStats())
        return WindowStats(
            total.mentions, total.negatives, total.high_risk, round(total.risk_sum, 4), total.reach
        )

    def get(self, post_key: str) -> dict[str, Any] | None:
        item = self._posts.get(post_key)
        if item is None:
            return None
        watch_ids = item["watch_ids"]
        return _copy({k: v for k, v in item.items() if k != "watch_ids"}) | {"watch_ids": set(watch_ids)}

    def __len__(self) -> int:
        return len(self._posts)


class MemoryIncidentRepository:
    def __init__(self) -> None:
        self._incidents: dict[str, dict[str, Any]] = {}
        self._tokens: dict[str, dict[str, str]] = {}
        self._open: dict[str, str] = {}  # watch id -> its open incident

    def _stored(self, incident_id: str) -> dict[str, Any]:
        try:
            return self._incidents[incident_id]
        except KeyError:
            raise IncidentNotFound(incident_id) from None

    def get(self, incident_id: str) -> Incident:
        return Incident.model_validate(self._stored(incident_id))

    def open_incident(self, watch_id: str) -> Incident | None:
        incident_id = self._open.get(watch_id)
        return None if incident_id is None else self.get(incident_id)

    def list(
        self, status: Status, limit: int, cursor: str | None = None
    ) -> tuple[list[Incident], str | None]:
        keys = sorted(
            ((i["opened_at"], i["incident_id"]) for i in self._incidents.values() if i["status"] == status),
            reverse=True,
        )
        if cursor:
            after = tuple(cursor.split("|", 1))
            keys = [key for key in keys if key < after]
        page = keys[:limit]
        # Like a DynamoDB query: a full page says where it stopped, even when nothing follows.
        next_cursor = "|".join(page[-1]) if len(page) == limit else None
        return [self.get(incident_id) for _, incident_id in page], next_cursor

    def create(self, incident: Incident) -> None:
        if incident.watch_id in self._open or incident.incident_id in self._incidents:
            raise IncidentAlreadyOpen(incident.watch_id)
        self._incidents[incident.incident_id] = _dump(incident)
        self._tokens[incident.incident_id] = {}
        self._open[incident.watch_id] = incident.incident_id

    def update(self, incident: Incident) -> Incident:
        stored = self._incidents.get(incident.incident_id)
        if stored is None or stored.get("version") != incident.version:
            raise StaleIncident(incident.incident_id)
        new = incident.model_copy(update={"version": incident.version + 1})
        # Like the DynamoDB update: every field but the append-only lists, which keep what was
        # appended since the caller's read.
        kept = {name: stored[name] for name in APPEND_ONLY if name in stored}
        self._incidents[incident.incident_id] = _dump(new) | kept
        return new

    def record_notification(
        self, incident_id: str, notification: Notification, wait_token: str | None
    ) -> None:
        stored = self._stored(incident_id)
        stored["notifications"] = [*stored.get("notifications", []), notification.model_dump(mode="json")]
        if wait_token:
            self._tokens[incident_id][hashlib.sha256(wait_token.encode()).hexdigest()[:32]] = wait_token

    def acknowledge(self, incident_id: str, ack: Acknowledgement) -> tuple[Incident, list[str]]:
        stored = self._stored(incident_id)
        if stored["status"] == "resolved":
            raise IncidentResolved(incident_id)
        stored["status"] = "acknowledged"
        stored["acknowledgements"] = [*stored.get("acknowledgements", []), ack.model_dump(mode="json")]
        stored["version"] = stored.get("version", 0) + 1
        tokens = list(self._tokens[incident_id].values())
        self._tokens[incident_id] = {}
        return self.get(incident_id), tokens

    def mark_escalated(self, incident: Incident, level: Level) -> Incident:
        return self.update(incident.model_copy(update={"escalated_level": level}))


def _dump(incident: Incident) -> dict[str, Any]:
    return {k: v for k, v in incident.model_dump(mode="json").items() if v is not None}


class MemoryCursorStore:
    def __init__(self) -> None:
        self._marks: dict[tuple[str, str], datetime] = {}

    def get(self, watch_id: str, platform: str) -> datetime | None:
        return self._marks.get((watch_id, platform))

    def advance(self, watch_id: str, platform: str, high_water: datetime, now: datetime) -> bool:
        current = self._marks.get((watch_id, platform))
        if current is not None and current >= high_water:
            return False
        self._marks[(watch_id, platform)] = high_water
        return True


class MemoryWatchCatalogue:
    def __init__(self, watches: list[Watch] | None = None) -> None:
        self._watches: dict[str, str] = {}
        for watch in watches or []:
            self._watches[watch.id] = watch.model_dump_json()

    def list(self) -> list[Watch]:
        return [Watch.model_validate_json(self._watches[key]) for key in sorted(self._watches)]

    def get(self, watch_id: str) -> Watch:
        try:
            return Watch.model_validate_json(self._watches[watch_id])
        except KeyError:
            raise WatchNotFound(watch_id) from None

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
