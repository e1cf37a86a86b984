"""EventBridge schedule -> one fetch job per watch on the scheduled platform."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from crisiswatch.config import FETCH_LOOKBACK_MINUTES
from crisiswatch.models import FetchJob, utcnow
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.queues import send_all
from crisiswatch.settings import SchedulerSettings
from crisiswatch.store.watches import WatchStore


class UnknownPlatform(Exception):
    pass


class ScheduleEvent(BaseModel):
    platform: str
    lookback_minutes: int = Field(default=FETCH_LOOKBACK_MINUTES, gt=0, le=24 * 60)


@lru_cache(maxsize=1)
def _settings() -> SchedulerSettings:
    return SchedulerSettings.from_env()


@lru_cache(maxsize=1)
def _sqs():
    return boto3.client("sqs")


@lru_cache(maxsize=1)
def _dynamodb():
    return boto3.client("dynamodb")


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    settings = _settings()
    schedule = ScheduleEvent.model_validate(event)
    now = utcnow()
    watches = WatchStore(_dynamodb(), settings.state_table).list()
    since = now - timedelta(minutes=schedule.lookback_minutes)
    jobs = [
        FetchJob(watch=watch, platform=schedule.platform, scheduled_at=now, since=since).model_dump_json()
        for watch in watches
        if schedule.platform in watch.platforms
    ]
    queue_url = settings.fetch_queue_urls.get(schedule.platform)
    if queue_url is None:
        raise UnknownPlatform(
            f"no fetch queue for platform {schedule.platform!r}: {sorted(settings.fetch_queue_urls)}"
        )
    send_all(_sqs(), queue_url, jobs)
    metrics.add_metric(name="FetchJobsScheduled", unit=MetricUnit.Count, value=len(jobs))
    logger.info("fetch jobs scheduled", platform=schedule.platform, jobs=len(jobs))
    return {"platform": schedule.platform, "jobs": len(jobs)}
