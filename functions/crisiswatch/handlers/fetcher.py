"""Fetch jobs (SQS) -> platform search -> matched, normalized posts on the posts queue.

Each job pages back to its cursor minus an overlap, queues what it found, and only then moves the
cursor. A job whose fetch fails (retries exhausted, malformed page) queues nothing, leaves the
cursor where it was, and is reported as a batch item failure: SQS redelivers it, and after the
maximum receive count it lands in the dead-letter queue.
"""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.config import (
    CREDENTIALS_MAX_AGE_SECONDS,
    FETCH_MAX_PAGES,
    FETCH_OVERLAP_MINUTES,
    FETCH_TIME_MARGIN_SECONDS,
)
from crisiswatch.ingest import fetch_posts
from crisiswatch.ingest.http import HttpClient
from crisiswatch.models import FetchJob, utcnow
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.queues import send_all
from crisiswatch.settings import FetcherSettings
from crisiswatch.store.cursors import CursorStore

processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def _settings() -> FetcherSettings:
    return FetcherSettings.from_env()


@lru_cache(maxsize=1)
def _sqs():
    return boto3.client("sqs")


class CredentialsError(Exception):
    pass


def _credentials(platform: str) -> dict[str, str]:
    """The platform's request headers from Secrets Manager (cached 5 min); {} when it needs none."""
    name = _settings().platform_secrets.get(platform)
    if name is None:
        return {}
    value = parameters.get_secret(name, max_age=CREDENTIALS_MAX_AGE_SECONDS, transform="json")
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        # Say where, never what: the value is a credential.
        raise CredentialsError(
            f"secret {name!r} for {platform} must be a JSON object of header name -> value"
        )
    return value


@lru_cache(maxsize=1)
def _cursors() -> CursorStore:
    return CursorStore(boto3.client("dynamodb"), _settings().state_table)


def _handle_job(record: SQSRecord, remaining_seconds: float) -> None:
    settings = _settings()
    job = FetchJob.model_validate_json(record.body)
    client = HttpClient(
        timeout=settings.http_timeout_seconds,
        deadline=max(settings.http_timeout_seconds, remaining_seconds - FETCH_TIME_MARGIN_SECONDS),
    )
    now = utcnow()
    cursor = _cursors().get(job.watch.id, job.platform)
    since = cursor - timedelta(minutes=FETCH_OVERLAP_MINUTES) if cursor else job.since
    result = fetch_posts(
        job,
        settings.base_urls[job.platform],
        client,
        now,
        max_pages=FETCH_MAX_PAGES,
        since=since,
        credentials=_credentials(job.platform),
    )
    send_all(_sqs(), settings.posts_queue_url, [post.model_dump_json() for post in result.posts])
    if result.posts:  # queued: safe to move on
        _cursors().advance(job.watch.id, job.platform, max(p.created_at for p in result.posts), now)
    metrics.add_metric(name="PostsFetched", unit=MetricUnit.Count, value=len(result.posts))
    logger.info(
        "fetched",
        watch_id=job.watch.id,
        platform=job.platform,
        pages=result.pages_fetched,
        queued=len(result.posts),
        dropped=result.dropped,
    )


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    def handle(record: SQSRecord) -> None:
        try:
            _handle_job(record, context.get_remaining_time_in_millis() / 1000)
        except Exception as e:
            # The reason, for the people who look at the DLQ; messages never hold credentials.
            logger.warning(
                "fetch job failed", message_id=record.message_id, error=type(e).__name__, reason=str(e)
            )
            raise

    return process_partial_response(event=event, record_handler=handle, processor=processor, context=context)
