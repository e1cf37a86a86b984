"""Invoked by the escalation state machine: publish one alert, remember its wait token."""

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.aws.alerts import SnsAlertPublisher
from crisiswatch.aws.incidents import DynamoIncidentRepository
from crisiswatch.environment import NotifierSettings
from crisiswatch.escalation.service import Notifier, NotifyRequest
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.ports import Clock
from crisiswatch.wiring import Wiring


def build(clock: Clock) -> Notifier:
    settings = NotifierSettings.from_env()
    return Notifier(
        incidents=DynamoIncidentRepository(boto3.client("dynamodb"), settings.incidents_table),
        publisher=SnsAlertPublisher(boto3.client("sns"), settings.alerts_topic_arn),
        clock=clock,
        console_url=settings.console_url,
    )


wiring = Wiring(build)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = NotifyRequest.model_validate(event)
    notification = wiring.get().notify(request)
    metrics.add_metric(name="NotificationsSent", unit=MetricUnit.Count, value=1)
    return {"message_id": notification.message_id, "tier": request.tier.value, "kind": request.kind}
