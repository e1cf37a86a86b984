"""SQS: sending in batches of 10, failing loudly when any message was not accepted."""

from __future__ import annotations

from collections.abc import Sequence

from crisiswatch.ports import QueueSendError

SQS_BATCH = 10


class SqsQueue:
    def __init__(self, client, queue_url: str):
        self._sqs = client
        self.url = queue_url

    def send_all(self, bodies: Sequence[str]) -> int:
        """Raises QueueSendError if SQS refused any, so the caller retries the whole unit of work
        instead of advancing past messages that were never queued."""
        for start in range(0, len(bodies), SQS_BATCH):
            chunk = bodies[start : start + SQS_BATCH]
            response = self._sqs.send_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)],
            )
            failed = response.get("Failed", [])
            if failed:
                codes = sorted({f.get("Code", "?") for f in failed})
                raise QueueSendError(f"{len(failed)} of {len(chunk)} messages refused by SQS: {codes}")
        return len(bodies)
