"""Posts (SQS) -> intake, with partial batch failures; {"sweep": true} (EventBridge) -> the sweep."""

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.aws import scoring
from crisiswatch.environment import ScorerSettings
from crisiswatch.incidents.intake import STORED, Intake
from crisiswatch.observability import MetricUnit, add_counts, logger, metrics, tracer
from crisiswatch.ports import Clock
from crisiswatch.wiring import Wiring


def build(clock: Clock) -> Intake:
    return scoring.intake(ScorerSettings.from_env(), clock)


wiring = Wiring(build)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if event.get("sweep") is True:
        response = counts = wiring.get().sweep().counts  # resolved incidents, silent watches
        for name, value in counts.items():  # every sweep's, zeros too: the silent-watch alarm reads them
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        return response
    batch = wiring.get().batch(record["body"] for record in event.get("Records", []))
    score = lambda record: batch.add_message(  # noqa: E731 - one record, fails alone
        record.body,
        redelivered=int(record.attributes.approximate_receive_count) > 1,
        ref=record.message_id,
    )
    response = process_partial_response(event, score, BatchProcessor(event_type=EventType.SQS), context)
    batch.finish()  # each watch on its own: the messages of a watch that failed are retried
    failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
    response["batchItemFailures"] += [{"itemIdentifier": ref} for ref in batch.retry if ref not in failed]
    add_counts(batch.counts, always=STORED)
    return response
