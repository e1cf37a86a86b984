"""The HTTP client and the adapter under the simulator's faults."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from crisiswatch.ingest.errors import FetchError, MalformedResponse
from crisiswatch.ingest.fetching import fetch_posts
from crisiswatch.ingest.http import HttpClient
from crisiswatch.vocabulary import FetchJob
from infra.local.simulator import PlatformSimulator


@pytest.fixture(autouse=True)
def _visible(simulator: PlatformSimulator) -> None:
    simulator.advance(3)  # a few pages' worth of posts


def statuses(simulator: PlatformSimulator) -> list[int]:
    return [r.status for r in simulator.requests]


def test_429_honours_retry_after_then_succeeds(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient], sleeps: list[float]
) -> None:
    simulator.inject("429", times=2)
    result = fetch_posts(job, simulator.base_url, make_client(), datetime.now(UTC))
    assert statuses(simulator)[:3] == [429, 429, 200]
    assert sleeps == [1.0, 1.0]  # the server's Retry-After, not our backoff
    assert result.matched > 0


def test_retry_after_as_an_http_date(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient], sleeps: list[float]
) -> None:
    from email.utils import formatdate

    now = time.time()
    simulator.inject("429", retry_after=formatdate(now + 20, usegmt=True))
    fetch_posts(job, simulator.base_url, make_client(clock=lambda: now), datetime.now(UTC))
    assert 19 <= sleeps[0] <= 21


def test_a_retry_after_beyond_the_cap_gives_up_at_once(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient], sleeps: list[float]
) -> None:
    simulator.inject("429", retry_after="600")
    with pytest.raises(FetchError, match="asked to wait 600s") as info:
        fetch_posts(job, simulator.base_url, make_client(max_retry_after=30), datetime.now(UTC))
    assert info.value.status == 429 and info.value.retry_after == 600
    assert sleeps == [] and len(simulator.requests) == 1


@pytest.mark.parametrize("fault", ["500", "503", "disconnect"])
def test_server_errors_are_retried_with_jittered_backoff(
    simulator: PlatformSimulator,
    job: FetchJob,
    fault: str,
    make_client: Callable[..., HttpClient],
    sleeps: list[float],
) -> None:
    simulator.inject(fault, times=2)
    result = fetch_posts(job, simulator.base_url, make_client(backoff_base=0.5), datetime.now(UTC))
    assert result.matched > 0
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0  # full jitter under base * 2**n


def test_retries_exhausted_is_a_fetch_error(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient], sleeps: list[float]
) -> None:
    simulator.inject("503", times=10)
    with pytest.raises(FetchError, match="failed after 3 attempts: HTTP 503") as info:
        fetch_posts(job, simulator.base_url, make_client(max_attempts=3), datetime.now(UTC))
    assert not isinstance(info.value, MalformedResponse)
    assert info.value.status == 503 and info.value.attempts == 3
    assert statuses(simulator) == [503, 503, 503]
    assert len(sleeps) == 2
    assert "?" not in str(info.value)  # no query string in messages (keywords, tokens)


def test_malformed_json_is_a_malformed_response(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    simulator.inject("malformed")
    with pytest.raises(
        MalformedResponse, match=r"body is not JSON \(application/json\).*starts with '\{"
    ) as info:
        fetch_posts(job, simulator.base_url, make_client(), datetime.now(UTC))
    assert len(str(info.value)) < 400  # an excerpt, never the body
    assert len(simulator.requests) == 1  # not retried at the HTTP level


def test_wrong_shape_is_a_malformed_response(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    simulator.inject("wrong_shape")
    with pytest.raises(MalformedResponse, match=r"unexpected shape \(data: .*\).*oops"):
        fetch_posts(job, simulator.base_url, make_client(), datetime.now(UTC))


def test_a_slow_answer_times_out_and_is_retried(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient], sleeps: list[float]
) -> None:
    simulator.inject("slow", seconds=1.0)
    started = time.monotonic()
    result = fetch_posts(job, simulator.base_url, make_client(timeout=0.2), datetime.now(UTC))
    assert time.monotonic() - started < 0.9
    assert result.matched > 0
    assert len(sleeps) == 1


def test_slow_every_time_is_a_fetch_error(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    simulator.inject("slow", times=5, seconds=1.0)
    with pytest.raises(FetchError, match="timed out"):
        fetch_posts(job, simulator.base_url, make_client(timeout=0.1, max_attempts=2), datetime.now(UTC))


def test_connection_refused_is_a_fetch_error(job: FetchJob, make_client: Callable[..., HttpClient]) -> None:
    with PlatformSimulator() as sim:
        url = sim.base_url
    with pytest.raises(FetchError, match="connection failed"):
        fetch_posts(job, url, make_client(max_attempts=2), datetime.now(UTC))


def test_other_client_errors_are_not_retried(
    simulator: PlatformSimulator, make_client: Callable[..., HttpClient], sleeps: list[float]
) -> None:
    with pytest.raises(FetchError, match="HTTP 404") as info:
        make_client().get_json(simulator.base_url + "/nope")
    assert info.value.status == 404 and info.value.attempts == 1 and sleeps == []


def test_the_deadline_stops_retrying(
    simulator: PlatformSimulator, make_client: Callable[..., HttpClient], sleeps: list[float]
) -> None:
    simulator.inject("429", times=5, retry_after="5")
    with pytest.raises(FetchError, match="no time left"):
        make_client(deadline=4.0, timeout=1.0).get_json(simulator.base_url + "/api/container/getIndex")
    assert sleeps == []


def test_requests_carry_mobile_headers_and_accept_gzip(
    simulator: PlatformSimulator, job: FetchJob, make_client: Callable[..., HttpClient]
) -> None:
    seen: dict[str, str] = {}
    handle = simulator._handle

    def spy(handler):  # type: ignore[no-untyped-def]
        seen.update(dict(handler.headers))
        handle(handler)

    simulator._handle = spy  # type: ignore[method-assign]
    fetch_posts(job, simulator.base_url, make_client(), datetime.now(UTC), max_pages=1)
    assert "iPhone" in seen["User-Agent"]
    assert seen["Accept"].startswith("application/json")
    assert "gzip" in seen["Accept-Encoding"]
    assert seen["Referer"].startswith(simulator.base_url + "/search?containerid=")
