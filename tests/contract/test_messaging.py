"""The contract of the queue, the alerts topic and the secret reader: SQS, SNS and Secrets Manager
on moto, and the in-memory adapters."""

from __future__ import annotations

import json

import pytest

from crisiswatch.escalation.messages import render_alert
from crisiswatch.limits import SQS_MESSAGE_MAX_BYTES
from crisiswatch.ports import QueueMessageTooLarge, QueueSendError
from crisiswatch.vocabulary import Level
from tests.builders import incident


def test_a_queue_delivers_every_body_it_accepted_once(ports):
    bodies = [
        json.dumps({"n": n, "text": "鲜味坊" * n}, ensure_ascii=False) for n in range(23)
    ]  # 3 SQS batches
    assert ports.queue.send_all(bodies) == 23
    assert ports.queue.send_all([]) == 0
    assert sorted(ports.received()) == sorted(bodies)
    assert ports.received() == []


def test_each_publish_gets_its_own_message_id(ports):
    alert = render_alert(incident(level=Level.ORANGE), Level.ORANGE, "alert", "")
    ids = [
        ports.alerts.publish(alert, tier, ["pr-duty"], "xianweifang")
        for tier in (Level.ORANGE, Level.RED, Level.RED)
    ]
    assert all(ids) and len(set(ids)) == 3


def test_a_publish_must_name_its_recipients(ports):
    alert = render_alert(incident(level=Level.ORANGE), Level.ORANGE, "alert", "")
    with pytest.raises(ValueError, match="recipient"):
        ports.alerts.publish(alert, Level.ORANGE, [], "xianweifang")


def test_a_secret_reads_back_as_stored(ports):
    value = json.dumps({"Cookie": "SUB=abc; 鲜=1"}, ensure_ascii=False)
    reader = ports.secrets({"crisiswatch/contract": value})
    assert reader.get("crisiswatch/contract") == value


def test_a_queue_cuts_its_batches_by_bytes_and_delivers_them_all(ports):
    # 12 bodies of ~100 KB: at most two fit in one 256 KiB SendMessageBatch request, not ten.
    bodies = [json.dumps({"n": n, "text": "鲜" * 33_000}, ensure_ascii=False) for n in range(12)]
    at_limit = "x" * (SQS_MESSAGE_MAX_BYTES - 3) + "鲜"  # exactly the limit in UTF-8 bytes
    assert ports.queue.send_all([*bodies, at_limit]) == 13
    assert sorted(ports.received()) == sorted([*bodies, at_limit])


def test_a_body_over_the_limit_in_bytes_is_refused_before_anything_is_sent(ports):
    over = "鲜" * (SQS_MESSAGE_MAX_BYTES // 3 + 1)  # fewer characters than the limit, more bytes
    with pytest.raises(QueueMessageTooLarge) as refused:
        ports.queue.send_all(["small", over, "small too"])
    assert (refused.value.index, refused.value.size) == (1, 3 * (SQS_MESSAGE_MAX_BYTES // 3 + 1))
    assert isinstance(refused.value, QueueSendError)  # callers that retry a unit of work still see it
    assert ports.received() == []
