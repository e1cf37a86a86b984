"""The incidents API: a REST API with IAM (SigV4) auth on every method, in front of the api Lambda."""

from __future__ import annotations

import json

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from crisiswatch import constants
from crisiswatch.aws.timeline import TIMELINE_PREFIX
from crisiswatch.constants import Env
from infra.constructs.escalation import grant_stop_escalations
from infra.constructs.function import Runtime, log_retention, make_function
from infra.constructs.storage import Storage, grant_partitions, grant_table, grant_watch_access
from infra.context import DeploymentSettings
from infra.nag import acknowledge

IAM = apigw.AuthorizationType.IAM

# (method, path) -> path parameters the method requires
ROUTES: list[tuple[str, str]] = [
    ("GET", "/incidents"),
    ("GET", "/incidents/{incident_id}"),
    ("POST", "/incidents/{incident_id}/ack"),
    ("GET", "/incidents/{incident_id}/timeline"),
    ("POST", "/incidents/{incident_id}/statements"),
    ("POST", "/incidents/{incident_id}/resolve"),
    ("GET", "/watches"),
    ("POST", "/watches"),
    ("GET", "/watches/{watch_id}"),
    ("PUT", "/watches/{watch_id}"),
    ("DELETE", "/watches/{watch_id}"),
]


def stage_options(access_logs: logs.ILogGroup, rate_limit: int, burst_limit: int) -> apigw.StageOptions:
    """One stage setup for both APIs: JSON access logs, X-Ray, error logs without bodies (they carry
    names of people on duty, providers' posts, signatures), and throttling."""
    return apigw.StageOptions(
        stage_name=constants.API_STAGE_NAME,
        access_log_destination=apigw.LogGroupLogDestination(access_logs),
        access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
            caller=True,
            http_method=True,
            ip=True,
            protocol=True,
            request_time=True,
            resource_path=True,
            response_length=True,
            status=True,
            user=True,
        ),
        tracing_enabled=True,
        metrics_enabled=True,
        logging_level=apigw.MethodLoggingLevel.ERROR,
        data_trace_enabled=False,
        throttling_rate_limit=rate_limit,
        throttling_burst_limit=burst_limit,
    )


class Api(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Runtime,
        storage: Storage,
        state_machine: sfn.StateMachine,
        settings: DeploymentSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = make_function(
            self,
            "api",
            shared,
            {
                Env.INCIDENTS_TABLE: storage.incidents.table_name,
                Env.STATE_TABLE: storage.state.table_name,
                Env.ESCALATION_STATE_MACHINE_ARN: state_machine.state_machine_arn,
                Env.CLOCK_SECONDS: settings.clock_seconds.model_dump_json(),
                Env.SUBSCRIBERS: json.dumps(settings.audiences()),
                Env.CHAT_BOTS: json.dumps(
                    [b.model_dump(mode="json") for b in settings.chat_bots], ensure_ascii=False
                ),
            },
            description="Incidents API (list, detail, timeline, acknowledge, statements, resolve) and watch management",
        )
        # Watches only: the state table's WATCHES partition, nothing of its counters or cursors.
        grant_watch_access(
            self.function,
            storage.state,
            ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:DeleteItem"],
        )
        # Timelines (events and their key markers): read, and append what people do.
        grant_partitions(
            self.function,
            storage.state,
            ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"],
            [f"{TIMELINE_PREFIX.rstrip('#')}*"],
        )
        # A resolve frees the story's open-incident pointer (WATCH#<id> / OPEN_INCIDENT#<story>).
        grant_partitions(self.function, storage.state, ["dynamodb:DeleteItem"], ["WATCH#*"])
        # Incidents: read and list (the by-status index), acknowledge, set clocks, resolve (all
        # updates: aws/incidents.py); it never opens (PutItem), deletes or scans one.
        grant_table(
            self.function,
            storage.incidents,
            ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"],
            query_index=constants.INCIDENTS_BY_STATUS_INDEX,
        )
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "Invoked only synchronously by API Gateway: the caller gets the error; an async DLQ would never "
            "receive anything.",
        )
        # An acknowledgement completes the escalation's .waitForTaskToken step; a resolve stops it.
        state_machine.grant_task_response(self.function)
        grant_stop_escalations(self.function, state_machine)

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention(), removal_policy=RemovalPolicy.RETAIN
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            # API Gateway's metrics (5XXError...) know a REST API by its name only: one per API.
            rest_api_name=f"{Stack.of(self).stack_name}-incidents",
            description="crisiswatch incidents API (IAM auth)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN,
            default_method_options=apigw.MethodOptions(authorization_type=IAM),
            deploy_options=stage_options(
                self.access_logs, constants.API_THROTTLE_RATE_LIMIT, constants.API_THROTTLE_BURST_LIMIT
            ),
        )
        self.validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        integration = apigw.LambdaIntegration(self.function, allow_test_invoke=False)
        for method, path in ROUTES:
            resource = self.rest_api.root.resource_for_path(path)
            params = {
                f"method.request.path.{part[1:-1]}": True
                for part in path.split("/")
                if part.startswith("{") and part.endswith("}")
            }
            resource.add_method(
                method,
                integration,
                authorization_type=IAM,
                request_validator=self.validator,
                request_parameters=params or None,
            )

        acknowledge(
            self.rest_api,
            "AwsSolutions-APIG3",
            "No WAF: every method requires SigV4-signed IAM credentials, so anonymous traffic is rejected by "
            "API Gateway before it reaches the integration, and stage throttling caps volume.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-COG4",
            "Callers are internal tools and the PR console signing with IAM credentials (AuthorizationType "
            "IAM on every method); there is no end-user Cognito user pool to authorize against.",
        )
        acknowledge(
            self.rest_api,
            "AwsSolutions-IAM4",
            "API Gateway's account-level CloudWatch role (needed for execution and access logs) uses the "
            "AWS-maintained AmazonAPIGatewayPushToCloudWatchLogs policy, which AWS documents for exactly "
            "this role.",
            finding="Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
        )
