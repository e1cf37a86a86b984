"""EventBridge Scheduler: named one-time wake-ups (crisiswatch.ports.Timers), one schedule each in
the timers' schedule group (infra/constructs/timers.py), invoking the target Lambda with
`{"timer": <name>, "payload": <payload>}`; see docs/response.md."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code
from crisiswatch.clock import SystemClock
from crisiswatch.constants import TIMER_MAX_EVENT_AGE_SECONDS, TIMER_MAX_RETRY_ATTEMPTS
from crisiswatch.ports import Clock

if TYPE_CHECKING:
    from crisiswatch.environment import TimerSettings

SCHEDULE_NAME_MAX = 64  # Scheduler's limit; names match [0-9a-zA-Z-_.]+
_HASH_CHARS = 16  # 64 bits of sha256: distinct names never meet in practice
_INVALID = re.compile(r"[^0-9A-Za-z_.-]+")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_AT_FORMAT = "%Y-%m-%dT%H:%M:%S"
# AWS runs a one-time schedule within the minute of its time (60-second precision); the docs do
# not promise anything for an `at()` already past (moto accepts it and fires nothing; reports of
# AWS differ between a ValidationException and a schedule that never runs). The port allows a past
# time ("fire as soon as possible"), so `set` moves anything earlier than this margin from now to
# now + margin: it fires within about two minutes instead of perhaps failing or never firing.
PAST_MARGIN = timedelta(minutes=1)


def schedule_name(name: str) -> str:
    """The schedule for the port's `name`: the name's valid characters (others become "-"), cut to
    fit, then "-" and a hash of the whole name, so the same name always maps to the same schedule
    and names that read alike ("a#b", "a/b", two long names sharing a prefix) stay distinct."""
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:_HASH_CHARS]
    readable = _INVALID.sub("-", name).strip("-")[: SCHEDULE_NAME_MAX - _HASH_CHARS - 1]
    return f"{readable}-{digest}" if readable else digest


def at_expression(at: datetime) -> str:
    """`at(yyyy-mm-ddThh:mm:ss)` in UTC (evaluate it with ScheduleExpressionTimezone "UTC")."""
    if at.tzinfo is None:
        raise ValueError("a timer needs a timezone-aware time")
    return f"at({at.astimezone(UTC).strftime(_AT_FORMAT)})"


def parse_at(expression: str) -> datetime:
    """The UTC moment of an `at(...)` expression (one of ours: ScheduleExpressionTimezone UTC)."""
    match = _AT.match(expression)
    if not match:
        raise ValueError(f"not a one-time schedule expression: {expression!r}")
    return datetime.strptime(match.group(1), _AT_FORMAT).replace(tzinfo=UTC)


class SchedulerTimers:
    """One schedule per timer in `group_name`; the target is invoked with the scheduler's
    `role_arn`, retried (TIMER_MAX_RETRY_ATTEMPTS, TIMER_MAX_EVENT_AGE_SECONDS), then sent to
    `dead_letter_arn`. `ActionAfterCompletion: DELETE`: a fired schedule is gone, so `cancel`
    afterwards counts it as not existing. `clock` only moves past times to the near future."""

    def __init__(
        self,
        client,
        group_name: str,
        target_arn: str,
        role_arn: str,
        dead_letter_arn: str,
        clock: Clock | None = None,
    ):
        self._scheduler = client
        self._group = group_name
        self._target_arn = target_arn
        self._role_arn = role_arn
        self._dead_letter_arn = dead_letter_arn
        self._clock = clock or SystemClock()

    def set(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        earliest = self._clock.now() + PAST_MARGIN
        request = self._request(name, max(at, earliest), payload)
        try:
            self._scheduler.create_schedule(**request, ActionAfterCompletion="DELETE")
        except ClientError as e:
            if error_code(e) != "ConflictException":
                raise
            # UpdateSchedule replaces every setting: the whole request again.
            self._scheduler.update_schedule(**request, ActionAfterCompletion="DELETE")

    def cancel(self, names: Sequence[str]) -> int:
        existed = 0
        for name in dict.fromkeys(names):
            try:
                self._scheduler.delete_schedule(GroupName=self._group, Name=schedule_name(name))
            except ClientError as e:
                if error_code(e) != "ResourceNotFoundException":  # fired (deleted) or never set
                    raise
            else:
                existed += 1
        return existed

    def _request(self, name: str, at: datetime, payload: dict[str, Any]) -> dict[str, Any]:
        return {
            "Name": schedule_name(name),
            "GroupName": self._group,
            "ScheduleExpression": at_expression(at),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED",
            "Target": {
                "Arn": self._target_arn,
                "RoleArn": self._role_arn,
                "Input": json.dumps({"timer": name, "payload": payload}, ensure_ascii=False),
                "RetryPolicy": {
                    "MaximumRetryAttempts": TIMER_MAX_RETRY_ATTEMPTS,
                    "MaximumEventAgeInSeconds": TIMER_MAX_EVENT_AGE_SECONDS,
                },
                "DeadLetterConfig": {"Arn": self._dead_letter_arn},
            },
        }


def scheduler_timers(settings: TimerSettings, clock: Clock) -> SchedulerTimers:
    """The timers of a function whose environment names them (crisiswatch.environment.TimerSettings)."""
    return SchedulerTimers(boto3.client("scheduler"), *settings.timer_target(), clock=clock)
