"""API Gateway (REST, IAM auth) -> the incidents and watches API (crisiswatch.api.app)."""

import boto3
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.api.app import ApiDeps, build_app
from crisiswatch.aws.incidents import DynamoIncidentRepository
from crisiswatch.aws.timeline import DynamoTimeline
from crisiswatch.aws.timers import scheduler_timers
from crisiswatch.aws.watches import DynamoWatchCatalogue
from crisiswatch.aws.workflow import StepFunctionsWorkflow
from crisiswatch.environment import ApiSettings
from crisiswatch.observability import logger, tracer
from crisiswatch.ports import Clock
from crisiswatch.wiring import Wiring


def build(clock: Clock) -> ApiDeps:
    settings = ApiSettings.from_env()
    dynamodb = boto3.client("dynamodb")
    return ApiDeps(
        incidents=DynamoIncidentRepository(dynamodb, settings.incidents_table, settings.state_table),
        workflow=StepFunctionsWorkflow(boto3.client("stepfunctions"), settings.state_machine_arn),
        watches=DynamoWatchCatalogue(dynamodb, settings.state_table),
        clock=clock,
        timeline=DynamoTimeline(dynamodb, settings.state_table),
        timers=scheduler_timers(settings, clock),
        durations=settings.durations,
        known_names=settings.known_names,
    )


wiring = Wiring(build)
app = build_app(wiring.get)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
