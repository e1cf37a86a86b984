"""Seeds the watches of the CDK context into the state table at deploy time.

Create-if-absent: a watch that people have since changed through the API keeps their version, and a
watch added to the context is created on the next deploy. Watches removed from the context stay
(delete them through the API).
"""

from __future__ import annotations

from aws_cdk import Stack, custom_resources
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from constructs import Construct

from crisiswatch.aws.watches import WATCHES_PK, watch_item
from infra.context import DeploymentSettings
from infra.nag import acknowledge

# The provider Lambda that CDK creates once per stack for every AwsCustomResource.
PROVIDER_ID = "AWS679f53fac002430cb0da5b7982bd2287"


class WatchSeed(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_table: dynamodb.ITable,
        settings: DeploymentSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        for watch in settings.watches:
            # A fixed `updated_at` keeps the template the same from one synth to the next.
            item = watch_item(watch, updated_at="deploy", by="cdk deploy (context seed)")
            put = custom_resources.AwsSdkCall(
                service="DynamoDB",
                action="putItem",
                parameters={
                    "TableName": state_table.table_name,
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                },
                physical_resource_id=custom_resources.PhysicalResourceId.of(f"watch-seed-{watch.id}"),
                ignore_error_codes_matching="ConditionalCheckFailedException",
            )
            custom_resources.AwsCustomResource(
                self,
                f"Watch-{watch.id}",
                on_create=put,
                on_update=put,
                install_latest_aws_sdk=False,
                policy=custom_resources.AwsCustomResourcePolicy.from_statements(
                    [
                        # The watches' partition only, like the API's and the scheduler's grants.
                        iam.PolicyStatement(
                            actions=["dynamodb:PutItem"],
                            resources=[state_table.table_arn],
                            conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [WATCHES_PK]}},
                        )
                    ]
                ),
            )
        provider = Stack.of(self).node.try_find_child(PROVIDER_ID)
        if provider is None:  # no watches in the context: no seed, no provider
            return
        acknowledge(
            provider,
            "AwsSolutions-IAM4",
            "CDK's AwsCustomResource provider runs deploy-time SDK calls only and uses the AWS-managed basic "
            "execution policy to write its own logs.",
            finding="Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        )
        for rule, reason in (
            (
                "AwsSolutions-L1",
                "The runtime of CDK's AwsCustomResource provider is chosen by aws-cdk-lib and "
                "moves with its releases; it runs at deploy time only.",
            ),
            (
                "Serverless-LambdaDLQ",
                "Invoked synchronously by CloudFormation at deploy time, which reports a "
                "failure on the stack: there is nothing to dead-letter.",
            ),
            (
                "Serverless-LambdaTracing",
                "A deploy-time helper that makes one SDK call per watch; tracing it "
                "would add nothing an operator needs.",
            ),
            (
                "Serverless-LambdaDefaultMemorySize",
                "CDK sizes its AwsCustomResource provider; one small SDK call "
                "per watch at deploy time needs no tuning.",
            ),
            (
                "Serverless-LambdaLatestVersion",
                "The runtime of CDK's AwsCustomResource provider is chosen by "
                "aws-cdk-lib and moves with its releases.",
            ),
        ):
            acknowledge(provider, rule, reason)
