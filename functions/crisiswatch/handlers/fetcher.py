"""Fetch jobs (SQS) -> platform search -> the posts queue (crisiswatch.ingest.fetching); a failed job is retried, then DLQ."""

import asyncio

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    EventType,
    async_process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.aws import fetching
from crisiswatch.environment import FetcherSettings
from crisiswatch.ingest.fetching import Fetcher
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.ports import Clock
from crisiswatch.wiring import Wiring

processor = AsyncBatchProcessor(event_type=EventType.SQS)


def build(clock: Clock) -> Fetcher:
    return fetching.fetcher(FetcherSettings.from_env(), clock)


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
        for name, value in result.counts.items():  # queued; skipped, dropped, cut, clamped, deferred
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    return async_process_partial_response(
        event=event, record_handler=handle, processor=processor, context=context
    )
