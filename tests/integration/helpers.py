"""Event builders for handler tests: the shapes AWS sends."""

from __future__ import annotations

import hashlib
import json
import os
import uuid

import boto3

from crisiswatch.aws.incidents import DynamoIncidentRepository
from crisiswatch.aws.posts import DynamoPostRepository
from crisiswatch.constants import Env


def sqs_event(*bodies: str, receive_count: int = 1) -> dict:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "handle",
                "body": body,
                "attributes": {"ApproximateReceiveCount": str(receive_count)},
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:ap-northeast-1:123456789012:queue",
                "awsRegion": "ap-northeast-1",
            }
            for body in bodies
        ]
    }


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
