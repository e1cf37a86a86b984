"""The emulator fires EventBridge Scheduler's one-time schedules (moto stores them and never fires
them): `LocalAws.fire_timers(now)` invokes each due schedule's target with its Input, oldest
first, and deletes it. The notifier does not handle timer events yet, so its invocation is recorded
here rather than run."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import boto3
import pytest

from crisiswatch.aws.timers import SchedulerTimers, schedule_name
from crisiswatch.clock import SimulatedClock
from crisiswatch.constants import Env
from tests.builders import NOW

DUE = NOW + timedelta(minutes=10)


def _timers() -> SchedulerTimers:
    return SchedulerTimers(
        boto3.client("scheduler"),
        os.environ[Env.TIMER_GROUP],
        os.environ[Env.TIMER_TARGET_ARN],
        os.environ[Env.TIMER_ROLE_ARN],
        os.environ[Env.TIMER_DLQ_ARN],
        clock=SimulatedClock(NOW),
    )


@pytest.fixture
def invoked(aws, monkeypatch) -> list[tuple[str, dict]]:
    calls: list[tuple[str, dict]] = []

    def record(function, event) -> None:
        if "timer" in event:  # a timer's event (not a notify task of an escalation still winding down)
            calls.append((function.handler, event))

    monkeypatch.setattr(aws, "invoke", record)
    return calls


def _schedules(aws) -> list[str]:
    listed = aws.client("scheduler").list_schedules(GroupName=os.environ[Env.TIMER_GROUP])["Schedules"]
    return sorted(s["Name"] for s in listed)


def test_the_template_schedule_group_exists_and_the_target_is_the_notifier(aws):
    groups = {g["Name"] for g in aws.client("scheduler").list_schedule_groups()["ScheduleGroups"]}
    assert os.environ[Env.TIMER_GROUP] in groups
    assert os.environ[Env.TIMER_TARGET_ARN].endswith(
        ":function:" + aws.function("crisiswatch.handlers.notifier").name
    )


def test_a_due_timer_invokes_the_notifier_with_the_schedules_exact_input_and_is_deleted(aws, invoked):
    payload = {
        "incident_id": "inc-1",
        "clock": "first_statement",
        "kind": "reminder",
        "at": "2026-11-21T02:40Z",
    }
    _timers().set("inc-1#first_statement#reminder", DUE, payload)
    schedule = aws.client("scheduler").get_schedule(
        GroupName=os.environ[Env.TIMER_GROUP], Name=schedule_name("inc-1#first_statement#reminder")
    )

    assert aws.fire_timers(DUE - timedelta(seconds=1)) == 0
    assert invoked == [] and _schedules(aws) == [schedule["Name"]]

    assert aws.fire_timers(DUE) == 1
    assert invoked == [
        ("crisiswatch.handlers.notifier.lambda_handler", json.loads(schedule["Target"]["Input"]))
    ]
    assert invoked[0][1] == {"timer": "inc-1#first_statement#reminder", "payload": payload}
    assert _schedules(aws) == []  # ActionAfterCompletion DELETE
    assert aws.fire_timers(DUE + timedelta(days=1)) == 0


def test_timers_fire_oldest_first_and_only_the_due_ones(aws, invoked):
    timers = _timers()
    timers.set("b", DUE + timedelta(minutes=2), {"n": 2})
    timers.set("a", DUE, {"n": 1})
    timers.set("c", DUE + timedelta(hours=1), {"n": 3})

    assert aws.fire_timers(DUE + timedelta(minutes=5)) == 2
    assert [event["timer"] for _, event in invoked] == ["a", "b"]
    assert _schedules(aws) == [schedule_name("c")]


def test_recurring_schedules_in_the_group_are_not_timers(aws, invoked):
    aws.client("scheduler").create_schedule(
        Name="every-hour",
        GroupName=os.environ[Env.TIMER_GROUP],
        ScheduleExpression="rate(1 hour)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": os.environ[Env.TIMER_TARGET_ARN], "RoleArn": os.environ[Env.TIMER_ROLE_ARN]},
    )
    assert aws.fire_timers(DUE + timedelta(days=365)) == 0 and invoked == []


def test_a_failing_handler_raises_and_its_schedule_is_gone_as_after_an_async_invoke(aws, monkeypatch):
    def failing(function, event):
        raise RuntimeError("handler bug")

    monkeypatch.setattr(aws, "invoke", failing)
    _timers().set("a", DUE, {})
    with pytest.raises(RuntimeError, match="handler bug"):
        aws.fire_timers(DUE)
    assert _schedules(aws) == []


def test_the_state_is_emptied_by_reset(aws):
    _timers().set("a", DUE, {})
    aws.reset()
    assert _schedules(aws) == []
