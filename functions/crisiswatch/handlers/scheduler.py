"""EventBridge schedule -> one fetch job per watch on the scheduled platform (a watch whose job fails fails alone)."""

import boto3
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.aws.queues import SqsQueue
from crisiswatch.aws.watches import DynamoWatchCatalogue
from crisiswatch.environment import SchedulerSettings
from crisiswatch.ingest.scheduling import JOBS_SCHEDULED, ScheduleEvent, Scheduler
from crisiswatch.observability import add_counts, logger, metrics, tracer
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
    scheduled = wiring.get().schedule(schedule)
    add_counts(scheduled.counts, always=JOBS_SCHEDULED)
    logger.info(
        "fetch jobs scheduled", platform=schedule.platform, jobs=scheduled.queued, failed=scheduled.failed
    )
    answer = {"platform": schedule.platform, "jobs": scheduled.queued}
    return answer | ({"failed": scheduled.failed} if scheduled.failed else {})  # the watch ids, when any
