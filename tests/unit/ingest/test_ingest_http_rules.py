"""The HTTP client's rules that need no socket: Retry-After, backoff with full jitter, redaction."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from crisiswatch.ingest.http import (
    DEFAULT_HEADERS,
    HttpClient,
    is_retryable_status,
    parse_retry_after,
    redact,
)

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("1", 1.0),
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0.05", 0.05),
        ("-5", 0.0),
        (format_datetime(datetime(2026, 11, 21, 8, 0, 30, tzinfo=UTC), usegmt=True), 30.0),
        ("Sat, 21 Nov 2026 07:59:00 GMT", 0.0),  # already past
        (None, None),
        ("", None),
        ("soon", None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("status", "retry"),
    [
        (429, True),
        (500, True),
        (503, True),
        (599, True),
        (400, False),
        (403, False),
        (404, False),
        (418, False),
    ],
)
def test_retryable_statuses(status: int, retry: bool) -> None:
    assert is_retryable_status(status) is retry


def test_backoff_is_full_jitter_and_capped() -> None:
    client = HttpClient(backoff_base=0.5, backoff_cap=4.0, rng=random.Random(1))
    for n in range(10):
        ceiling = min(4.0, 0.5 * 2**n)
        waits = [client.backoff(n) for _ in range(200)]
        assert all(0.0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling * 0.8  # it really spreads over the whole range
        assert min(waits) < ceiling * 0.2


def test_redact_drops_query_and_credentials() -> None:
    assert redact("https://user:secret@m.weibo.cn:8443/api/container/getIndex?q=x&token=t") == (
        "https://m.weibo.cn:8443/api/container/getIndex"
    )


def test_sends_a_mobile_user_agent_and_json_accept() -> None:
    assert "iPhone" in DEFAULT_HEADERS["User-Agent"] and "Mobile" in DEFAULT_HEADERS["User-Agent"]
    assert DEFAULT_HEADERS["Accept"].startswith("application/json")


@pytest.mark.parametrize("kwargs", [{"timeout": 0}, {"max_attempts": 0}])
def test_settings_are_checked(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        HttpClient(**kwargs)
