"""The synthesized escalation state machine, executed by moto, calling the real notifier."""

from __future__ import annotations

import os
import time

import boto3

from crisiswatch.aws.incidents import DynamoIncidentRepository
from crisiswatch.aws.workflow import StepFunctionsWorkflow, execution_arn
from crisiswatch.clock import SimulatedClock
from crisiswatch.constants import Env
from crisiswatch.escalation.response import ResponseDesk
from crisiswatch.incidents.detection import escalation_input, execution_name
from crisiswatch.vocabulary import Level
from tests.builders import NOW, incident
from tests.stack import ACK_TIMEOUTS


def _store() -> DynamoIncidentRepository:
    return DynamoIncidentRepository(
        boto3.client("dynamodb"), os.environ[Env.INCIDENTS_TABLE], os.environ[Env.STATE_TABLE]
    )


def _start(aws, level: Level) -> tuple[DynamoIncidentRepository, str]:
    store = _store()
    created = incident(level=level)
    store.create(created)
    workflow = StepFunctionsWorkflow(
        boto3.client("stepfunctions"), os.environ[Env.ESCALATION_STATE_MACHINE_ARN]
    )
    assert workflow.start(execution_name(created), escalation_input(created, ACK_TIMEOUTS))
    arn = execution_arn(os.environ[Env.ESCALATION_STATE_MACHINE_ARN], execution_name(created))
    return store, arn


def _path(aws, arn: str) -> list[str]:
    events = aws.client("stepfunctions").get_execution_history(executionArn=arn)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def _wait_until(condition, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_acknowledgement_ends_the_wait(aws):
    store, arn = _start(aws, Level.ORANGE)
    _wait_until(lambda: store.get(incident().incident_id).notifications)

    desk = ResponseDesk(store, StepFunctionsWorkflow(boto3.client("stepfunctions")), SimulatedClock(NOW))
    acked, released = desk.acknowledge(incident().incident_id, "王经理", "收到")

    assert released == 1
    assert acked.status == "acknowledged"
    final = aws.wait_for_execution(arn)
    assert final["status"] == "SUCCEEDED"
    assert _path(aws, arn)[-1] == "Acknowledged"
    deliveries = list(aws.deliveries())
    assert sorted(d.subscriber.endpoint for d in deliveries) == ["+8613800000001", "analysts@example.com"]
    sms = next(d for d in deliveries if d.subscriber.protocol == "sms")
    assert sms.text.startswith("【舆情橙色预警】鲜味坊") and len(sms.text) <= 70
    email = next(d for d in deliveries if d.subscriber.protocol == "email")
    assert "依据 Reason:" in email.text  # the e-mail text, not the SMS, went to the e-mail subscriber


def test_silence_escalates_one_tier_up_then_gives_up(aws):
    store, arn = _start(aws, Level.ORANGE)

    final = aws.wait_for_execution(arn, timeout=20)

    assert final["status"] == "FAILED"
    assert final.get("error") == "Unacknowledged"
    path = _path(aws, arn)
    assert (
        path.count("NotifyAndWait") == 2
        and "ToRed" in path
        and path[-2:] == ["NotifyUnacknowledged", "Unacknowledged"]
    )
    notifications = store.get(incident().incident_id).notifications
    assert [(n.tier, n.kind) for n in notifications] == [
        (Level.ORANGE, "alert"),
        (Level.RED, "alert"),
        (Level.RED, "unacknowledged"),
    ]
    management = [d for d in aws.deliveries() if d.subscriber.endpoint == "+8613800000002"]
    assert [d.level for d in management] == ["red", "red"]  # not told at orange, told when escalated
    assert management[0].text.startswith("【橙色预警升级】")


def test_blue_informs_without_waiting(aws):
    store, arn = _start(aws, Level.BLUE)

    assert aws.wait_for_execution(arn)["status"] == "SUCCEEDED"
    assert _path(aws, arn)[-1] == "Informed"
    assert [d.subscriber.endpoint for d in aws.deliveries()] == ["analysts@example.com"]


def test_starting_the_same_escalation_twice_runs_it_once(aws):
    _, arn = _start(aws, Level.BLUE)
    workflow = StepFunctionsWorkflow(
        boto3.client("stepfunctions"), os.environ[Env.ESCALATION_STATE_MACHINE_ARN]
    )
    created = incident(level=Level.BLUE)
    workflow.start(execution_name(created), escalation_input(created, ACK_TIMEOUTS))  # while running
    aws.wait_for_execution(arn)
    assert workflow.start(execution_name(created), escalation_input(created, ACK_TIMEOUTS)) is False  # ended
    sfn = aws.client("stepfunctions")
    assert (
        len(sfn.list_executions(stateMachineArn=os.environ[Env.ESCALATION_STATE_MACHINE_ARN])["executions"])
        == 1
    )


def test_a_notifier_failure_fails_the_execution_visibly(aws):
    # The incident does not exist: the notifier raises, the state machine's catch ends it as failed.
    workflow = StepFunctionsWorkflow(
        boto3.client("stepfunctions"), os.environ[Env.ESCALATION_STATE_MACHINE_ARN]
    )
    ghost = incident(level=Level.RED)
    workflow.start(execution_name(ghost), escalation_input(ghost, ACK_TIMEOUTS))
    arn = execution_arn(os.environ[Env.ESCALATION_STATE_MACHINE_ARN], execution_name(ghost))
    final = aws.wait_for_execution(arn, timeout=20)
    assert final["status"] == "FAILED"
    assert "NotificationFailed" in _path(aws, arn)


def test_a_reset_stops_the_escalations_still_running_even_one_just_started(aws, monkeypatch):
    """The emulator's reset (between tests) stops what runs, even an execution whose worker has not
    read its definition yet, so that no escalation of one test notifies into the next: a red
    escalation not acknowledged would tell its next tier after 2 s."""
    _start(aws, Level.RED)
    aws.reset()  # at once: the worker may not have read the definition yet
    after: list[str] = []
    monkeypatch.setattr(aws, "invoke", lambda function, event: after.append(function.handler))
    time.sleep(ACK_TIMEOUTS["red"] + 1)
    assert after == []
