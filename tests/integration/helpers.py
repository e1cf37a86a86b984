"""Event builders for handler tests: the shapes AWS sends."""

from __future__ import annotations

import json
import os

import boto3

from crisiswatch.aws.incidents import DynamoIncidentRepository
from crisiswatch.aws.posts import DynamoPostRepository
from crisiswatch.constants import Env


def stores() -> tuple[DynamoPostRepository, DynamoIncidentRepository]:
    client = boto3.client("dynamodb")
    return (
        DynamoPostRepository(client, os.environ[Env.POSTS_TABLE], os.environ[Env.STATE_TABLE]),
        DynamoIncidentRepository(client, os.environ[Env.INCIDENTS_TABLE], os.environ[Env.STATE_TABLE]),
    )


def executions(aws) -> list[dict]:
    sfn = aws.client("stepfunctions")
    return sfn.list_executions(stateMachineArn=os.environ[Env.ESCALATION_STATE_MACHINE_ARN])["executions"]


def queue_depth(aws, url: str) -> int:
    attributes = aws.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def dlq_url(aws, queue_url: str) -> str:
    sqs = aws.client("sqs")
    policy = json.loads(
        sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )
    return sqs.get_queue_url(QueueName=policy["deadLetterTargetArn"].rsplit(":", 1)[-1])["QueueUrl"]
