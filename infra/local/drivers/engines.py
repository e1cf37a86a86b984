"""Where a driver runs the loop: the embedded local AWS (`moto`) or the memory runtime (`memory`).

Both take the deployment context an ops engineer would give `cdk deploy` (watches, ack timeouts,
level thresholds), run the same services, and answer the driver's few questions the same way, so
a replay means the same on either:

- `moto`: the synthesized template on moto, the real handlers, Step Functions executing the
  escalation (its waits on the wall clock), the simulator over HTTP. The end-to-end path.
- `memory`: `MemoryRuntime`, the simulator in process, escalation waits on the simulated clock.
  Hundreds of times faster: what evaluations over many recorded cascades run on.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from typing import Protocol

from crisiswatch.clock import SimulatedClock
from infra.context import load_settings
from infra.local.simulator import PlatformSimulator
from infra.local.simulator.in_process import InProcessClient

ENGINES = ("moto", "memory")
LOCAL_BASE_URL = "http://simulator.invalid"  # the memory engine's platforms answer in process


class Engine(Protocol):
    name: str
    escalates_on_wall_clock: bool
    simulator: PlatformSimulator  # what the platforms serve; the driver moves it tick by tick

    def describe(self) -> str: ...

    def tick(self, platform: str) -> tuple[int, str | None]:
        """Schedule, fetch and score one tick: (posts the scorer received, what failed or None)."""
        ...

    def stored_posts(self) -> int: ...

    def incidents(self) -> list[dict]:
        """Every incident (open, acknowledged or resolved) as `GET /incidents/{id}` returns it."""
        ...

    def stage_seconds(self) -> dict[str, float]: ...


def _incidents(repository) -> list[dict]:
    """Every incident's JSON, as `GET /incidents/{id}` returns it, straight from its repository."""
    found = []
    for status in ("open", "acknowledged", "resolved"):
        incidents, _ = repository.list(status, 100)
        found += [incident.model_dump(mode="json") for incident in incidents]
    return sorted(found, key=lambda i: i["opened_at"])


class EmulatorEngine:
    name = "moto"
    escalates_on_wall_clock = True

    def __init__(self, aws, simulator: PlatformSimulator) -> None:
        from crisiswatch.aws.incidents import DynamoIncidentRepository

        self.aws, self.simulator = aws, simulator
        self._score = aws.mapping_for("crisiswatch.handlers.scorer")
        self._posts_table = next(name for lid, name in aws.stack.tables.items() if "Posts" in lid)
        incidents_table = next(name for lid, name in aws.stack.tables.items() if "Incidents" in lid)
        self._incidents = DynamoIncidentRepository(aws.client("dynamodb"), incidents_table)

    def describe(self) -> str:
        return f"local AWS (moto) at {self.aws.endpoint}"

    def tick(self, platform: str) -> tuple[int, str | None]:
        self.aws.tick(platform)
        fetched = self.aws.pump_all("crisiswatch.handlers.fetcher")
        scored = self.aws.pump(self._score)
        failed = f"fetch {fetched}, score {scored}" if fetched["failed"] or scored["failed"] else None
        return scored["delivered"] + scored["failed"], failed

    def stored_posts(self) -> int:
        # moto keeps ItemCount live (AWS refreshes it about every 6 hours): a count without the
        # scan that would copy every item on every tick.
        table = self.aws.client("dynamodb").describe_table(TableName=self._posts_table)["Table"]
        return int(table["ItemCount"])

    def stage_seconds(self) -> dict[str, float]:
        return {}  # the handlers run inside moto's calls: not measured apart

    def incidents(self) -> list[dict]:
        # Queries, not API calls: the demo and the integration tests exercise the API.
        return _incidents(self._incidents)


class MemoryEngine:
    name = "memory"
    escalates_on_wall_clock = False

    def __init__(self, runtime, simulator: PlatformSimulator) -> None:
        self.runtime, self.simulator = runtime, simulator

    def describe(self) -> str:
        return "memory runtime (in-memory adapters, simulated clock)"

    def tick(self, platform: str) -> tuple[int, str | None]:
        fetched, scored = self.runtime.tick(platform)
        failed = f"fetch {fetched}, score {scored}" if fetched.failed or scored.failed else None
        return scored.delivered + scored.failed, failed

    def stored_posts(self) -> int:
        return len(self.runtime.posts)

    def stage_seconds(self) -> dict[str, float]:
        """Wall seconds per consumer: the fetcher's queue(s) and the scorer's."""
        return {name: round(seconds, 3) for name, seconds in self.runtime.seconds.items()}

    def incidents(self) -> list[dict]:
        return _incidents(self.runtime.incidents)


@contextlib.contextmanager
def open_engine(
    name: str,
    scenario,
    clock: SimulatedClock,
    context_for: Callable[[str], dict],
    log_level: str = "WARNING",
) -> Iterator[Engine]:
    """The engine, running `scenario` on the platform simulator, deployed with `context_for(base_url)`."""
    simulator_clock = lambda: clock.now().timestamp()  # noqa: E731 - the simulator's epoch seconds
    if name == "memory":
        # The services log as the functions do; their loggers are made when they are imported.
        os.environ["POWERTOOLS_LOG_LEVEL"] = log_level
        from infra.local.memory_runtime import MemoryRuntime

        settings = load_settings(context_for(LOCAL_BASE_URL).get)
        simulator = PlatformSimulator(scenario, clock=simulator_clock)
        yield MemoryEngine(
            MemoryRuntime(
                watches=settings.watches,
                base_urls=settings.base_urls,
                http=InProcessClient(simulator),
                clock=clock,
                ack_timeouts=settings.ack_timeout_seconds.model_dump(),
                level_thresholds=settings.level_thresholds,
                routing=settings.routing(),
                durations=settings.durations(),
            ),
            simulator,
        )
        return
    if name != "moto":
        raise ValueError(f"unknown engine {name!r}; one of {ENGINES}")
    from infra.local.emulator.runtime import LocalAws  # moto and CDK: only for this engine
    from infra.local.emulator.template import synthesize

    with PlatformSimulator(scenario, clock=simulator_clock) as simulator:
        template = synthesize(context_for(simulator.base_url))
        with LocalAws(template, log_level=log_level) as aws:
            aws.run_on(clock)
            yield EmulatorEngine(aws, simulator)
