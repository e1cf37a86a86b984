"""DynamoDB: posts (dedupe + aggregates), incidents (with a by-status index), state (cursors, pointers)."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from crisiswatch import constants
from crisiswatch.aws.watches import WATCHES_PK

_S = dynamodb.AttributeType.STRING


def grant_watch_access(fn: lambda_.IFunction, state_table: dynamodb.ITable, actions: list[str]) -> None:
    """Access to the watches' items (partition key WATCHES) of the state table, and no other item."""
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=actions,
            resources=[state_table.table_arn],
            conditions={"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": [WATCHES_PK]}},
        )
    )


def grant_partitions(
    fn: lambda_.IFunction, state_table: dynamodb.ITable, actions: list[str], patterns: list[str]
) -> None:
    """Access to the state table's items whose partition key matches one of `patterns` only."""
    fn.add_to_role_policy(
        iam.PolicyStatement(
            actions=actions,
            resources=[state_table.table_arn],
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": patterns}},
        )
    )


def _table(scope: Construct, construct_id: str, *, sort_key: str | None = None, pk: str = "pk", ttl: bool):
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name=pk, type=_S),
        sort_key=dynamodb.Attribute(name=sort_key, type=_S) if sort_key else None,
        billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
        encryption=dynamodb.TableEncryption.AWS_MANAGED,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
        time_to_live_attribute=constants.TTL_ATTRIBUTE if ttl else None,
        # Incidents, acknowledgements and cursors are the product's record: a stack deletion or a
        # replacement must not take them with it.
        removal_policy=RemovalPolicy.RETAIN,
    )


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        # pk = platform#post_id (posts) and per-watch time-bucket aggregates; expire after POST_TTL_DAYS.
        self.posts = _table(self, "PostsTable", ttl=True)
        self.incidents = _table(self, "IncidentsTable", pk="incident_id", ttl=False)
        self.incidents.add_global_secondary_index(
            index_name=constants.INCIDENTS_BY_STATUS_INDEX,
            partition_key=dynamodb.Attribute(name="status", type=_S),
            sort_key=dynamodb.Attribute(name="opened_at", type=_S),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        # Fetch cursors, open-incident pointers, idempotency records, incident timelines (no TTL: kept).
        self.state = _table(self, "StateTable", sort_key="sk", ttl=True)


def grant_table(
    fn: lambda_.IFunction, table: dynamodb.ITable, actions: list[str], *, query_index: str | None = None
) -> None:
    """Exactly `actions` on `table`, and Query on its index `query_index` alone when given.

    Not CDK's `grant_read_data`/`grant_read_write_data`: they add Scan, DeleteItem, the Batch*
    actions, ConditionCheckItem and DescribeTable, and `<table arn>/index/*`. A TransactWriteItems
    needs the action of each of its parts (PutItem, UpdateItem, DeleteItem), no action of its own.
    """
    fn.add_to_role_policy(iam.PolicyStatement(actions=actions, resources=[table.table_arn]))
    if query_index is not None:
        fn.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:Query"], resources=[f"{table.table_arn}/index/{query_index}"]
            )
        )
