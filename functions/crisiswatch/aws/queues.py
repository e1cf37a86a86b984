"""SQS: sending in batches cut by count and by bytes, failing loudly when any message was not accepted."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code
from crisiswatch.limits import SQS_BATCH_MAX_BYTES, SQS_BATCH_MAX_MESSAGES
from crisiswatch.ports import QueueSendError, message_sizes


def batches(bodies: Sequence[str], sizes: Sequence[int]) -> Iterator[Sequence[str]]:
    """Consecutive runs of `bodies` of at most SQS_BATCH_MAX_MESSAGES and SQS_BATCH_MAX_BYTES
    (each body fits alone: see ports.message_sizes)."""
    start, total = 0, 0
    for end, size in enumerate(sizes):
        if end - start == SQS_BATCH_MAX_MESSAGES or total + size > SQS_BATCH_MAX_BYTES:
            yield bodies[start:end]
            start, total = end, 0
        total += size
    if start < len(bodies):
        yield bodies[start:]


class SqsQueue:
    def __init__(self, client, queue_url: str):
        self._sqs = client
        self.url = queue_url

    def send_all(self, bodies: Sequence[str]) -> int:
        """Raises QueueMessageTooLarge before sending anything when one body can never fit, and
        QueueSendError if SQS refused any, so the caller retries the whole unit of work instead of
        advancing past messages that were never queued."""
        for chunk in batches(bodies, message_sizes(bodies)):
            try:
                response = self._sqs.send_message_batch(
                    QueueUrl=self.url,
                    Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)],
                )
            except ClientError as e:
                raise QueueSendError(f"SQS refused a batch of {len(chunk)} messages: {error_code(e)}") from e
            failed = response.get("Failed", [])
            if failed:
                codes = sorted({f.get("Code", "?") for f in failed})
                raise QueueSendError(f"{len(failed)} of {len(chunk)} messages refused by SQS: {codes}")
        return len(bodies)
