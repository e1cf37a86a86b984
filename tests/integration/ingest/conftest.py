"""The ingest code against the local Weibo simulator on 127.0.0.1 (no internet, no AWS)."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from crisiswatch.ingest.http import HttpClient
from crisiswatch.vocabulary import FetchJob, Watch
from infra.local.simulator import PlatformSimulator, Scenario


@pytest.fixture(scope="session")
def scenario() -> Scenario:
    return Scenario.generate("鲜味坊", alias="XWF", seed=7)


@pytest.fixture
def simulator(scenario: Scenario) -> Iterator[PlatformSimulator]:
    with PlatformSimulator(scenario, slow_seconds=1.0) as sim:
        yield sim


@pytest.fixture
def watch(scenario: Scenario) -> Watch:
    return Watch(
        id="xianweifang", name=scenario.brand, keywords=scenario.keywords, exclude=list(scenario.exclude)
    )


@pytest.fixture
def job(watch: Watch) -> FetchJob:
    return FetchJob(watch=watch, platform="weibo", scheduled_at=datetime.now(UTC))


class Sleeps(list[float]):
    """An injectable sleep that only records (tests never really wait for backoff)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make_client(sleeps: Sleeps) -> Callable[..., HttpClient]:
    def make(**settings: float) -> HttpClient:
        options = {"timeout": 2.0, "max_attempts": 4, "sleep": sleeps, "rng": random.Random(3), **settings}
        return HttpClient(**options)  # type: ignore[arg-type]

    return make
