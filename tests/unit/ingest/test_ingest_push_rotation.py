"""The push secret during a manual rotation (issue 11, item 5; docs/infra.md): the Secrets Manager
value is the plain secret, or ``{"current": ..., "previous": ...}`` while providers switch; a push
signed with either is accepted, anything else refused."""

from __future__ import annotations

import json

import pytest

from crisiswatch.clock import SimulatedClock
from crisiswatch.ingest.push_receiver import PushReceiver, PushRequest
from crisiswatch.ingest.webhook import SignatureRejected, sign, signing_secrets, verify_signature
from crisiswatch.memory.messaging import MemoryQueue, MemorySecrets
from crisiswatch.memory.store import MemoryWatchCatalogue
from crisiswatch.watches import WatchCache
from tests.builders import NOW, watch

OLD, NEW = "old-secret-0123456789", "new-secret-9876543210"
TS = str(int(NOW.timestamp()))
BODY = json.dumps(
    {
        "watch_id": "xianweifang",
        "platform": "weibo",
        "posts": [
            {
                "post_id": "p1",
                "author": {"id": "u1"},
                "text": "鲜味坊的外卖吃出虫子",
                "created_at": NOW.isoformat(),
            }
        ],
    },
    ensure_ascii=False,
).encode()


@pytest.mark.parametrize(
    ("value", "secrets"),
    [
        (OLD, [OLD]),  # the plain string the stack generates: backward compatible
        (json.dumps({"current": NEW, "previous": OLD}), [NEW, OLD]),
        (json.dumps({"current": NEW}), [NEW]),
        (json.dumps({"current": NEW, "previous": None}), [NEW]),
        (json.dumps({"current": NEW, "previous": ""}), [NEW]),
        (json.dumps({"current": NEW, "previous": NEW}), [NEW]),
    ],
)
def test_signing_secrets(value, secrets):
    assert signing_secrets(value) == [s.encode() for s in secrets]


@pytest.mark.parametrize(
    "value",
    ["", "{", '{"previous": "x"}', '{"current": ""}', '{"current": 5}', '{"current": "a", "previous": 1}'],
)
def test_a_misconfigured_secret_is_our_error_not_the_callers(value):
    with pytest.raises(ValueError):
        signing_secrets(value)


def test_either_secret_verifies_during_the_overlap():
    both = signing_secrets(json.dumps({"current": NEW, "previous": OLD}))
    for secret in (NEW, OLD):
        assert verify_signature(both, TS, BODY, sign(secret.encode(), TS, BODY), NOW) == [NEW, OLD].index(
            secret
        )
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_signature(both, TS, BODY, sign(b"a-third-secret", TS, BODY), NOW)
    with pytest.raises(SignatureRejected, match="old"):  # freshness still applies to both
        verify_signature(both, "1000", BODY, sign(OLD.encode(), "1000", BODY), NOW)


def receiver(value: str) -> tuple[PushReceiver, MemoryQueue]:
    queue = MemoryQueue()
    secrets = MemorySecrets({"push": value})
    return PushReceiver(
        secrets, "push", WatchCache(MemoryWatchCatalogue([watch()])), queue, SimulatedClock(NOW)
    ), queue


def request(secret: str) -> PushRequest:
    return PushRequest(BODY, TS, sign(secret.encode(), TS, BODY))


def test_a_rotation_never_cuts_a_provider_off():
    # 1. before: the plain secret.
    before, _ = receiver(OLD)
    assert before.accept(request(OLD)).accepted == 1
    # 2. overlap: the new secret is current, the old one still valid; providers switch one by one.
    overlap, queue = receiver(json.dumps({"current": NEW, "previous": OLD}))
    assert overlap.accept(request(OLD)).accepted == 1
    assert overlap.accept(request(NEW)).accepted == 1
    assert len(queue.receive(10)) == 2
    # 3. after: the old secret is gone.
    after, _ = receiver(json.dumps({"current": NEW}))
    assert after.accept(request(NEW)).accepted == 1
    with pytest.raises(SignatureRejected):
        after.accept(request(OLD))
