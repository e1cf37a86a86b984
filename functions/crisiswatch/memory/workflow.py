"""The escalation state machine's behaviour, run in memory on the injected clock.

What infra/constructs/escalation.py defines for Step Functions, step for step: blue only informs;
yellow and up notify their tier and wait for an acknowledgement (a task token) for the tier's
timeout; an unanswered wait notifies the next tier up; unanswered at red, a last "unacknowledged"
alert goes out and the execution fails. A notify that fails is tried again (NOTIFY_RETRY_ATTEMPTS more times, at
once: the simulated clock does not move inside a step); one that still fails, or a tier with nobody
on it (NoRecipients), tells the next tier instead (red: NotificationFailed). `advance()` plays the waits' timeouts when the clock has
passed them (the memory runtime calls it every tick). The contract suite checks both behave alike.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from crisiswatch.escalation.service import NoRecipients, NotifyRequest
from crisiswatch.ports import Clock
from crisiswatch.vocabulary import Level

logger = Logger(child=True)
NOTIFY_RETRY_ATTEMPTS = 2  # as infra/constructs/escalation.py

RUNNING, ACKNOWLEDGED, INFORMED = "RUNNING", "Acknowledged", "Informed"
SUPERSEDED, UNACKNOWLEDGED, NOTIFICATION_FAILED = "Superseded", "Unacknowledged", "NotificationFailed"


@dataclass
class Execution:
    name: str
    payload: dict[str, Any]
    tier: Level
    status: str = RUNNING
    token: str | None = None
    deadline: datetime | None = None
    path: list[str] = field(default_factory=list)  # the states passed, as in Step Functions' history


class MemoryWorkflow:
    def __init__(self, notify: Callable[[NotifyRequest], object], clock: Clock) -> None:
        self._notify = notify
        self._clock = clock
        self.executions: dict[str, Execution] = {}
        self._tokens = itertools.count(1)

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        if name in self.executions:
            existing = self.executions[name]
            return existing.status == RUNNING and existing.payload == payload
        execution = self.executions[name] = Execution(name, payload, Level(payload["current"]["tier"]))
        if execution.tier == Level.BLUE:
            self._send(execution, "alert", INFORMED)
        else:
            self._notify_and_wait(execution, int(payload["current"]["timeout_seconds"]))
        return True

    def stop(self, name: str, cause: str) -> bool:
        execution = self.executions.get(name)
        if execution is None or execution.status != RUNNING:
            return False
        self._end(execution, SUPERSEDED)
        return True

    def release(self, tokens: Sequence[str], output: dict[str, Any]) -> int:
        waiting = {e.token: e for e in self.executions.values() if e.status == RUNNING and e.token}
        released = 0
        for token in tokens:
            execution = waiting.pop(token, None)
            if execution is not None:
                self._end(execution, ACKNOWLEDGED)
                released += 1
        return released

    def advance(self) -> int:
        """Time out every wait the clock has passed; returns how many escalated."""
        now = self._clock.now()
        timed_out = [
            e for e in self.executions.values() if e.status == RUNNING and e.deadline and e.deadline <= now
        ]
        for execution in timed_out:
            up = execution.tier.next_up()
            if up is None:
                self._send(execution, "unacknowledged", UNACKNOWLEDGED)
            else:
                execution.tier = up
                self._notify_and_wait(execution)
        return len(timed_out)

    def running(self) -> list[Execution]:
        return [e for e in self.executions.values() if e.status == RUNNING]

    def _notify_and_wait(
        self, execution: Execution, timeout: int | None = None, failed_from: Level | None = None
    ) -> None:
        execution.path.append("NotifyAndWait")
        if timeout is None:
            timeout = int(execution.payload["timeouts"].get(execution.tier.value, 0))
        execution.deadline = self._clock.now() + timedelta(seconds=timeout)
        self._call(execution, "alert", wait=True, failed_from=failed_from)

    def _send(self, execution: Execution, kind: str, then: str) -> None:
        execution.path.append("NotifyBlue" if kind == "alert" else "NotifyUnacknowledged")
        if self._call(execution, kind, wait=False):
            self._end(execution, then)

    def _call(self, execution: Execution, kind: str, *, wait: bool, failed_from: Level | None = None) -> bool:
        for _ in range(NOTIFY_RETRY_ATTEMPTS + 1):
            # Each attempt of a waiting task gets a new token, as on Step Functions.
            execution.token = f"{execution.name}#{next(self._tokens)}" if wait else None
            request = NotifyRequest(
                incident_id=execution.payload["incident_id"],
                level=Level(execution.payload["level"]),
                tier=execution.tier,
                kind=kind,
                failed_tier=failed_from,
                task_token=execution.token,
            )
            try:
                self._notify(request)
                return True
            except NoRecipients as e:  # not retried: the next tier is told
                error: Exception = e
                break
            except Exception as e:  # retried (as States.TaskFailed), then the next tier is told
                error = e
                continue
        logger.warning(
            "notification failed",
            execution=execution.name,
            tier=execution.tier.value,
            error=type(error).__name__,
        )
        up = execution.tier.next_up()
        if kind == "alert" and up is not None:
            execution.path.append(f"FailedTo{up.value.title()}")
            failed = execution.tier
            execution.tier = up
            self._notify_and_wait(execution, failed_from=failed)
            return False
        self._end(execution, NOTIFICATION_FAILED)
        return False

    def _end(self, execution: Execution, status: str) -> None:
        execution.status, execution.token, execution.deadline = status, None, None
        execution.path.append(status)
