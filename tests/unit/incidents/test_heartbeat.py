"""The heartbeat: a watch that usually sees posts and has seen none is silent; nothing else is."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisiswatch.incidents.baseline import WARM_HOURS, Baseline, fold
from crisiswatch.incidents.heartbeat import MIN_EXPECTED_POSTS, expected_posts, is_silent, usually_busy
from crisiswatch.incidents.policy import WindowStats, bucket_start
from tests.builders import NOW

HOUR = timedelta(hours=1)
START = NOW.replace(minute=0) - timedelta(days=10)


def learnt(per_hour, days: int = 7) -> Baseline:
    """`days` of history at `per_hour(hour)` mentions an hour (a number: every hour the same)."""
    rate = per_hour if callable(per_hour) else (lambda moment: per_hour)
    baseline = None
    for h in range(days * 24):
        moment = START + h * HOUR
        baseline = fold(baseline, moment, WindowStats(mentions=round(rate(moment))))
    return baseline


def stream(per_hour: float, start, end) -> list[tuple]:
    """A steady stream over [start, end]: its 5-minute buckets, fractions carried over."""
    found, carry, moment = [], 0.0, bucket_start(start)
    while moment <= end:
        carry += per_hour / 12
        if int(carry):
            found.append((moment, WindowStats(mentions=int(carry))))
            carry -= int(carry)
        moment += timedelta(minutes=5)
    return found


def test_a_busy_watch_with_no_posts_for_the_span_is_silent():
    busy = learnt(30)  # 60 expected in two hours
    now = busy.through + timedelta(minutes=40)
    assert expected_posts(busy, now - 2 * HOUR, now) == pytest.approx(60)
    assert is_silent(busy, [], now, 120)
    assert is_silent(busy, [(now - HOUR, WindowStats())], now, 120)  # an empty bucket is no post


def test_one_post_in_the_span_is_a_heartbeat():
    busy = learnt(30)
    now = busy.through + timedelta(minutes=40)
    assert not is_silent(busy, [(now - 110 * timedelta(minutes=1), WindowStats(mentions=1))], now, 120)


def test_a_quiet_watch_is_never_silent():
    quiet = learnt(0)  # never a post: its own normal expects none (detection's floor is not its normal)
    now = quiet.through + timedelta(minutes=15)
    assert expected_posts(quiet, now - HOUR, now) == 0
    assert not is_silent(quiet, [], now, 60)
    assert not is_silent(quiet, [], now, 120)


def test_an_unknown_or_cold_watch_is_never_silent():
    now = NOW
    assert not is_silent(None, [], now, 120)  # the cold floor would expect 12: not its own normal
    cold = learnt(100, days=2)
    assert cold.hours < WARM_HOURS and not usually_busy(cold, cold.through, 120)
    assert not is_silent(cold, [], cold.through, 120)


def test_a_watch_busy_by_day_is_not_silent_at_night():
    # 40 an hour from 09:00 to 21:00 China time (01:00-13:00 UTC), none at night.
    daytime = learnt(lambda m: 40 if 1 <= m.hour < 13 else 0)
    midnight_china = (daytime.through + timedelta(days=1)).replace(hour=16)  # 00:00 China
    noon_china = midnight_china.replace(hour=4)
    assert not is_silent(daytime, [], midnight_china, 120)
    assert is_silent(daytime, [], noon_china, 120)


def test_the_span_is_weighed_hour_by_hour():
    daytime = learnt(lambda m: 40 if 1 <= m.hour < 13 else 0)
    first_hour = daytime.through.replace(hour=1, minute=30) + timedelta(days=1)  # 09:30 China
    # 00:30-01:00 UTC at none, 01:00-01:30 at 40/h.
    assert expected_posts(daytime, first_hour - HOUR, first_hour) == pytest.approx(20, rel=0.01)


@settings(max_examples=80, deadline=None)
@given(
    per_hour=st.integers(min_value=0, max_value=2_000),
    minute=st.integers(min_value=0, max_value=59),
    silent_minutes=st.integers(min_value=30, max_value=24 * 60),
)
def test_a_steady_stream_is_never_silent(per_hour, minute, silent_minutes):
    baseline = learnt(per_hour)
    now = baseline.through + timedelta(minutes=minute)
    start = now - timedelta(minutes=silent_minutes)
    assert not is_silent(baseline, stream(per_hour, start, now), now, silent_minutes)


@settings(max_examples=80, deadline=None)
@given(
    per_hour=st.floats(min_value=MIN_EXPECTED_POSTS / 2 + 1, max_value=2_000),  # rounded: 6 an hour at least
    minute=st.integers(min_value=0, max_value=59),
)
def test_a_warm_watch_expecting_enough_and_seeing_nothing_is_always_silent(per_hour, minute):
    baseline = learnt(per_hour)
    now = baseline.through + timedelta(minutes=minute)
    assert is_silent(baseline, [], now, 120) == (expected_posts(baseline, now - 2 * HOUR, now) >= 10)
    assert is_silent(baseline, [], now, 120)  # 6 an hour at least: 12 in two hours
