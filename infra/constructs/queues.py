"""SQS queues as crisiswatch uses them: encrypted, TLS-only, each work queue with its own DLQ."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from crisiswatch import constants
from crisiswatch.limits import SQS_MESSAGE_MAX_BYTES
from infra.nag import acknowledge


def dead_letter_queue(scope: Construct, construct_id: str) -> sqs.Queue:
    """Where undeliverable messages wait (DLQ_RETENTION_DAYS) for a person or a redrive."""
    dlq = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(constants.DLQ_RETENTION_DAYS),
        max_message_size_bytes=SQS_MESSAGE_MAX_BYTES,  # what the work queues take, so a redrive fits
    )
    acknowledge(
        dlq,
        "Serverless-SQSRedrivePolicy",
        "This is a dead-letter queue: nothing consumes it automatically, so a further redrive target would "
        "only move the problem. Messages stay DLQ_RETENTION_DAYS and a depth alarm pages ops.",
    )
    return dlq


def work_queue(
    scope: Construct, construct_id: str, *, consumer_timeout_seconds: int
) -> tuple[sqs.Queue, sqs.Queue]:
    """A queue consumed by a Lambda, and its DLQ (construct ids `<id>` and `<id minus Queue>DLQ`).

    The visibility timeout is VISIBILITY_TIMEOUT_FACTOR x the consumer's timeout, so a batch that
    is retried inside the function is not handed to a second consumer meanwhile.
    """
    dlq = dead_letter_queue(scope, construct_id.removesuffix("Queue") + "DLQ")
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        visibility_timeout=Duration.seconds(constants.VISIBILITY_TIMEOUT_FACTOR * consumer_timeout_seconds),
        dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=constants.DLQ_MAX_RECEIVE_COUNT, queue=dlq),
        # Stated, not left to the account's default: the queue adapters refuse bigger bodies themselves.
        max_message_size_bytes=SQS_MESSAGE_MAX_BYTES,
    )
    return queue, dlq
