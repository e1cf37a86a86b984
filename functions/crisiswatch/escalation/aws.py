"""The two AWS services escalation talks to: Step Functions (workflow, task tokens) and SNS."""

from __future__ import annotations

import json

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from crisiswatch.escalation.messages import Alert
from crisiswatch.models import Level
from crisiswatch.store.items import error_code

logger = Logger(child=True)

# Task tokens that can no longer be answered: the wait timed out, or the execution ended.
_GONE_TOKEN_ERRORS = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


class Workflow:
    def __init__(self, client, state_machine_arn: str):
        self._sfn = client
        self._arn = state_machine_arn

    def start(self, name: str, payload: dict) -> bool:
        """Start the escalation once per name.

        Step Functions treats a repeated start with the same name and input as the same running
        execution; once that execution has ended, the name is taken: False, nothing started.
        """
        try:
            self._sfn.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))
        except ClientError as e:
            if error_code(e) == "ExecutionAlreadyExists":
                return False
            raise
        return True

    def stop(self, name: str, cause: str) -> bool:
        """Stop a running escalation (a higher level superseded it); False if it is not running."""
        try:
            self._sfn.stop_execution(
                executionArn=execution_arn(self._arn, name), error="Superseded", cause=cause
            )
        except ClientError as e:
            if error_code(e) == "ExecutionDoesNotExist":
                return False
            raise
        return True


class TokenReleaser:
    def __init__(self, client):
        self._sfn = client

    def release(self, tokens: list[str], output: dict) -> int:
        """Answer waiting escalations; returns how many were still waiting."""
        released = 0
        for token in tokens:
            try:
                self._sfn.send_task_success(taskToken=token, output=json.dumps(output))
                released += 1
            except ClientError as e:
                if error_code(e) not in _GONE_TOKEN_ERRORS:
                    raise
                logger.info("wait already over", reason=error_code(e))
        return released


class AlertPublisher:
    def __init__(self, client, topic_arn: str):
        self._sns = client
        self._topic = topic_arn

    def publish(self, alert: Alert, tier: Level) -> str:
        """One publish; subscribers' filter policies on `level` decide who receives it."""
        response = self._sns.publish(
            TopicArn=self._topic,
            Subject=alert.subject,
            Message=alert.sns_message(),
            MessageStructure="json",
            MessageAttributes={"level": {"DataType": "String", "StringValue": tier.value}},
        )
        return response["MessageId"]
