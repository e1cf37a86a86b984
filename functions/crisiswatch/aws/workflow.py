"""Step Functions: the escalation state machine (infra/constructs/escalation.py) and its wait tokens."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code

logger = Logger(child=True)

# Task tokens that can no longer be answered: the wait timed out, or the execution ended.
_GONE_TOKEN_ERRORS = {"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"}


def execution_arn(state_machine_arn: str, name: str) -> str:
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


class StepFunctionsWorkflow:
    """`state_machine_arn` is needed to start and stop; releasing tokens needs only the client."""

    def __init__(self, client, state_machine_arn: str = ""):
        self._sfn = client
        self._arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        # Step Functions treats a repeated start with the same name and input as the same running
        # execution; once that execution has ended, the name is taken: False, nothing started.
        try:
            self._sfn.start_execution(stateMachineArn=self._arn, name=name, input=json.dumps(payload))
        except ClientError as e:
            if error_code(e) == "ExecutionAlreadyExists":
                return False
            raise
        return True

    def stop(self, name: str, cause: str) -> bool:
        try:
            self._sfn.stop_execution(
                executionArn=execution_arn(self._arn, name), error="Superseded", cause=cause
            )
        except ClientError as e:
            if error_code(e) == "ExecutionDoesNotExist":
                return False
            raise
        return True

    def release(self, tokens: Sequence[str], output: dict[str, Any]) -> int:
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
