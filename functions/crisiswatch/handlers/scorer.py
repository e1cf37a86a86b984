"""Posts (SQS) -> intake, with partial batch failures; {"sweep": true} (EventBridge) -> the sweep."""

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.aws.baselines import DynamoBaselineStore
from crisiswatch.aws.incidents import DynamoIncidentRepository
from crisiswatch.aws.posts import DynamoPostRepository
from crisiswatch.aws.stories import DynamoStoryIndex
from crisiswatch.aws.watches import DynamoWatchCatalogue
from crisiswatch.aws.workflow import StepFunctionsWorkflow
from crisiswatch.environment import ScorerSettings
from crisiswatch.incidents.intake import Intake
from crisiswatch.incidents.service import Detector
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.ports import Clock
from crisiswatch.watches import WatchCache
from crisiswatch.wiring import Wiring


def build(clock: Clock) -> Intake:
    s, db = ScorerSettings.from_env(), boto3.client("dynamodb")
    posts = DynamoPostRepository(db, s.posts_table, s.state_table)
    baselines = DynamoBaselineStore(db, s.state_table)
    incidents = DynamoIncidentRepository(db, s.incidents_table, s.state_table)
    workflow = StepFunctionsWorkflow(boto3.client("stepfunctions"), s.state_machine_arn)
    detector = Detector(posts, baselines, incidents, workflow, s.rules, s.ack_timeout_seconds)
    watches = WatchCache(DynamoWatchCatalogue(db, s.state_table))
    return Intake(watches, detector, DynamoStoryIndex(db, s.state_table), clock, s.heartbeat_silent_minutes)


wiring = Wiring(build)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if event.get("sweep") is True:
        response = counts = wiring.get().sweep().counts  # resolved incidents, silent watches
    else:
        batch = wiring.get().batch(record["body"] for record in event.get("Records", []))
        score = lambda record: batch.add_message(record.body)  # noqa: E731 - one record, fails alone
        response = process_partial_response(event, score, BatchProcessor(event_type=EventType.SQS), context)
        batch.finish()
        counts = batch.counts
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    return response
