"""The timers' contract, on EventBridge Scheduler (moto, the template's schedule group, fired by the
emulator's `fire_timers`) and in memory (`MemoryTimers.due`); then what only the Scheduler adapter
does (the schedule it writes, the names it maps to)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import boto3

from crisiswatch.aws.timers import PAST_MARGIN, SchedulerTimers, parse_at, schedule_name
from crisiswatch.clock import SimulatedClock
from crisiswatch.constants import TIMER_MAX_EVENT_AGE_SECONDS, TIMER_MAX_RETRY_ATTEMPTS, Env
from tests.builders import NOW

DUE = NOW + timedelta(minutes=30)
REMINDER = {"incident_id": "inc-1", "clock": "first_statement", "kind": "reminder"}


def test_a_timer_fires_once_at_its_time_with_its_payload(ports):
    ports.timers.set("inc-1#first_statement#reminder", DUE, REMINDER)

    assert ports.fire_timers(DUE - timedelta(seconds=1)) == []
    assert ports.fire_timers(DUE) == [("inc-1#first_statement#reminder", REMINDER)]
    assert ports.fire_timers(DUE + timedelta(days=1)) == []  # fired timers are gone


def test_due_timers_fire_oldest_first(ports):
    ports.timers.set("late", DUE + timedelta(minutes=20), {"n": 3})
    ports.timers.set("early", DUE, {"n": 1})
    ports.timers.set("middle", DUE + timedelta(minutes=10), {"n": 2})
    ports.timers.set("not-yet", DUE + timedelta(hours=1), {"n": 4})

    assert ports.fire_timers(DUE + timedelta(minutes=30)) == [
        ("early", {"n": 1}),
        ("middle", {"n": 2}),
        ("late", {"n": 3}),
    ]
    assert ports.fire_timers(DUE + timedelta(hours=1)) == [("not-yet", {"n": 4})]


def test_setting_a_name_again_replaces_its_time_and_payload(ports):
    ports.timers.set("inc-1#progress", DUE, {"report": 1})
    ports.timers.set("inc-1#progress", DUE + timedelta(hours=24), {"report": 2})  # a report moved it

    assert ports.fire_timers(DUE + timedelta(hours=23)) == []
    assert ports.fire_timers(DUE + timedelta(hours=24)) == [("inc-1#progress", {"report": 2})]
    assert ports.fire_timers(DUE + timedelta(days=7)) == []


def test_setting_the_same_timer_twice_is_one_timer(ports):
    for _ in range(2):
        ports.timers.set("inc-1#first_statement#due", DUE, REMINDER)
    assert ports.fire_timers(DUE) == [("inc-1#first_statement#due", REMINDER)]


def test_cancel_deletes_and_counts_only_the_timers_that_existed(ports):
    ports.timers.set("inc-1#first_statement#reminder", DUE, REMINDER)
    ports.timers.set("inc-1#first_statement#due", DUE, REMINDER)
    ports.timers.set("inc-1#progress", DUE, {"report": 1})

    assert ports.timers.cancel([]) == 0
    assert ports.timers.cancel(["never-set", "inc-9#whatever"]) == 0
    assert (
        ports.timers.cancel(
            ["inc-1#first_statement#reminder", "inc-1#first_statement#due", "inc-1#first_statement#due"]
        )
        == 2
    )
    assert ports.timers.cancel(["inc-1#first_statement#reminder"]) == 0  # already cancelled
    assert ports.fire_timers(DUE) == [("inc-1#progress", {"report": 1})]
    assert ports.timers.cancel(["inc-1#progress"]) == 0  # fired: gone


def test_long_names_and_names_with_separators_work_and_stay_distinct(ports):
    long_a = "digest#" + "鲜味坊" * 30 + "#quiet-hours-end#pr-duty"
    long_b = "digest#" + "鲜味坊" * 30 + "#quiet-hours-end#management"
    names = ["chat/wecom#pr-duty", "chat#wecom/pr-duty", "chat/wecom/pr-duty", long_a, long_b, "a" * 300]
    for i, name in enumerate(names):
        ports.timers.set(name, DUE + timedelta(seconds=i), {"i": i})

    assert ports.timers.cancel([long_b]) == 1
    assert ports.fire_timers(DUE + timedelta(minutes=1)) == [
        (name, {"i": i}) for i, name in enumerate(names) if name != long_b
    ]


def test_a_time_in_the_past_fires_within_a_minute(ports):
    ports.timers.set("chat#backlog-flush", NOW - timedelta(hours=2), {"bot": "pr-duty"})
    assert ports.fire_timers(NOW + PAST_MARGIN) == [("chat#backlog-flush", {"bot": "pr-duty"})]


def test_a_payload_changed_after_set_is_not_what_fires(ports):
    payload = {"lines": ["one"]}
    ports.timers.set("chat#backlog-flush", DUE, payload)
    payload["lines"].append("two")
    assert ports.fire_timers(DUE) == [("chat#backlog-flush", {"lines": ["one"]})]


# --- the EventBridge Scheduler adapter only ------------------------------------------------------


def _timers(clock_at: datetime = NOW) -> SchedulerTimers:
    return SchedulerTimers(
        boto3.client("scheduler"),
        os.environ[Env.TIMER_GROUP],
        os.environ[Env.TIMER_TARGET_ARN],
        os.environ[Env.TIMER_ROLE_ARN],
        os.environ[Env.TIMER_DLQ_ARN],
        clock=SimulatedClock(clock_at),
    )


def test_the_schedule_is_one_time_in_utc_deleted_after_completion_with_retries_and_dlq(aws):
    in_beijing = datetime(2026, 11, 21, 19, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # 11:00 UTC
    _timers().set("inc-1#first_statement#due", in_beijing, REMINDER)

    schedule = aws.client("scheduler").get_schedule(
        GroupName=os.environ[Env.TIMER_GROUP], Name=schedule_name("inc-1#first_statement#due")
    )
    assert schedule["ScheduleExpression"] == "at(2026-11-21T11:00:00)"
    assert parse_at(schedule["ScheduleExpression"]) == datetime(2026, 11, 21, 11, 0, tzinfo=UTC)
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["State"] == "ENABLED"
    target = schedule["Target"]
    assert target["Arn"] == os.environ[Env.TIMER_TARGET_ARN]
    assert target["RoleArn"] == os.environ[Env.TIMER_ROLE_ARN]
    assert target["DeadLetterConfig"] == {"Arn": os.environ[Env.TIMER_DLQ_ARN]}
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": TIMER_MAX_RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": TIMER_MAX_EVENT_AGE_SECONDS,
    }
    assert json.loads(target["Input"]) == {"timer": "inc-1#first_statement#due", "payload": REMINDER}


def test_a_past_time_is_written_a_minute_from_now(aws):
    _timers(clock_at=NOW).set("late", NOW - timedelta(days=1), {})
    schedule = aws.client("scheduler").get_schedule(
        GroupName=os.environ[Env.TIMER_GROUP], Name=schedule_name("late")
    )
    assert parse_at(schedule["ScheduleExpression"]) == NOW + PAST_MARGIN
