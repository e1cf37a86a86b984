"""Handlers on in-memory adapters: each test hands a handler its service through `wiring.use`, built
on crisiswatch.memory and a simulated clock, and calls it with the event AWS would send. No AWS, no
sockets (the style of aws-samples' testable serverless architecture: fakes behind the ports)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from crisiswatch.clock import SimulatedClock
from tests.builders import NOW

EVENTS = Path(__file__).resolve().parents[2] / "events"


@dataclass
class Context:
    """What Powertools reads from a Lambda context."""

    function_name: str = "crisiswatch-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:ap-northeast-1:123456789012:function:crisiswatch-test"
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/crisiswatch-test"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def context() -> Context:
    return Context()


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(NOW)


def event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def wire():
    """`wire(handler_module, service)`: the handler runs on `service` for this test only."""
    used = []

    def use(module, service):
        module.wiring.use(service)
        used.append(module)
        return service

    yield use
    for module in used:
        module.wiring.reset()
