"""API Gateway (REST, IAM auth) -> the incidents API."""

from __future__ import annotations

from functools import lru_cache

import boto3
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.api.app import ApiDeps, build_app
from crisiswatch.escalation.aws import TokenReleaser
from crisiswatch.observability import logger, tracer
from crisiswatch.settings import ApiSettings
from crisiswatch.store import IncidentStore
from crisiswatch.store.watches import WatchStore


@lru_cache(maxsize=1)
def _deps() -> ApiDeps:
    settings = ApiSettings.from_env()
    dynamodb = boto3.client("dynamodb")
    return ApiDeps(
        incidents=IncidentStore(dynamodb, settings.incidents_table),
        releaser=TokenReleaser(boto3.client("stepfunctions")),
        watches=WatchStore(dynamodb, settings.state_table),
    )


app = build_app(_deps)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
