"""One wiring pattern for every function: what a handler needs is built once per cold start.

    def build(clock: Clock) -> Intake:     # settings, clients, adapters, the service
        ...
    wiring = Wiring(build)

    def lambda_handler(event, context):
        intake = wiring.get()

The clock is the one thing every service shares, so it is the wiring's to give: the system clock
on Lambda, a simulated one in the local runtimes (`wiring.run_on(clock)`). Tests hand in a whole
service of their own (`wiring.use(service)`, e.g. on in-memory adapters) or rebuild after changing
the environment (`wiring.reset()`); nothing else is cached.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from crisiswatch.clock import SystemClock
from crisiswatch.ports import Clock

T = TypeVar("T")


class Wiring(Generic[T]):
    def __init__(self, build: Callable[[Clock], T]) -> None:
        self._build = build
        self._clock: Clock = SystemClock()
        self._built: T | None = None

    def get(self) -> T:
        if self._built is None:
            self._built = self._build(self._clock)
        return self._built

    def use(self, dependencies: T) -> None:
        self._built = dependencies

    def run_on(self, clock: Clock) -> None:
        """Build again, on `clock`, at the next call."""
        self._clock = clock
        self._built = None

    def reset(self) -> None:
        """Build again (with the system clock) at the next call, e.g. after the environment changed."""
        self._clock = SystemClock()
        self._built = None
