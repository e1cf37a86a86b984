"""Push: a separate REST API (`POST /push`) for providers that push posts, signed with a shared
secret (HMAC), in front of the push Lambda, which sends them to the posts queue.

The incidents API keeps IAM auth on every method. Providers cannot sign SigV4, so this API's one
method has no API Gateway authorization: the HMAC signature, checked by the function with the
secret from Secrets Manager, is its authentication.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from crisiswatch import constants
from crisiswatch.constants import Env
from crisiswatch.ingest.webhook import SIGNATURE_HEADER
from infra.constructs.api import stage_options
from infra.constructs.function import Runtime, log_retention, make_function
from infra.constructs.storage import grant_watch_access
from infra.context import DeploymentSettings
from infra.nag import acknowledge

PUSH_PATH = "/push"
HMAC_REASON = (
    f"Providers that push posts cannot sign SigV4 requests, so POST {PUSH_PATH} has no API Gateway "
    f"authorization: every request must carry an HMAC-SHA256 signature ({SIGNATURE_HEADER}) over its "
    "timestamp and raw body with the shared secret in Secrets Manager, which the push function verifies "
    "(constant-time, with a replay window) before anything is queued; that check is its authentication."
)


class Push(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Runtime,
        posts_queue: sqs.IQueue,
        state_table: dynamodb.ITable,
        settings: DeploymentSettings,
        cloud_watch_role_api: apigw.RestApi,
    ) -> None:
        """`cloud_watch_role_api`: the RestApi that sets API Gateway's account-level CloudWatch role
        (one per account and region); this API's stage logs through it, so it deploys after it."""
        super().__init__(scope, construct_id)
        # The value is generated at deploy time and never appears in the template; ops read it in
        # the console (or with the CLI) and hand it to the provider out of band.
        self.secret = secretsmanager.Secret(
            self,
            "PushSecret",
            description="crisiswatch push API: HMAC-SHA256 secret shared with the providers that push posts",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "Not rotated automatically on purpose: the HMAC secret is shared with external push providers, "
            "who must be handed each new value out of band and switch on their side; a rotation Lambda "
            "would change it without telling them and cut them off. Rotation is a manual runbook "
            "(docs/infra.md, 'Rotating the push secret'): the value becomes {\"current\": new, "
            "\"previous\": old}, the push function accepts both during the overlap, and 'previous' is "
            "removed once every provider signs with the new one.",
        )

        self.function = make_function(
            self,
            "push",
            shared,
            {
                Env.POSTS_QUEUE_URL: posts_queue.queue_url,
                Env.PUSH_SECRET_NAME: self.secret.secret_name,
                Env.STATE_TABLE: state_table.table_name,
            },
            description="Push API: verifies a provider's HMAC signature, validates, sends posts to the queue",
        )
        self.secret.grant_read(self.function)
        posts_queue.grant_send_messages(self.function)
        grant_watch_access(self.function, state_table, ["dynamodb:GetItem"])  # the batch's watch alone
        acknowledge(
            self.function,
            "Serverless-LambdaDLQ",
            "Invoked only synchronously by API Gateway: the provider gets the error and retries; an async DLQ "
            "would never receive anything.",
        )

        self.access_logs = logs.LogGroup(
            self, "AccessLogs", retention=log_retention(), removal_policy=RemovalPolicy.RETAIN
        )
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            # API Gateway's metrics (5XXError...) know a REST API by its name only: one per API.
            rest_api_name=f"{Stack.of(self).stack_name}-push",
            description="crisiswatch push API (HMAC-signed requests from providers)",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=False,  # the account-level role is set once, by the incidents API
            deploy_options=stage_options(
                self.access_logs,
                constants.PUSH_API_THROTTLE_RATE_LIMIT,
                constants.PUSH_API_THROTTLE_BURST_LIMIT,
            ),
        )
        account = cloud_watch_role_api.node.try_find_child("Account")
        if account is not None:
            self.rest_api.deployment_stage.node.add_dependency(account)

        # A coarse shape at the gateway (JSON object with the three fields, posts a list): junk is
        # turned away before it costs an invocation. The function validates everything in full.
        model = self.rest_api.add_model(
            "PushBatchModel",
            content_type="application/json",
            model_name="PushBatch",
            schema=apigw.JsonSchema(
                schema=apigw.JsonSchemaVersion.DRAFT4,
                type=apigw.JsonSchemaType.OBJECT,
                required=["watch_id", "platform", "posts"],
                properties={
                    "watch_id": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
                    "platform": apigw.JsonSchema(type=apigw.JsonSchemaType.STRING),
                    "posts": apigw.JsonSchema(type=apigw.JsonSchemaType.ARRAY),
                },
            ),
        )
        self.validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        self.method = self.rest_api.root.resource_for_path(PUSH_PATH).add_method(
            "POST",
            apigw.LambdaIntegration(self.function, allow_test_invoke=False),
            authorization_type=apigw.AuthorizationType.NONE,
            request_validator=self.validator,
            request_models={"application/json": model},
        )
        acknowledge(self.method, "AwsSolutions-APIG4", HMAC_REASON)
        acknowledge(self.method, "AwsSolutions-COG4", HMAC_REASON)
        self.web_acl = self._rate_limit_per_source_ip()

    def _rate_limit_per_source_ip(self) -> wafv2.CfnWebACL:
        """A WAF web ACL on the push stage with one rate-based rule: a source IP that sends more
        than PUSH_WAF_RATE_LIMIT_PER_IP requests in PUSH_WAF_WINDOW_SECONDS is blocked (403) until
        its rate falls again.

        Why WAF and not a usage plan: a usage plan throttles per API key, and the providers sign
        with HMAC, not with API keys. Requiring a key would not stop an unsigned flood either: the
        flooder needs no valid key to be counted against the stage's throttle before API Gateway
        rejects it, and one key shared by all callers would put everyone into one bucket again.
        A rate-based rule counts per source IP before API Gateway sees the request, so unsigned
        floods from one address are dropped at the edge and the stage's 20 rps stay for the
        providers. (A flood spread over many addresses needs WAF's managed IP-reputation rules or
        Shield; see docs/infra.md.)
        """
        rule_name = "PushRatePerSourceIp"
        web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True,
                metric_name=f"{Stack.of(self).stack_name}-push-acl",
                sampled_requests_enabled=True,
            ),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name=rule_name,
                    priority=0,
                    action=wafv2.CfnWebACL.RuleActionProperty(block={}),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            aggregate_key_type="IP",
                            limit=constants.PUSH_WAF_RATE_LIMIT_PER_IP,
                            evaluation_window_sec=constants.PUSH_WAF_WINDOW_SECONDS,
                        )
                    ),
                    visibility_config=wafv2.CfnWebACL.VisibilityConfigProperty(
                        cloud_watch_metrics_enabled=True,
                        metric_name=f"{Stack.of(self).stack_name}-{rule_name}",
                        sampled_requests_enabled=True,
                    ),
                )
            ],
        )
        association = wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.rest_api.deployment_stage.stage_arn,
            web_acl_arn=web_acl.attr_arn,
        )
        association.node.add_dependency(self.rest_api.deployment_stage)
        return web_acl
