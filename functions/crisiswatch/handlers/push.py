"""API Gateway (POST /push, HMAC-signed) -> the posts queue; 4xx reasons in crisiswatch.ingest.push_receiver."""

import boto3
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.aws.queues import SqsQueue
from crisiswatch.aws.secrets import SecretsManagerReader
from crisiswatch.aws.watches import DynamoWatchCatalogue
from crisiswatch.constants import PUSH_SECRET_MAX_AGE_SECONDS
from crisiswatch.environment import PushSettings
from crisiswatch.ingest.push_receiver import (
    PushReceiver,
    PushRejected,
    PushRequest,
    api_response,
    rejected_response,
)
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.ports import Clock
from crisiswatch.watches import WatchCache
from crisiswatch.wiring import Wiring


def build(clock: Clock) -> PushReceiver:
    s = PushSettings.from_env()
    return PushReceiver(
        secrets=SecretsManagerReader(PUSH_SECRET_MAX_AGE_SECONDS),
        secret_name=s.push_secret_name,
        watches=WatchCache(DynamoWatchCatalogue(boto3.client("dynamodb"), s.state_table)),
        posts=SqsQueue(boto3.client("sqs"), s.posts_queue_url),
        clock=clock,
    )


wiring = Wiring(build)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    try:
        pushed = wiring.get().accept(PushRequest.from_api_event(event))
    except PushRejected as e:
        metrics.add_metric(name="PushRejected", unit=MetricUnit.Count, value=1)
        return rejected_response(e)
    for name, value in {"PostsPushed": pushed.accepted, **pushed.bounded}.items():  # and cut, clamped
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    return api_response(202, {"accepted": pushed.accepted, "dropped": pushed.dropped})
