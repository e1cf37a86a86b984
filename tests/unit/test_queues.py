"""The SQS adapter's batches: at most 10 messages and 256 KiB per SendMessageBatch request, every
body checked before the first request, and SQS's refusals as QueueSendError (no botocore)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from crisiswatch.aws.queues import SqsQueue, batches
from crisiswatch.limits import SQS_BATCH_MAX_BYTES, SQS_BATCH_MAX_MESSAGES, SQS_MESSAGE_MAX_BYTES
from crisiswatch.ports import QueueMessageTooLarge, QueueSendError, message_sizes


class FakeSqs:
    def __init__(self, error: str | None = None, failed: int = 0):
        self.requests: list[list[str]] = []
        self.error, self.failed = error, failed

    def send_message_batch(self, QueueUrl, Entries):  # noqa: N803 - boto3's names
        if self.error:
            raise ClientError({"Error": {"Code": self.error, "Message": "no"}}, "SendMessageBatch")
        self.requests.append([e["MessageBody"] for e in Entries])
        return {"Failed": [{"Id": "0", "Code": "InternalError"}] * self.failed}


def test_batches_cut_by_count_and_by_bytes():
    small = ["s"] * 25
    assert [len(b) for b in batches(small, message_sizes(small))] == [10, 10, 5]
    big = ["b" * 100_000] * 5
    assert [len(b) for b in batches(big, message_sizes(big))] == [2, 2, 1]
    mixed = ["b" * (SQS_MESSAGE_MAX_BYTES - 10), "s", "b" * SQS_MESSAGE_MAX_BYTES, "s"]
    assert [len(b) for b in batches(mixed, message_sizes(mixed))] == [2, 1, 1]  # a full one goes alone
    assert list(batches([], [])) == []


@pytest.mark.parametrize("size", [1, 30_000, 100_000, SQS_MESSAGE_MAX_BYTES])
def test_every_request_is_within_both_limits(size):
    sqs = FakeSqs()
    bodies = [f"{i:06d}" + "鲜" * ((size - 6) // 3) for i in range(23)]
    assert SqsQueue(sqs, "url").send_all(bodies) == 23
    assert [body for request in sqs.requests for body in request] == bodies  # in order, once each
    for request in sqs.requests:
        assert len(request) <= SQS_BATCH_MAX_MESSAGES
        assert sum(len(body.encode()) for body in request) <= SQS_BATCH_MAX_BYTES


def test_an_oversized_body_sends_nothing():
    sqs = FakeSqs()
    with pytest.raises(QueueMessageTooLarge, match=str(SQS_MESSAGE_MAX_BYTES)):
        SqsQueue(sqs, "url").send_all(["ok"] * 15 + ["x" * (SQS_MESSAGE_MAX_BYTES + 1)])
    assert sqs.requests == []


@pytest.mark.parametrize(("sqs", "reason"), [(FakeSqs(error="BatchRequestTooLong"), "BatchRequestTooLong"),
                                             (FakeSqs(failed=1), "InternalError")])  # fmt: skip
def test_refusals_are_queue_send_errors(sqs, reason):
    with pytest.raises(QueueSendError, match=reason):
        SqsQueue(sqs, "url").send_all(["a", "b"])
