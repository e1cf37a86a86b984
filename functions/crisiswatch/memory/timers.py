"""Named one-time wake-ups (crisiswatch.ports.Timers) in a dictionary, due on the injected clock."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from crisiswatch.ports import Clock


class MemoryTimers:
    """What EventBridge Scheduler does with our one-time schedules: setting a name again replaces
    its timer, a fired timer is deleted (ActionAfterCompletion DELETE). A time in the past is due
    at the next `due()` (on AWS, within about two minutes: crisiswatch.aws.timers.PAST_MARGIN).
    The memory runtime calls `due()` every tick and hands each payload to the notifier."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._timers: dict[str, tuple[datetime, int, dict[str, Any]]] = {}  # name -> (at, order, payload)
        self._order = 0

    def set(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        if at.tzinfo is None:
            raise ValueError("a timer needs a timezone-aware time")
        self._order += 1
        # A copy, as the AWS adapter sends JSON: the caller may change its dict afterwards.
        self._timers[name] = (at.astimezone(UTC), self._order, copy.deepcopy(payload))

    def cancel(self, names: Sequence[str]) -> int:
        return sum(self._timers.pop(name, None) is not None for name in dict.fromkeys(names))

    def due(self, now: datetime | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Remove and return the timers whose time has come (at <= now), oldest first (and in the
        order they were set, for the same time)."""
        now = now or self._clock.now()
        fired = sorted(
            ((at, order, name) for name, (at, order, _) in self._timers.items() if at <= now),
        )
        return [(name, self._timers.pop(name)[2]) for _, _, name in fired]

    def pending(self) -> list[tuple[str, datetime]]:
        """Every timer not fired yet, (name, at), soonest first."""
        return [(name, at) for name, (at, _, _) in sorted(self._timers.items(), key=lambda kv: kv[1][:2])]

    def __len__(self) -> int:
        return len(self._timers)
