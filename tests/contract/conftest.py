"""Every contract test runs twice: on the AWS adapters (moto, the template's real tables, queues,
topic and state machine) and on the in-memory adapters. They share this `ports` fixture."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import boto3
import pytest

from crisiswatch.aws.alerts import SnsAlertPublisher
from crisiswatch.aws.baselines import DynamoBaselineStore
from crisiswatch.aws.chat_gate import DynamoChatGate
from crisiswatch.aws.cursors import DynamoCursorStore
from crisiswatch.aws.incidents import DynamoIncidentRepository
from crisiswatch.aws.posts import DynamoPostRepository
from crisiswatch.aws.queues import SqsQueue
from crisiswatch.aws.secrets import SecretsManagerReader
from crisiswatch.aws.stories import DynamoStoryIndex
from crisiswatch.aws.timeline import DynamoTimeline
from crisiswatch.aws.timers import SchedulerTimers
from crisiswatch.aws.watches import DynamoWatchCatalogue
from crisiswatch.aws.workflow import StepFunctionsWorkflow
from crisiswatch.clock import SimulatedClock
from crisiswatch.constants import Env
from crisiswatch.escalation.service import Notifier
from crisiswatch.memory.chat_gate import MemoryChatGate
from crisiswatch.memory.messaging import MemoryAlertPublisher, MemoryQueue, MemorySecrets
from crisiswatch.memory.store import (
    MemoryBaselineStore,
    MemoryCursorStore,
    MemoryIncidentRepository,
    MemoryPostRepository,
    MemoryWatchCatalogue,
)
from crisiswatch.memory.stories import MemoryStoryIndex
from crisiswatch.memory.timeline import MemoryTimeline
from crisiswatch.memory.timers import MemoryTimers
from crisiswatch.memory.workflow import MemoryWorkflow
from tests.builders import NOW
from tests.stack import ROUTING


@dataclass
class Ports:
    kind: str
    posts: Any
    incidents: Any
    cursors: Any
    watches: Any
    stories: Any
    baselines: Any
    queue: Any
    received: Callable[[], list[str]]  # what the queue delivers to its consumer
    alerts: Any
    secrets: Callable[[dict[str, str]], Any]  # a reader that holds these secrets
    workflow: Any
    chat_gate: Any
    # Let escalation time pass: the simulated clock (memory) or the wall clock (Step Functions on moto).
    eventually: Callable[[Callable[[], Any], float], Any]
    timeline: Any
    timers: Any  # on the simulated clock starting at NOW (AWS: it only moves past times ahead)
    # Fire the timers due by this time: (name, payload) each, oldest first; fired ones are gone.
    fire_timers: Callable[[datetime], list[tuple[str, dict]]]


@pytest.fixture(params=["memory", "aws"])
def ports(request) -> Ports:
    return _memory() if request.param == "memory" else _aws(request.getfixturevalue("aws"))


def _memory() -> Ports:
    clock = SimulatedClock(NOW)
    queue = MemoryQueue()
    incidents = MemoryIncidentRepository()
    notifier = Notifier(incidents, MemoryAlertPublisher(), clock, routing=ROUTING)
    workflow = MemoryWorkflow(notifier.notify, clock)

    def eventually(condition, seconds):
        for _ in range(int(seconds * 2) + 2):
            if value := condition():
                return value
            clock.advance(0.5)
            workflow.advance()
        raise AssertionError(f"not within {seconds} simulated seconds")

    timers = MemoryTimers(clock)
    return Ports(
        kind="memory",
        posts=MemoryPostRepository(),
        incidents=incidents,
        cursors=MemoryCursorStore(),
        watches=MemoryWatchCatalogue(),
        stories=MemoryStoryIndex(),
        baselines=MemoryBaselineStore(),
        queue=queue,
        received=lambda: [m.body for m in queue.receive(1000)],
        alerts=MemoryAlertPublisher(),
        secrets=MemorySecrets,
        workflow=workflow,
        chat_gate=MemoryChatGate(),
        eventually=eventually,
        timeline=MemoryTimeline(),
        timers=timers,
        fire_timers=timers.due,
    )


def _aws(aws) -> Ports:
    dynamodb = boto3.client("dynamodb")
    sqs = boto3.client("sqs")
    queue_url = os.environ[Env.POSTS_QUEUE_URL]

    def received() -> list[str]:
        bodies = []
        while messages := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
            bodies += [m["Body"] for m in messages]
            for m in messages:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
        return bodies

    def secrets(values: dict[str, str]) -> SecretsManagerReader:
        client = boto3.client("secretsmanager")
        for name, value in values.items():
            client.create_secret(Name=name, SecretString=value)
        return SecretsManagerReader(max_age_seconds=0)

    def eventually(condition, seconds):
        deadline = time.monotonic() + seconds + 10  # moto's waits are wall-clock and not punctual
        while time.monotonic() < deadline:
            if value := condition():
                return value
            time.sleep(0.1)
        raise AssertionError(f"not within {seconds} s")

    def fire_timers(now: datetime) -> list[tuple[str, dict]]:
        # What the emulator hands the target: this test's record instead of the notifier's handler.
        fired: list[tuple[str, dict]] = []
        aws.invoke = lambda function, event: fired.append((event["timer"], event["payload"]))
        try:
            aws.fire_timers(now)
        finally:
            del aws.invoke  # the class's invoke again
        return fired

    return Ports(
        kind="aws",
        posts=DynamoPostRepository(dynamodb, os.environ[Env.POSTS_TABLE], os.environ[Env.STATE_TABLE]),
        incidents=DynamoIncidentRepository(
            dynamodb, os.environ[Env.INCIDENTS_TABLE], os.environ[Env.STATE_TABLE]
        ),
        cursors=DynamoCursorStore(dynamodb, os.environ[Env.STATE_TABLE]),
        watches=_emptied(DynamoWatchCatalogue(dynamodb, os.environ[Env.STATE_TABLE])),
        stories=DynamoStoryIndex(dynamodb, os.environ[Env.STATE_TABLE]),
        baselines=DynamoBaselineStore(dynamodb, os.environ[Env.STATE_TABLE]),
        queue=SqsQueue(sqs, queue_url),
        received=received,
        alerts=SnsAlertPublisher(boto3.client("sns"), os.environ[Env.ALERTS_TOPIC_ARN]),
        secrets=secrets,
        workflow=StepFunctionsWorkflow(
            boto3.client("stepfunctions"), os.environ[Env.ESCALATION_STATE_MACHINE_ARN]
        ),
        chat_gate=DynamoChatGate(dynamodb, os.environ[Env.STATE_TABLE]),
        eventually=eventually,
        timeline=DynamoTimeline(dynamodb, os.environ[Env.STATE_TABLE]),
        timers=SchedulerTimers(
            boto3.client("scheduler"),
            os.environ[Env.TIMER_GROUP],
            os.environ[Env.TIMER_TARGET_ARN],
            os.environ[Env.TIMER_ROLE_ARN],
            os.environ[Env.TIMER_DLQ_ARN],
            clock=SimulatedClock(NOW),
        ),
        fire_timers=fire_timers,
    )


def _emptied(catalogue: DynamoWatchCatalogue) -> DynamoWatchCatalogue:
    """Without the watch the deploy seeds, so both catalogues start empty."""
    for watch in catalogue.list():
        catalogue.delete(watch.id)
    return catalogue
