"""The watches as a warm function sees them: the catalogue read again at most every `max_age` seconds."""

from __future__ import annotations

import time
from collections.abc import Callable

from crisiswatch.ports import WatchCatalogue
from crisiswatch.vocabulary import Watch


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
