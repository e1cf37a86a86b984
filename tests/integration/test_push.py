"""The push endpoint through the template's API Gateway route, on moto: signed posts reach the posts
queue and are stored once; everything the caller gets wrong is a 4xx."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters

from crisiswatch.aws.items import from_item, to_value
from crisiswatch.aws.watches import WATCHES_PK
from crisiswatch.constants import Env
from crisiswatch.ingest.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from crisiswatch.limits import COUNTER_MAX, POST_TEXT_MAX_CHARS, PUSH_MAX_BODY_BYTES
from tests.builders import utcnow
from tests.integration.helpers import queue_depth

SCORER = "crisiswatch.handlers.scorer"


@pytest.fixture
def secret(aws) -> bytes:
    """The generated secret, as ops would read it to hand to a provider."""
    parameters.clear_caches()  # a fresh stack per test has a fresh secret
    name = os.environ[Env.PUSH_SECRET_NAME]
    return aws.client("secretsmanager").get_secret_value(SecretId=name)["SecretString"].encode()


def _batch(n: int = 3, start: int = 0, **fields: Any) -> bytes:
    posts = [
        {
            "post_id": f"push-{i}",
            "url": f"https://m.weibo.cn/detail/push-{i}",
            "author": {"id": f"u{i}", "name": "吃货小王", "followers": 1200, "verified_type": -1},
            "text": f"鲜味坊的外卖吃出虫子了，拉肚子一晚上 #{i}",
            "created_at": utcnow().isoformat(),
            "engagement": {"reposts": 3, "comments": 5, "likes": 20},
        }
        for i in range(start, start + n)
    ]
    batch = {"watch_id": "xianweifang", "platform": "weibo", "posts": posts} | fields
    return json.dumps(batch, ensure_ascii=False).encode()


def _signed(secret: bytes, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    return {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sign(secret, ts, body)}


def _posts_in_table(aws) -> int:
    return aws.client("dynamodb").scan(TableName=os.environ[Env.POSTS_TABLE], Select="COUNT")["Count"]


def test_the_push_route_comes_from_its_own_api(aws):
    assert ("POST", "/push") in {(r.method, r.resource) for r in aws.stack.routes}
    assert aws.function("crisiswatch.handlers.push").environment[Env.PUSH_SECRET_NAME].startswith("local-")


def test_signed_posts_are_queued_then_scored_and_stored(aws, secret):
    body = _batch(3)
    status, payload = aws.api("POST", "/push", body, headers=_signed(secret, body))

    assert (status, payload) == (202, {"accepted": 3, "dropped": 0})
    assert queue_depth(aws, os.environ[Env.POSTS_QUEUE_URL]) == 3
    assert aws.pump(aws.mapping_for(SCORER)) == {"delivered": 3, "failed": 0}
    assert _posts_in_table(aws) == 3


def test_header_names_are_case_insensitive(aws, secret):
    body = _batch(1)
    headers = {k.lower(): v for k, v in _signed(secret, body).items()}
    assert aws.api("POST", "/push", body, headers=headers) == (202, {"accepted": 1, "dropped": 0})


def test_pushed_posts_pass_the_watch_rules_like_fetched_ones(aws, secret):
    body = json.loads(_batch(2))
    body["posts"][1]["text"] = "鲜味坊小区今晚停水了"  # the watch excludes 鲜味坊小区
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert aws.api("POST", "/push", raw, headers=_signed(secret, raw)) == (202, {"accepted": 1, "dropped": 1})


def test_a_duplicate_push_is_stored_once(aws, secret):
    body = _batch(4)
    assert aws.api("POST", "/push", body, headers=_signed(secret, body))[0] == 202
    again = _batch(4)  # the provider retries: same posts, new request
    assert aws.api("POST", "/push", again, headers=_signed(secret, again))[0] == 202

    assert aws.pump(aws.mapping_for(SCORER)) == {"delivered": 8, "failed": 0}
    assert _posts_in_table(aws) == 4


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda secret, body: {}, "missing X-Crisiswatch-Signature"),
        (lambda secret, body: {TIMESTAMP_HEADER: str(int(time.time()))}, "missing X-Crisiswatch-Signature"),
        (lambda secret, body: _signed(secret, body.replace(b"push-0", b"push-9")), "does not match"),
        (lambda secret, body: _signed(b"not the secret", body), "does not match"),
        (lambda secret, body: _signed(secret, body, int(time.time()) - 3600), "old"),
        (lambda secret, body: _signed(secret, body, int(time.time()) + 3600), "future"),
    ],
    ids=["unsigned", "no-signature", "tampered-body", "wrong-secret", "stale", "future"],
)
def test_bad_signatures_are_401_and_queue_nothing(aws, secret, tamper, reason):
    body = _batch(2)
    status, payload = aws.api("POST", "/push", body, headers=tamper(secret, body))

    assert status == 401
    assert reason in payload["message"]
    assert secret.decode() not in json.dumps(payload)
    assert queue_depth(aws, os.environ[Env.POSTS_QUEUE_URL]) == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (_batch(1, watch_id="someone-else"), 422, "watch_id"),
        (_batch(1, platform="bilibili"), 422, "platform"),  # the watch monitors weibo only
        (_batch(101), 422, "posts"),
        (b'{"watch_id": "xianweifang", "platform": "weibo", "posts": [', 400, None),
    ],
    ids=["unknown-watch", "unmonitored-platform", "101-posts", "malformed-json"],
)
def test_invalid_bodies_are_4xx_with_reasons(aws, secret, body, status, field):
    got_status, payload = aws.api("POST", "/push", body, headers=_signed(secret, body))

    assert got_status == status
    assert payload["message"]
    if field:
        assert payload["errors"][0]["field"] == field
    assert queue_depth(aws, os.environ[Env.POSTS_QUEUE_URL]) == 0


def test_a_body_over_the_limit_is_413(aws, secret):
    body = _batch(1).replace(b"#0", b"#" + b"0" * PUSH_MAX_BODY_BYTES)
    status, payload = aws.api("POST", "/push", body, headers=_signed(secret, body))
    assert status == 413 and str(PUSH_MAX_BODY_BYTES) in payload["message"]


def _stored_post(aws, key: str) -> dict:
    item = aws.client("dynamodb").get_item(TableName=os.environ[Env.POSTS_TABLE], Key={"pk": {"S": key}})
    return from_item(item["Item"])["post"]


def test_huge_counts_are_accepted_and_stored_clamped(aws, secret):
    """Issue 11: followers = 10**40 was a 202 that ended in the DLQ (DynamoDB numbers stop at 38 digits)."""
    batch = json.loads(_batch(1))
    batch["posts"][0]["author"]["followers"] = 10**40
    batch["posts"][0]["engagement"] |= {"likes": 10**40, "views": 1e40}  # as JavaScript writes 10**40 too
    body = json.dumps(batch, ensure_ascii=False).encode()
    assert aws.api("POST", "/push", body, headers=_signed(secret, body)) == (
        202,
        {"accepted": 1, "dropped": 0},
    )

    assert aws.pump(aws.mapping_for(SCORER)) == {"delivered": 1, "failed": 0}
    stored = _stored_post(aws, "weibo#push-0")
    assert stored["author"]["followers"] == stored["engagement"]["likes"] == COUNTER_MAX
    assert (stored["engagement"]["views"], stored["engagement"]["reposts"]) == (COUNTER_MAX, 3)


def test_a_1_mb_text_is_stored_cut_with_its_original_length(aws, secret):
    """Issue 11: a 1 MB post went to the DLQ instead of being stored truncated."""
    text = "鲜味坊的外卖吃出虫子了" + "啊" * 350_000  # 1 MB of UTF-8, within the body limit
    batch = json.loads(_batch(1))
    batch["posts"][0]["text"] = text
    body = json.dumps(batch, ensure_ascii=False).encode()
    assert 1_000_000 < len(body) < PUSH_MAX_BODY_BYTES
    assert aws.api("POST", "/push", body, headers=_signed(secret, body)) == (
        202,
        {"accepted": 1, "dropped": 0},
    )

    assert aws.pump(aws.mapping_for(SCORER)) == {"delivered": 1, "failed": 0}
    stored = _stored_post(aws, "weibo#push-0")
    assert (stored["text"], stored["text_length"]) == (text[:POST_TEXT_MAX_CHARS], len(text))


def test_a_push_for_an_unreadable_watch_is_422_and_reads_no_other_watch(aws, secret):
    broken = {"id": "broken", "name": "坏店", "keywords": "not a list"}  # stored by an older version, say
    aws.client("dynamodb").put_item(
        TableName=os.environ[Env.STATE_TABLE],
        Item={"pk": {"S": WATCHES_PK}, "sk": {"S": "WATCH#broken"}, "watch": to_value(broken)},
    )
    body = _batch(1, watch_id="broken")
    status, payload = aws.api("POST", "/push", body, headers=_signed(secret, body))
    assert (status, payload["message"], payload["errors"][0]["field"]) == (
        422,
        "watch cannot be read",
        "watch_id",
    )

    body = _batch(1)  # the push reads the batch's watch alone: a broken other one changes nothing
    assert aws.api("POST", "/push", body, headers=_signed(secret, body)) == (
        202,
        {"accepted": 1, "dropped": 0},
    )


def test_logs_never_carry_the_secret_the_signature_or_the_body(aws, secret, caplog):
    body = _batch(1, watch_id="someone-else")
    headers = _signed(secret, body)
    aws.api("POST", "/push", body, headers=headers)
    body = _batch(2)
    headers = _signed(secret, body)
    aws.api("POST", "/push", body, headers=headers)

    text = "\n".join(repr(vars(record)) for record in caplog.records)  # message and every extra key
    assert "push rejected" in text and "watch_id" in text  # the local runtime logs at WARNING
    for forbidden in (secret.decode(), headers[SIGNATURE_HEADER].removeprefix("sha256="), "吃货小王"):
        assert forbidden not in text
