"""The watches as a warm function sees them: the catalogue read again at most every `max_age` seconds;
and how the catalogues read a stored watch (one unreadable watch does not hide the others)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from crisiswatch.observability import count_now, logger
from crisiswatch.ports import UnreadableWatch, WatchCatalogue
from crisiswatch.vocabulary import Watch

UNREADABLE_WATCHES_METRIC = "UnreadableWatches"


def stored_watch(watch_id: str, data: Any) -> Watch:
    """The watch stored under `watch_id` (a dict, or its JSON), or UnreadableWatch with the reason."""
    try:
        return (
            Watch.model_validate_json(data) if isinstance(data, str | bytes) else Watch.model_validate(data)
        )
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "watch"
        raise UnreadableWatch(watch_id, f"{where}: {first['msg']}") from e


def readable_watches(stored: Iterable[tuple[str, Any]]) -> list[Watch]:
    """The watches among `stored` (id, data) that validate; each one that does not is skipped with a
    warning naming it, and counted (one bad item must not stop the scheduler, scorer and API)."""
    watches, skipped = [], 0
    for watch_id, data in stored:
        try:
            watches.append(stored_watch(watch_id, data))
        except UnreadableWatch as e:
            skipped += 1
            logger.warning("unreadable watch skipped", watch_id=watch_id, reason=e.reason)
    if skipped:
        count_now(UNREADABLE_WATCHES_METRIC, skipped)
    return watches


class WatchCache:
    """The watches as a warm Lambda sees them: read again at most every `max_age` seconds."""

    def __init__(
        self, store: WatchCatalogue, max_age: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self._store = store
        self._max_age = max_age
        self._clock = clock
        self._watches: dict[str, Watch] | None = None
        self._read_at = 0.0
        self._one: dict[str, tuple[float, Watch]] = {}  # watch id -> (read at, watch), for get

    def all(self) -> dict[str, Watch]:
        if self._watches is None or self._clock() - self._read_at > self._max_age:
            self._watches = {w.id: w for w in self._store.list()}
            self._read_at = self._clock()
        return self._watches

    def get(self, watch_id: str) -> Watch:
        """One watch, read alone (the others are not read) and again at most every `max_age`
        seconds; what the store raises (WatchNotFound, an unreadable item) is not cached."""
        hit = self._one.get(watch_id)
        if hit is None or self._clock() - hit[0] > self._max_age:
            hit = self._one[watch_id] = (self._clock(), self._store.get(watch_id))
        return hit[1]
