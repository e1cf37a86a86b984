"""Time enters the domain in one place: a Clock, injected through each function's wiring.

Lambda functions use `SystemClock`; the replay, the evaluation and tests pass a `SimulatedClock`
that they move themselves. Domain code never reads the system time on its own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """A clock that stands still until it is moved (never backwards)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a simulated clock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        moment = moment.astimezone(UTC)
        if moment < self._now:
            raise ValueError(f"a clock does not go back: {moment.isoformat()} < {self._now.isoformat()}")
        self._now = moment

    def advance(self, seconds: float) -> datetime:
        self.set(self._now + timedelta(seconds=seconds))
        return self._now
