"""The crisis-PR clocks and quiet hours, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crisiswatch.escalation import clocks
from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.escalation.routing import Audience, Routing, held_until, quiet_until
from crisiswatch.incidents.record import Statement
from crisiswatch.vocabulary import Level, OnCall, QuietHours, TierPolicy, Watch

START = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
DURATIONS = ClockDurations()


def started(statements=()):
    return clocks.start(DURATIONS.deadlines(START), START, Level.ORANGE, DURATIONS, list(statements))


def test_three_clocks_start_with_a_reminder_ten_minutes_before_each():
    first, detailed, progress = started()
    assert (first.kind, first.due, first.remind_at) == (
        "first",
        START + timedelta(minutes=30),
        START + timedelta(minutes=20),
    )
    assert (detailed.kind, detailed.due) == ("detailed", START + timedelta(hours=2))
    assert (progress.kind, progress.due) == ("progress", START + timedelta(days=1))
    assert {c.status for c in (first, detailed, progress)} == {"pending"}
    names = [name for name, _, _ in clocks.timers("inc-1", [first, detailed, progress])]
    assert len(names) == 6 and "clock/inc-1/first/1/remind" in names


def test_a_statement_meets_its_clock_and_cancels_its_timers():
    now = START + timedelta(minutes=25)
    met = clocks.meet(started(), Statement(kind="first", at=now, by="王经理"), DURATIONS)
    first = clocks.current(met, "first")
    assert (first.status, first.met_at, first.met_by) == ("met", now, "王经理")
    assert not any(name.startswith("clock/inc-1/first/") for name, _, _ in clocks.timers("inc-1", met))


def test_a_progress_report_starts_the_next_days_clock_from_the_report():
    at = START + timedelta(hours=20)
    after = clocks.meet(started(), Statement(kind="progress", at=at, by="王经理"), DURATIONS)
    assert [(c.seq, c.status) for c in after if c.kind == "progress"] == [(1, "met"), (2, "pending")]
    assert clocks.current(after, "progress").due == at + timedelta(days=1)


def test_a_missed_clock_tells_the_tier_above_and_a_late_statement_is_met_late():
    first = clocks.current(started(), "first")
    missed, told = clocks.miss(started(), first, first.due, DURATIONS)
    assert told is Level.RED and clocks.current(missed, "first").status == "missed"
    late = clocks.meet(
        missed, Statement(kind="first", at=first.due + timedelta(minutes=5), by="李总"), DURATIONS
    )
    assert clocks.current(late, "first").status == "met_late"


def test_a_missed_progress_report_is_still_owed_the_next_day_one_tier_up():
    progress = clocks.current(started(), "progress")
    after, told = clocks.miss(started(), progress, progress.due, DURATIONS)
    nxt = clocks.current(after, "progress")
    assert (nxt.seq, nxt.tier, nxt.due) == (2, told, progress.due + timedelta(days=1))


def test_statements_made_before_the_clocks_start_count():
    early = Statement(kind="first", at=START - timedelta(minutes=5), by="王经理")
    assert clocks.current(started([early]), "first").status == "met"


def test_stop_leaves_met_and_missed_clocks_as_they_were():
    first = clocks.current(started(), "first")
    missed, _ = clocks.miss(started(), first, first.due, DURATIONS)
    assert [c.status for c in clocks.stop(missed)] == ["missed", "stopped", "stopped"]


def test_a_reminder_never_falls_before_the_clock_starts():
    short = ClockDurations(first=60, detailed=120, progress=300, remind_before=600)
    first = clocks.current(clocks.start(short.deadlines(START), START, Level.ORANGE, short, []), "first")
    assert first.remind_at == START


QUIET = QuietHours(start="22:00", end="08:00", timezone="Asia/Shanghai")


@pytest.mark.parametrize(
    ("beijing", "ends"),
    [
        ("2026-12-02T23:30", "2026-12-03T08:00"),  # before midnight: ends tomorrow morning
        ("2026-12-03T03:00", "2026-12-03T08:00"),  # after midnight: ends this morning
        ("2026-12-03T08:00", None),
        ("2026-12-02T21:59", None),
    ],
)
def test_quiet_hours_cross_midnight_in_the_watchs_time_zone(beijing, ends):
    from zoneinfo import ZoneInfo

    now = datetime.fromisoformat(beijing).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    got = quiet_until(QUIET, now)
    expected = (
        None if ends is None else datetime.fromisoformat(ends).replace(tzinfo=ZoneInfo("Asia/Shanghai"))
    )
    assert got == expected


def test_only_blue_and_yellow_wait_for_quiet_hours():
    policy = OnCall(quiet_hours=QUIET)
    night = datetime(2026, 12, 2, 16, 0, tzinfo=UTC)  # 00:00 in Beijing
    assert held_until(policy, Level.BLUE, night) and held_until(policy, Level.YELLOW, night)
    assert held_until(policy, Level.ORANGE, night) is None and held_until(policy, Level.RED, night) is None


def test_the_default_policy_tells_only_the_people_of_this_brand():
    routing = Routing(
        subscribers=[
            Audience(name="desk", levels=[Level.ORANGE, Level.RED]),
            Audience(name="brand-a-pr", levels=[Level.YELLOW, Level.ORANGE], watches=["brand-a"]),
            Audience(name="brand-b-pr", levels=[Level.YELLOW, Level.ORANGE], watches=["brand-b"]),
        ]
    )
    policy = routing.policy(None, "brand-a")
    assert routing.tier(policy, Level.ORANGE).notify == ["desk", "brand-a-pr"]
    assert routing.tier(policy, Level.YELLOW).notify == ["brand-a-pr"]
    assert routing.tier(policy, Level.BLUE).notify == []


def test_a_watchs_own_policy_wins_with_its_own_timeouts():
    watch = Watch(
        id="brand-a",
        name="A",
        keywords=["a"],
        oncall=OnCall(tiers={Level.ORANGE: TierPolicy(notify=["x"], ack_timeout_seconds=600)}),
    )
    routing = Routing(subscribers=[Audience(name="desk", levels=[Level.ORANGE])])
    policy = routing.policy(watch, watch.id)
    assert routing.tier(policy, Level.ORANGE).notify == ["x"]
    assert routing.ack_timeouts_for(policy)["orange"] == 600
    assert routing.ack_timeouts_for(policy)["red"] == routing.ack_timeouts["red"]
