"""A watch's normal and how surprising a window is against it: examples, then properties."""

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crisiswatch.incidents.baseline import (
    COLD_FLOOR_PER_HOUR,
    WARM_HOURS,
    Baseline,
    expected,
    fold,
    hours_to_fold,
)
from crisiswatch.incidents.policy import DEFAULT_RULES, WindowStats, bucket_start
from crisiswatch.incidents.surprise import read_windows, tail_surprise
from tests.builders import NOW

HOUR = timedelta(hours=1)
START = NOW.replace(minute=0) - timedelta(days=30)
BLUE_SURPRISE = min(rule.min_surprise for rule in DEFAULT_RULES)


def learnt(per_hour, days: int, start=START) -> Baseline:
    """Fold `days` of hours; `per_hour(hour)` gives each hour's mentions."""
    baseline = None
    for h in range(days * 24):
        moment = start + h * HOUR
        mentions = per_hour(moment)
        baseline = fold(baseline, moment, WindowStats(mentions=mentions, negatives=mentions // 5))
    return baseline


def test_a_cold_watch_expects_the_conservative_floor():
    normal = expected(None, NOW)
    assert (normal.mentions_per_hour, normal.warm, normal.history_hours) == (COLD_FLOOR_PER_HOUR, False, 0)
    thin = learnt(lambda m: 1, 2)
    assert expected(thin, NOW).mentions_per_hour == COLD_FLOOR_PER_HOUR  # still cold after two days
    assert expected(learnt(lambda m: 1, 4), NOW).mentions_per_hour == pytest.approx(1.0)  # warm: its own


def test_the_daily_cycle_is_learnt_per_china_hour():
    busy_evenings = learnt(lambda m: 60 if m.hour == 13 else 6, 14)  # 21:00 China time
    evening = START.replace(hour=13) + timedelta(days=20)
    assert expected(busy_evenings, evening).mentions_per_hour == pytest.approx(60, rel=0.05)
    assert expected(busy_evenings, evening + 3 * HOUR).mentions_per_hour == pytest.approx(6, rel=0.05)


def test_the_weekly_cycle_is_learnt_once_every_weekday_was_seen_twice():
    weekends = learnt(lambda m: 20 if (m + 8 * HOUR).weekday() >= 5 else 10, 28)
    saturday = next(
        START + d * timedelta(days=1)
        for d in range(28, 35)
        if (START + d * timedelta(days=1) + 8 * HOUR).weekday() == 5
    )
    monday = saturday + timedelta(days=2)
    assert expected(weekends, saturday).mentions_per_hour > 1.6 * expected(weekends, monday).mentions_per_hour


def test_a_past_incident_moves_the_normal_by_a_bounded_step():
    calm = learnt(lambda m: 10, 14)
    crisis = calm
    for h in range(6):  # six hours of 500 posts
        crisis = fold(crisis, calm.through + h * HOUR, WindowStats(mentions=500, negatives=400))
    for h in range(6, 24):
        crisis = fold(crisis, calm.through + h * HOUR, WindowStats(mentions=10, negatives=2))
    later = calm.through + timedelta(days=1, hours=2)
    assert expected(crisis, later).mentions_per_hour < 1.5 * expected(calm, later).mentions_per_hour
    assert crisis.phi < 3


def test_hours_are_folded_once_from_the_first_bucket_or_the_last_fold():
    assert hours_to_fold(None, NOW, None) == []
    first = NOW - timedelta(hours=3, minutes=20)
    hours = hours_to_fold(None, NOW, first)
    assert [h.hour for h in hours] == [23, 0, 1]  # NOW is 02:30 UTC
    folded = fold(None, hours[0], WindowStats(mentions=1))
    assert hours_to_fold(folded, NOW, first) == hours[1:]


# -- properties ----------------------------------------------------------------------------------


def buckets_of(per_hour, now, minutes: int = 65):
    """A steady stream up to now: `per_hour(moment)` posts an hour (a number: the same every hour),
    spread over the 5-minute buckets, the current one partial (fractions carried over)."""
    rate = per_hour if callable(per_hour) else (lambda moment: per_hour)
    found, carry = [], 0.0
    moment = bucket_start(now - timedelta(minutes=minutes))
    while moment <= now:
        elapsed = min(1.0, (now - moment) / timedelta(minutes=5))  # the current bucket is partial
        carry += rate(moment) / 12 * elapsed
        count, carry = int(carry), carry - int(carry)
        if count:
            found.append((moment, WindowStats(mentions=count)))
        moment += timedelta(minutes=5)
    return found


@settings(max_examples=60, deadline=None)
@given(per_hour=st.integers(min_value=0, max_value=2_000), minute=st.integers(min_value=0, max_value=59))
def test_a_constant_stream_never_alerts(per_hour, minute):
    baseline = learnt(lambda m: per_hour, 7)
    now = baseline.through + timedelta(minutes=minute)
    for r in read_windows(buckets_of(per_hour, now), now, lambda moment: expected(baseline, moment)):
        assert r.surprise < BLUE_SURPRISE, r


@settings(max_examples=200, deadline=None)
@given(
    observed=st.floats(min_value=0, max_value=5_000),
    mean=st.floats(min_value=0.1, max_value=2_000),
    phi=st.floats(min_value=1, max_value=20),
    scale=st.floats(min_value=1, max_value=50),
)
def test_scaling_a_watch_leaves_the_surprise_of_the_same_relative_burst_unchanged(observed, mean, phi, scale):
    # Scaling a stream by `scale` scales its mean, and its learnt dispersion, by the same factor.
    assert tail_surprise(observed * scale, mean * scale, phi * scale) == pytest.approx(
        tail_surprise(observed, mean, phi), rel=1e-6, abs=1e-6
    )


@settings(max_examples=200, deadline=None)
@given(
    burst=st.floats(min_value=0, max_value=2_000),
    quiet=st.floats(min_value=0.1, max_value=1_000),
    extra=st.floats(min_value=0, max_value=1_000),
    phi=st.floats(min_value=1, max_value=20),
)
def test_a_burst_on_a_quieter_watch_is_never_less_surprising(burst, quiet, extra, phi):
    busy = quiet + extra
    assert tail_surprise(quiet + burst, quiet, phi) >= tail_surprise(busy + burst, busy, phi) - 1e-9
    assert tail_surprise(busy + burst, quiet, phi) >= tail_surprise(busy + burst, busy, phi) - 1e-9


def test_learnt_dispersion_scales_with_the_stream():
    import random

    rng = random.Random(3)
    noise = [rng.gauss(0, 1) for _ in range(14 * 24)]
    once = learnt(lambda m: max(0, round(50 + 7 * noise[int((m - START) / HOUR)])), 14)
    twice = learnt(lambda m: 4 * max(0, round(50 + 7 * noise[int((m - START) / HOUR)])), 14)
    assert twice.phi == pytest.approx(4 * once.phi, rel=0.15)
    assert once.hours == twice.hours == 14 * 24 >= WARM_HOURS


def test_a_window_across_the_hour_expects_each_hour_at_its_own_rate():
    """Late evening's rate must not make just after midnight look busy (or the reverse)."""
    baseline = learnt(lambda m: 120 if (m + 8 * HOUR).hour == 23 else 12, 14)
    midnight = baseline.through.replace(hour=16) + timedelta(days=1)  # 00:00 China time
    now = midnight + timedelta(minutes=2)
    late_evenings = lambda m: 120 if (m + 8 * HOUR).hour == 23 else 12  # noqa: E731
    readings = read_windows(buckets_of(late_evenings, now), now, lambda m: expected(baseline, m))
    hour = readings[-1]
    assert hour.expected_mentions == pytest.approx(hour.stats.mentions, rel=0.15)
    assert all(r.surprise < BLUE_SURPRISE for r in readings)


@settings(max_examples=40, deadline=None)
@given(
    days=st.lists(
        st.lists(st.integers(min_value=0, max_value=5_000), min_size=24, max_size=24), min_size=1, max_size=30
    )
)
def test_folding_any_history_keeps_every_number_finite(days):
    """Silent days, silent weekdays, sudden floods: the normal stays a usable number."""
    import math

    baseline = None
    for d, hours in enumerate(days):
        for h, mentions in enumerate(hours):
            baseline = fold(
                baseline,
                START + timedelta(days=d, hours=h),
                WindowStats(mentions=mentions, negatives=mentions // 3),
            )
    for h in range(0, 24 * 7, 5):
        normal = expected(baseline, baseline.through + timedelta(hours=h))
        values = (normal.mentions_per_hour, normal.negatives_per_hour, normal.phi)
        assert all(math.isfinite(v) and v >= 0 for v in values), values
        assert normal.mentions_per_hour > 0


def test_a_weekday_that_is_always_silent_does_not_break_the_normal():
    """A watch quiet every Sunday (China time): that weekday's total is 0 (a division by it once
    dead-lettered every batch of such a watch)."""
    silent_sundays = learnt(lambda m: 0 if (m + 8 * HOUR).weekday() == 6 else 10, 28)
    later = fold(silent_sundays, silent_sundays.through, WindowStats(mentions=10))
    sunday = next(
        later.through + d * timedelta(days=1)
        for d in range(7)
        if (later.through + d * timedelta(days=1) + 8 * HOUR).weekday() == 6
    )
    assert expected(later, sunday).mentions_per_hour > 0
    assert expected(later, sunday + timedelta(days=1)).mentions_per_hour == pytest.approx(10, rel=0.3)
