"""Weibo's created_at in all its forms, read against an injected "now" in China time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crisiswatch.ingest.weibo import CHINA_TZ, parse_created_at


def cn(*args: int) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ).astimezone(UTC)


NOW = cn(2026, 11, 21, 0, 5)  # five past midnight in Beijing = 16:05 UTC the day before


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("刚刚", NOW),
        ("30秒前", NOW - timedelta(seconds=30)),
        ("1分钟前", NOW - timedelta(minutes=1)),
        ("59分钟前", NOW - timedelta(minutes=59)),
        ("3小时前", NOW - timedelta(hours=3)),
        # Yesterday in China is 2026-11-20, although it is still 2026-11-20 in UTC "today".
        ("昨天 23:50", cn(2026, 11, 20, 23, 50)),
        ("昨天 00:00", cn(2026, 11, 20, 0, 0)),
        ("前天 12:30", cn(2026, 11, 19, 12, 30)),
        ("今天 00:01", cn(2026, 11, 21, 0, 1)),
        ("11-19", cn(2026, 11, 19)),
        ("11-19 08:15", cn(2026, 11, 19, 8, 15)),
        ("1-5", cn(2026, 1, 5)),
        ("12-31", cn(2025, 12, 31)),  # later this year would be the future: it was last year
        ("02-29", cn(2024, 2, 29)),  # the latest year that has the date
        ("2023-06-01", cn(2023, 6, 1)),
        ("2023-06-01 18:30", cn(2023, 6, 1, 18, 30)),
        ("2023-06-01 18:30:15", cn(2023, 6, 1, 18, 30, 15)),
        ("Fri Nov 20 10:00:00 +0800 2026", cn(2026, 11, 20, 10, 0)),
        ("Thu Nov 19 22:00:00 +0000 2026", datetime(2026, 11, 19, 22, 0, tzinfo=UTC)),
        ("  5分钟前 ", NOW - timedelta(minutes=5)),
    ],
)
def test_every_format_parses_to_utc(value: str, expected: datetime) -> None:
    parsed = parse_created_at(value, NOW)
    assert parsed == expected
    assert parsed.tzinfo == UTC


def test_now_in_any_zone_gives_the_same_answer() -> None:
    in_utc = parse_created_at("昨天 23:50", NOW)
    in_tokyo = parse_created_at("昨天 23:50", NOW.astimezone(timezone(timedelta(hours=9))))
    assert in_utc == in_tokyo == cn(2026, 11, 20, 23, 50)


@pytest.mark.parametrize(
    "value", ["今天 23:59", "Sat Nov 21 10:00:00 +0800 2026", "2027-01-01", "今天 00:06"]
)
def test_future_times_are_clamped_to_now(value: str) -> None:
    assert parse_created_at(value, NOW) == NOW


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "yesterday",
        "昨天",
        "25:00",
        "昨天 25:00",
        "13-01",
        "2026-02-30",
        "5 minutes ago",
        "Sat Foo 21 10:00:00 +0800 2026",
        "99999999999分钟前",
    ],
)
def test_unreadable_values_raise_value_error(value: str) -> None:
    with pytest.raises(ValueError):
        parse_created_at(value, NOW)


def test_non_string_raises_value_error() -> None:
    with pytest.raises(ValueError):
        parse_created_at(None, NOW)  # type: ignore[arg-type]


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_created_at("刚刚", datetime(2026, 11, 21, 0, 5))


# ------------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------------

nows = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC))
hh = st.integers(0, 23)
mm = st.integers(0, 59)
valid_values = st.one_of(
    st.just("刚刚"),
    st.integers(0, 10_000).map(lambda n: f"{n}秒前"),
    st.integers(0, 100_000).map(lambda n: f"{n}分钟前"),
    st.integers(0, 10_000).map(lambda n: f"{n}小时前"),
    st.tuples(st.sampled_from(["今天", "昨天", "前天"]), hh, mm).map(
        lambda t: f"{t[0]} {t[1]:02d}:{t[2]:02d}"
    ),
    st.dates(min_value=datetime(2001, 1, 1).date(), max_value=datetime(2090, 12, 31).date()).map(
        lambda d: f"{d.month:02d}-{d.day:02d}"
    ),
    st.tuples(st.dates(min_value=datetime(2000, 1, 1).date()), hh, mm).map(
        lambda t: f"{t[0]:%Y-%m-%d} {t[1]:02d}:{t[2]:02d}"
    ),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1)).map(
        lambda d: d.replace(tzinfo=CHINA_TZ).strftime("%a %b %d %H:%M:%S +0800 %Y")
    ),
)


@given(value=valid_values, now=nows)
def test_valid_values_never_raise_and_never_lie_in_the_future(value: str, now: datetime) -> None:
    parsed = parse_created_at(value, now)
    assert parsed.tzinfo == UTC
    assert parsed <= now


@given(minutes=st.integers(0, 1_000_000), now=nows)
def test_n_minutes_ago_is_exactly_n_minutes_before_now(minutes: int, now: datetime) -> None:
    assert parse_created_at(f"{minutes}分钟前", now) == now - timedelta(minutes=minutes)


@given(hours=st.integers(0, 1_000), now=nows)
def test_n_hours_ago_is_exactly_n_hours_before_now(hours: int, now: datetime) -> None:
    assert parse_created_at(f"{hours}小时前", now) == now - timedelta(hours=hours)


@given(now=nows, hour=hh, minute=mm)
def test_yesterday_is_the_previous_china_calendar_day(now: datetime, hour: int, minute: int) -> None:
    parsed = parse_created_at(f"昨天 {hour:02d}:{minute:02d}", now).astimezone(CHINA_TZ)
    assert parsed.date() == (now.astimezone(CHINA_TZ) - timedelta(days=1)).date()
    assert (parsed.hour, parsed.minute) == (hour, minute)
