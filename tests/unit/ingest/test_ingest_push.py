"""The push endpoint's domain: HMAC signatures with a replay window, and the body's model."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crisiswatch.ingest import webhook as push
from crisiswatch.ingest.webhook import (
    BodyTooLarge,
    InvalidBatch,
    MalformedBody,
    SignatureRejected,
    parse_batch,
    sign,
    verify_signature,
)
from crisiswatch.limits import PUSH_MAX_BODY_BYTES, PUSH_MAX_POSTS
from crisiswatch.vocabulary import Watch

SECRET = b"s3cr3t-shared-with-the-provider"
NOW = datetime(2026, 11, 20, 16, 5, tzinfo=UTC)
TS = str(int(NOW.timestamp()))
BODY = b'{"watch_id":"xianweifang","platform":"weibo","posts":[]}'
WATCHES = {
    "xianweifang": Watch(id="xianweifang", name="鲜味坊", keywords=["鲜味坊"], platforms=["weibo", "douyin"])
}


def _post(post_id: str = "4900000000000001", **fields: Any) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "url": f"https://m.weibo.cn/detail/{post_id}",
        "author": {"id": "1234567890", "name": "吃货小王", "followers": 321, "verified_type": -1},
        "text": "鲜味坊的外卖吃出虫子了",
        "created_at": "2026-11-20T16:01:00+00:00",
        "engagement": {"reposts": 1, "comments": 2, "likes": 3},
        **fields,
    }


def _body(posts: list[dict] | None = None, **fields: Any) -> bytes:
    batch = {"watch_id": "xianweifang", "platform": "weibo", "posts": [_post()] if posts is None else posts}
    return json.dumps(batch | fields, ensure_ascii=False).encode()


# --- signature ------------------------------------------------------------------------------------


def test_sign_is_hmac_sha256_over_timestamp_dot_body():
    expected = hmac.new(SECRET, f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert sign(SECRET, TS, BODY) == f"sha256={expected}"


def test_a_correct_signature_passes():
    verify_signature(SECRET, TS, BODY, sign(SECRET, TS, BODY), NOW)
    verify_signature(SECRET, TS, BODY, sign(SECRET, TS, BODY).upper().replace("SHA256=", "sha256="), NOW)


@pytest.mark.parametrize(
    "signature",
    [
        sign(b"another secret", TS, BODY),
        sign(SECRET, TS, BODY + b" "),  # tampered body
        sign(SECRET, str(int(TS) + 1), BODY),  # signed for another timestamp
        sign(SECRET, TS, BODY).removeprefix("sha256="),  # no scheme
        "sha256=" + "0" * 64,
        "sha256=abc",
        "sha256=鲜味坊",  # not ASCII: still a plain mismatch, no TypeError
    ],
)
def test_a_wrong_signature_is_rejected_without_echoing_it(signature):
    with pytest.raises(SignatureRejected, match="does not match") as e:
        verify_signature(SECRET, TS, BODY, signature, NOW)
    assert signature not in str(e.value) and SECRET.decode() not in str(e.value)


@pytest.mark.parametrize(
    ("timestamp", "signature", "reason"),
    [
        (TS, None, "missing X-Crisiswatch-Signature"),
        (TS, "", "missing X-Crisiswatch-Signature"),
        (None, "sha256=00", "missing X-Crisiswatch-Timestamp"),
        ("1763654700.5", "sha256=00", "epoch seconds"),
        ("-1763654700", "sha256=00", "epoch seconds"),
        ("2026-11-20T16:05:00Z", "sha256=00", "epoch seconds"),
    ],
)
def test_missing_or_malformed_headers(timestamp, signature, reason):
    with pytest.raises(SignatureRejected, match=reason):
        verify_signature(SECRET, timestamp, BODY, signature, NOW)


@pytest.mark.parametrize(
    ("offset", "reason"),
    [(timedelta(seconds=301), "old"), (timedelta(hours=-1), "future"), (timedelta(days=30), "old")],
)
def test_a_correctly_signed_but_stale_or_future_timestamp_is_rejected(offset, reason):
    ts = str(int((NOW - offset).timestamp()))
    with pytest.raises(SignatureRejected, match=reason):
        verify_signature(SECRET, ts, BODY, sign(SECRET, ts, BODY), NOW)


def test_the_edges_of_the_window_pass():
    for seconds in (300, -300):
        ts = str(int(NOW.timestamp()) - seconds)
        verify_signature(SECRET, ts, BODY, sign(SECRET, ts, BODY), NOW)
    ts = str(int(NOW.timestamp()) - 60)
    with pytest.raises(SignatureRejected):
        verify_signature(SECRET, ts, BODY, sign(SECRET, ts, BODY), NOW, tolerance_seconds=30)


def test_an_unsigned_replay_learns_only_that_the_signature_is_wrong():
    """Freshness is judged only for a genuine signature."""
    old = str(int(NOW.timestamp()) - 3600)
    with pytest.raises(SignatureRejected, match="does not match"):
        verify_signature(SECRET, old, BODY, "sha256=" + "0" * 64, NOW)


@pytest.mark.parametrize(
    "signature", [sign(SECRET, TS, BODY), "sha256=" + "0" * 64, "sha256=short", "x", "sha256=鲜味坊"]
)
def test_every_signature_goes_through_compare_digest(monkeypatch, signature):
    """No early exit on length or form: the one comparison is hmac.compare_digest, always on bytes
    of a signature that was actually given."""
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(push.hmac, "compare_digest", spy)
    with contextlib.suppress(SignatureRejected):
        verify_signature(SECRET, TS, BODY, signature, NOW)
    assert len(calls) == 1
    assert all(isinstance(side, bytes) for side in calls[0])


def test_misuse_is_a_programming_error():
    with pytest.raises(ValueError, match="empty"):
        verify_signature(b"", TS, BODY, sign(b"", TS, BODY), NOW)
    with pytest.raises(ValueError, match="timezone"):
        verify_signature(SECRET, TS, BODY, sign(SECRET, TS, BODY), NOW.replace(tzinfo=None))


# --- body -----------------------------------------------------------------------------------------


def test_a_valid_batch_becomes_posts_of_the_watch():
    batch = parse_batch(_body([_post("1"), _post("2", repost_of="1", engagement={})]), WATCHES)
    posts = batch.to_posts(fetched_at=NOW)
    assert [p.key for p in posts] == ["weibo#1", "weibo#2"]
    first = posts[0]
    assert first.watch_id == "xianweifang" and first.fetched_at == NOW
    assert first.author.followers == 321 and first.engagement.likes == 3
    assert first.created_at == datetime(2026, 11, 20, 16, 1, tzinfo=UTC)
    assert posts[1].repost_of == "1" and posts[1].engagement.likes == 0
    assert first.matched_terms == []


def test_an_empty_batch_is_valid():
    assert parse_batch(_body([]), WATCHES).posts == []


def test_another_platform_of_the_watch_is_accepted():
    assert parse_batch(_body(platform="douyin"), WATCHES).platform == "douyin"


@pytest.mark.parametrize("body", [b"", b"{", b"not json", b"\xff\xfe{}", b'{"watch_id": "x",}'])
def test_malformed_json(body):
    with pytest.raises(MalformedBody, match="not a JSON document"):
        parse_batch(body, WATCHES)


def test_unknown_watch():
    with pytest.raises(InvalidBatch) as e:
        parse_batch(_body(watch_id="someone-else"), WATCHES)
    assert e.value.errors == [{"field": "watch_id", "message": "no watch 'someone-else' is configured"}]


def test_a_platform_the_watch_does_not_monitor():
    with pytest.raises(InvalidBatch) as e:
        parse_batch(_body(platform="bilibili"), WATCHES)
    assert e.value.errors[0]["field"] == "platform"
    assert "monitors weibo, douyin" in e.value.errors[0]["message"]


def test_too_many_posts():
    with pytest.raises(InvalidBatch) as e:
        parse_batch(_body([_post(str(i)) for i in range(PUSH_MAX_POSTS + 1)]), WATCHES)
    assert e.value.errors[0]["field"] == "posts"
    assert str(PUSH_MAX_POSTS) in e.value.errors[0]["message"]
    assert len(parse_batch(_body([_post(str(i)) for i in range(PUSH_MAX_POSTS)]), WATCHES).posts) == 100


def test_field_level_errors_name_each_field_and_never_echo_values():
    bad = [
        _post("1", author={"id": "9", "followers": -5}),
        _post("2", created_at="yesterday-ish"),
        _post("", text=""),
        _post("4", unexpected="secret-looking-value"),
    ]
    with pytest.raises(InvalidBatch) as e:
        parse_batch(_body(bad), WATCHES)
    fields = {err["field"] for err in e.value.errors}
    assert fields == {
        "posts.0.author.followers",
        "posts.1.created_at",
        "posts.2.post_id",
        "posts.2.text",
        "posts.3.unexpected",
    }
    text = json.dumps(e.value.errors)
    assert "secret-looking-value" not in text and "yesterday-ish" not in text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"[]", "(body)"),
        (b'{"platform": "weibo", "posts": []}', "watch_id"),
        (b'{"watch_id": "xianweifang", "platform": "weibo", "posts": {}}', "posts"),
    ],
)
def test_wrong_shapes(body, field):
    with pytest.raises(InvalidBatch) as e:
        parse_batch(body, WATCHES)
    assert e.value.errors[0]["field"] == field


def test_a_body_over_the_limit_is_refused_before_parsing():
    with pytest.raises(BodyTooLarge, match=str(PUSH_MAX_BODY_BYTES)):
        parse_batch(b" " * (PUSH_MAX_BODY_BYTES + 1), WATCHES)


@pytest.mark.parametrize("field", ["post_id", "url", "repost_of"])
def test_an_identifier_no_queue_can_carry_is_a_field_error_not_a_crash(field):
    with pytest.raises(InvalidBatch) as e:
        parse_batch(_body([_post() | {field: "a\ufffeb"}]), WATCHES)
    assert [err["field"] for err in e.value.errors] == [f"posts.0.{field}"]
