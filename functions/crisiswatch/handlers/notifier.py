"""Invoked by the escalation state machine: publish one alert, remember its wait token."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from crisiswatch.escalation.aws import AlertPublisher
from crisiswatch.escalation.service import notify
from crisiswatch.models import Level, utcnow
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.settings import NotifierSettings
from crisiswatch.store import IncidentStore


class NotifyRequest(BaseModel):
    """The payload the state machine sends (see infra/constructs/escalation.py)."""

    model_config = ConfigDict(extra="forbid")
    incident_id: str
    tier: Level
    kind: Literal["alert", "unacknowledged"]
    task_token: str | None = None


@dataclass(frozen=True)
class _Deps:
    settings: NotifierSettings
    store: IncidentStore
    publisher: AlertPublisher


@lru_cache(maxsize=1)
def _deps() -> _Deps:
    settings = NotifierSettings.from_env()
    return _Deps(
        settings=settings,
        store=IncidentStore(boto3.client("dynamodb"), settings.incidents_table),
        publisher=AlertPublisher(boto3.client("sns"), settings.alerts_topic_arn),
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    deps = _deps()
    request = NotifyRequest.model_validate(event)
    notification = notify(
        deps.store,
        deps.publisher,
        request.incident_id,
        request.tier,
        request.kind,
        utcnow(),
        wait_token=request.task_token,
        console_url=deps.settings.console_url,
    )
    metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=1)
    return {"message_id": notification.message_id, "tier": request.tier.value, "kind": request.kind}
