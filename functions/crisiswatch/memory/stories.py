"""The story index (crisiswatch.ports.StoryIndex) in a dictionary, per watch."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from crisiswatch.constants import STORY_TTL_DAYS
from crisiswatch.ports import Clock


class MemoryStoryIndex:
    """Entries expire STORY_TTL_DAYS after they were first written. DynamoDB deletes expired items
    lazily (within days), so until then they are still read, and still win over a later writer.
    Without a clock this index never forgets, which is the same as a deletion that has not come
    yet; with one (the replay's simulated clock), an entry is gone from the moment it expires, as
    if the deletion came at once, so replays spanning weeks do not join stories across them."""

    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock
        self._entries: dict[str, dict[str, tuple[str, int]]] = {}  # watch -> key -> (value, expires_at)

    def lookup(self, watch_id: str, keys: Sequence[str]) -> dict[str, str]:
        entries = self._entries.get(watch_id, {})
        return {key: entries[key][0] for key in keys if key in entries and self._alive(entries[key])}

    def remember(self, watch_id: str, entries: Mapping[str, str], now: datetime) -> None:
        stored = self._entries.setdefault(watch_id, {})
        expires_at = int((now + timedelta(days=STORY_TTL_DAYS)).timestamp())
        for key, value in entries.items():
            if key not in stored or not self._alive(stored[key]):
                stored[key] = (value, expires_at)

    def _alive(self, entry: tuple[str, int]) -> bool:
        return self._clock is None or entry[1] > self._clock.now().timestamp()

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._entries.values())
