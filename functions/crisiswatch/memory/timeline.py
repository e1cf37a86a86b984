"""The incident timeline (crisiswatch.ports.Timeline) in dictionaries, ordered as DynamoDB orders it."""

from __future__ import annotations

import json
from bisect import bisect_right, insort
from collections.abc import Sequence
from typing import Any

from crisiswatch.incidents.record import TimelineEvent
from crisiswatch.incidents.timeline import check_limit, decode_cursor, encode_cursor, sort_key


class MemoryTimeline:
    """Per incident: event key -> its sort key (the first append of a key wins, whatever `at` a
    retry brings), sort key -> the event as plain JSON, and the sort keys in order."""

    def __init__(self) -> None:
        self._keys: dict[str, dict[str, str]] = {}
        self._events: dict[str, dict[str, dict[str, Any]]] = {}
        self._order: dict[str, list[str]] = {}

    def append(self, incident_id: str, events: Sequence[TimelineEvent]) -> None:
        keys = self._keys.setdefault(incident_id, {})
        stored = self._events.setdefault(incident_id, {})
        order = self._order.setdefault(incident_id, [])
        keyed = [(event, sort_key(event)) for event in events]  # refuse a bad event before storing any
        for event, sk in keyed:
            if event.key in keys:
                continue
            keys[event.key] = sk
            stored[sk] = json.loads(event.model_dump_json())
            insort(order, sk)

    def page(
        self, incident_id: str, limit: int, cursor: str | None = None
    ) -> tuple[list[TimelineEvent], str | None]:
        check_limit(limit)
        after = decode_cursor(incident_id, cursor) if cursor is not None else None
        order = self._order.get(incident_id, [])
        start = bisect_right(order, after) if after is not None else 0
        found = order[start : start + limit]
        events = [TimelineEvent.model_validate(self._events[incident_id][sk]) for sk in found]
        more = start + limit < len(order)
        return events, encode_cursor(incident_id, found[-1]) if more else None
