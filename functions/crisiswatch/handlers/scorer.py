"""Posts (SQS) -> score, store once, re-assess, escalate (crisiswatch.incidents.intake): partial batch
failures. Also, every SWEEP_MINUTES, the quiet sweep (EventBridge, {"sweep": true}): watches that
get no posts still have their open incidents re-read, and the quiet ones resolved."""

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
from crisiswatch.incidents.intake import RESOLVED, Intake
from crisiswatch.incidents.policy import rules_from_overrides
from crisiswatch.incidents.service import Detector
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.ports import Clock
from crisiswatch.watches import WatchCache
from crisiswatch.wiring import Wiring

processor = BatchProcessor(event_type=EventType.SQS)


def build(clock: Clock) -> Intake:
    s = ScorerSettings.from_env()
    dynamodb = boto3.client("dynamodb")
    detector = Detector(
        posts=DynamoPostRepository(dynamodb, s.posts_table, s.state_table),
        baselines=DynamoBaselineStore(dynamodb, s.state_table),
        incidents=DynamoIncidentRepository(dynamodb, s.incidents_table, s.state_table),
        workflow=StepFunctionsWorkflow(boto3.client("stepfunctions"), s.state_machine_arn),
        rules=rules_from_overrides(s.level_thresholds),
        ack_timeouts=s.ack_timeout_seconds,
    )
    return Intake(
        watches=WatchCache(DynamoWatchCatalogue(dynamodb, s.state_table)),
        detector=detector,
        stories=DynamoStoryIndex(dynamodb, s.state_table),
        clock=clock,
    )


wiring = Wiring(build)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if event.get("sweep") is True:
        changes = wiring.get().sweep()
        resolved = sum(c.resolved for c in changes)
        metrics.add_metric(name=RESOLVED, unit=MetricUnit.Count, value=resolved)
        return {"swept": len(changes), "resolved": resolved}
    batch = wiring.get().batch(record["body"] for record in event.get("Records", []))
    score_and_store = lambda record: batch.add_message(record.body)  # noqa: E731 - one record, fails alone
    response = process_partial_response(event, score_and_store, processor, context)
    batch.finish()
    for name, value in batch.counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    return response
