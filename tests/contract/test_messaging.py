"""The contract of the queue, the alerts topic and the secret reader: SQS, SNS and Secrets Manager
on moto, and the in-memory adapters."""

from __future__ import annotations

import json

from crisiswatch.escalation.messages import render_alert
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
    ids = [ports.alerts.publish(alert, tier) for tier in (Level.ORANGE, Level.RED, Level.RED)]
    assert all(ids) and len(set(ids)) == 3


def test_a_secret_reads_back_as_stored(ports):
    value = json.dumps({"Cookie": "SUB=abc; 鲜=1"}, ensure_ascii=False)
    reader = ports.secrets({"crisiswatch/contract": value})
    assert reader.get("crisiswatch/contract") == value
