"""Sending to SQS in batches, failing loudly when any message was not accepted."""

from __future__ import annotations

from collections.abc import Sequence

SQS_BATCH = 10


class QueueSendError(Exception):
    pass


def send_all(client, queue_url: str, bodies: Sequence[str]) -> int:
    """Send every body (10 per request). Raises if SQS refused any, so the caller retries the
    whole unit of work instead of advancing past messages that were never queued."""
    for start in range(0, len(bodies), SQS_BATCH):
        chunk = bodies[start : start + SQS_BATCH]
        response = client.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": body} for i, body in enumerate(chunk)],
        )
        failed = response.get("Failed", [])
        if failed:
            codes = sorted({f.get("Code", "?") for f in failed})
            raise QueueSendError(f"{len(failed)} of {len(chunk)} messages refused by SQS: {codes}")
    return len(bodies)
