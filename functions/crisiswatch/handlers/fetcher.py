"""Fetch jobs (SQS) -> platform search -> the posts queue (crisiswatch.ingest.fetching); a failed job is retried, then DLQ."""

import asyncio

import boto3
from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.aws.cursors import DynamoCursorStore
from crisiswatch.aws.queues import SqsQueue
from crisiswatch.aws.secrets import SecretsManagerReader
from crisiswatch.constants import CREDENTIALS_MAX_AGE_SECONDS
from crisiswatch.environment import FetcherSettings
from crisiswatch.ingest.credentials import PlatformCredentials
from crisiswatch.ingest.fetching import Fetcher
from crisiswatch.ingest.http import HttpClient
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.ports import Clock
from crisiswatch.wiring import Wiring

processor = AsyncBatchProcessor(event_type=EventType.SQS)


def build(clock: Clock) -> Fetcher:
    settings = FetcherSettings.from_env()
    timeout = settings.http_timeout_seconds
    return Fetcher(
        cursors=DynamoCursorStore(boto3.client("dynamodb"), settings.state_table),
        posts=SqsQueue(boto3.client("sqs"), settings.posts_queue_url),
        fetch_queues={p: SqsQueue(boto3.client("sqs"), url) for p, url in settings.fetch_queue_urls.items()},
        base_urls=settings.base_urls,
        credentials=PlatformCredentials(
            SecretsManagerReader(CREDENTIALS_MAX_AGE_SECONDS), settings.platform_secrets
        ),
        http=lambda seconds_left: HttpClient(timeout=timeout, deadline=max(timeout, seconds_left)),
        clock=clock,
    )


wiring = Wiring(build)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # The batch's jobs run at once, each in a thread: a job is mostly waiting on a platform's
    # answers, and Lambda bills the invocation's duration, so five jobs cost about the slowest one.
    service = wiring.get()

    async def handle(record: SQSRecord) -> None:
        seconds_left = context.get_remaining_time_in_millis() / 1000
        result = await asyncio.to_thread(service.run_message, record.body, seconds_left)
        for name, value in result.counts.items():  # posts queued; skipped, dropped, cut, clamped
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        if result.deferred:
            metrics.add_metric(name="FetchJobsDeferred", unit=MetricUnit.Count, value=1)

    return async_process_partial_response(
        event=event, record_handler=handle, processor=processor, context=context
    )
