"""EventBridge schedule -> one fetch job per watch on the scheduled platform."""

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.aws.queues import SqsQueue
from crisiswatch.aws.watches import DynamoWatchCatalogue
from crisiswatch.environment import SchedulerSettings
from crisiswatch.ingest.scheduling import ScheduleEvent, Scheduler
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.ports import Clock
from crisiswatch.wiring import Wiring


def build(clock: Clock) -> Scheduler:
    settings = SchedulerSettings.from_env()
    sqs = boto3.client("sqs")
    return Scheduler(
        watches=DynamoWatchCatalogue(boto3.client("dynamodb"), settings.state_table),
        fetch_queues={platform: SqsQueue(sqs, url) for platform, url in settings.fetch_queue_urls.items()},
        clock=clock,
    )


wiring = Wiring(build)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    schedule = ScheduleEvent.model_validate(event)
    jobs = wiring.get().schedule(schedule)
    metrics.add_metric(name="FetchJobsScheduled", unit=MetricUnit.Count, value=jobs)
    logger.info("fetch jobs scheduled", platform=schedule.platform, jobs=jobs)
    return {"platform": schedule.platform, "jobs": jobs}
