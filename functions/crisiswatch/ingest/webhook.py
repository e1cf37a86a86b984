"""Posts pushed to us by providers: the signature check and the body's model. Pure: no AWS, no I/O.

A provider signs each request with the shared secret (HMAC-SHA256), over the timestamp and the raw
body, and sends two headers::

    X-Crisiswatch-Timestamp: 1763654700            (Unix epoch seconds)
    X-Crisiswatch-Signature: sha256=<hex of HMAC-SHA256(secret, f"{timestamp}." + body)>

``verify_signature`` checks both (in constant time, and rejecting a timestamp outside the
tolerance, so a captured request cannot be replayed later); ``parse_batch`` turns the body into
``Post`` models for the posts queue. Every error is a ``PushRejected`` whose message is safe to
return to the caller: it never contains the secret, the signature or the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from crisiswatch.constants import PUSH_SIGNATURE_TOLERANCE_SECONDS
from crisiswatch.ingest.errors import IngestError
from crisiswatch.limits import PUSH_MAX_BODY_BYTES, PUSH_MAX_POSTS
from crisiswatch.vocabulary import Author, Engagement, Post, Watch, refuse_unsendable

SIGNATURE_HEADER = "X-Crisiswatch-Signature"
TIMESTAMP_HEADER = "X-Crisiswatch-Timestamp"
SIGNATURE_SCHEME = "sha256="
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
MAX_FIELD_ERRORS = 20  # field-level reasons returned for one body


class PushRejected(IngestError):
    """A pushed request we refuse. ``reason`` is safe to return and to log."""

    def __init__(self, reason: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.errors = errors or []


class SignatureRejected(PushRejected):
    """Missing or wrong signature, malformed timestamp, or a timestamp outside the tolerance."""


class BodyTooLarge(PushRejected):
    """The body exceeds PUSH_MAX_BODY_BYTES."""


class MalformedBody(PushRejected):
    """The body is not a JSON document (or not UTF-8)."""


class InvalidBatch(PushRejected):
    """The body is JSON but not a valid batch: ``errors`` lists each field and what is wrong."""


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The value of the signature header for this timestamp and body: ``sha256=<hex>``."""
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return SIGNATURE_SCHEME + digest


def signing_secrets(value: str) -> list[bytes]:
    """The secrets a push may be signed with, from the Secrets Manager value.

    A plain string is the one secret (what the stack generates). During a rotation the value is
    JSON, ``{"current": "<new>", "previous": "<old>"}``: both are accepted until ``previous`` is
    removed, so a provider is never cut off while it switches (docs/infra.md, "Rotating the push
    secret"). ``previous`` may be absent, null or empty. Raises ``ValueError`` on a value that is
    neither (a misconfiguration: our failure, not the caller's).
    """
    if not value.lstrip().startswith("{"):
        if not value:
            raise ValueError("the push secret is empty")
        return [value.encode()]
    try:
        parsed = json.loads(value)
    except ValueError:
        raise ValueError("the push secret looks like JSON but is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise ValueError('the push secret\'s JSON must be an object {"current": ..., "previous": ...}')
    current, previous = parsed.get("current"), parsed.get("previous")
    if not isinstance(current, str) or not current:
        raise ValueError('the push secret\'s JSON needs a non-empty "current"')
    if previous not in (None, "") and not isinstance(previous, str):
        raise ValueError('the push secret\'s "previous" must be a string')
    return [current.encode()] + ([previous.encode()] if previous and previous != current else [])


def verify_signature(
    secret: bytes | Sequence[bytes],
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    now: datetime,
    tolerance_seconds: int = PUSH_SIGNATURE_TOLERANCE_SECONDS,
) -> int:
    """Raise ``SignatureRejected`` unless `signature` is ``sign(secret, timestamp, body)`` (for
    one of the secrets, when given several: see ``signing_secrets``) and `timestamp` is within `tolerance_seconds` of `now` (either side).

    The signature is compared with ``hmac.compare_digest`` whatever its form or length, so the time
    taken says nothing about how much of it was right. Freshness is checked after the signature:
    a caller without the secret only ever learns that the signature does not match.
    """
    candidates = [secret] if isinstance(secret, bytes) else list(secret)
    if not candidates or not all(candidates):
        raise ValueError("the push secret is empty")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not signature:
        raise SignatureRejected(f"missing {SIGNATURE_HEADER} header")
    if not timestamp:
        raise SignatureRejected(f"missing {TIMESTAMP_HEADER} header")
    if not _TIMESTAMP.match(timestamp):
        raise SignatureRejected(f"{TIMESTAMP_HEADER} must be Unix epoch seconds")
    given = signature.strip().lower().encode("utf-8", errors="replace")
    matches = [hmac.compare_digest(sign(c, timestamp, body).encode(), given) for c in candidates]
    # All compared: the time taken says nothing about which one matched.
    if not any(matches):
        raise SignatureRejected(f"{SIGNATURE_HEADER} does not match the body and timestamp")
    skew = now.timestamp() - int(timestamp)
    if skew > tolerance_seconds:
        raise SignatureRejected(f"{TIMESTAMP_HEADER} is more than {tolerance_seconds} s old")
    if skew < -tolerance_seconds:
        raise SignatureRejected(f"{TIMESTAMP_HEADER} is more than {tolerance_seconds} s in the future")
    return matches.index(True)


class PushedPost(BaseModel):
    """One post as a provider pushes it: a `Post` without what we add (watch, fetch time, terms)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    post_id: str = Field(min_length=1, max_length=128)
    url: str = Field(default="", max_length=2048)
    author: Author
    text: str = Field(min_length=1)  # a longer one than POST_TEXT_MAX_CHARS is cut where the Post is built
    created_at: datetime
    engagement: Engagement = Engagement()
    repost_of: str | None = Field(default=None, max_length=128)

    # As the Post they become refuses them: here, so that the provider gets a 422 with the field.
    _sendable_ids = field_validator("post_id", "url", "repost_of")(refuse_unsendable)


class PushBatch(BaseModel):
    """The body of ``POST /push``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    watch_id: str = Field(min_length=1, max_length=64)
    platform: str = Field(min_length=1, max_length=32)
    posts: list[PushedPost] = Field(max_length=PUSH_MAX_POSTS)

    def to_posts(self, fetched_at: datetime) -> list[Post]:
        return [
            Post(
                platform=self.platform,
                watch_id=self.watch_id,
                fetched_at=fetched_at,
                **post.model_dump(),
            )
            for post in self.posts
        ]


def _field_errors(error: ValidationError) -> list[dict[str, str]]:
    """Where and what, never the input value (which could be anything the caller sent)."""
    return [
        {"field": ".".join(str(part) for part in e["loc"]) or "(body)", "message": e["msg"]}
        for e in error.errors(include_url=False, include_input=False, include_context=False)[
            :MAX_FIELD_ERRORS
        ]
    ]


def check_body_size(body: bytes) -> None:
    if len(body) > PUSH_MAX_BODY_BYTES:
        raise BodyTooLarge(f"body is {len(body)} bytes; at most {PUSH_MAX_BODY_BYTES} are accepted")


def parse_batch(body: bytes, watches: Mapping[str, Watch]) -> PushBatch:
    """The validated batch, for a watch in `watches` and one of that watch's platforms.

    Raises ``BodyTooLarge``, ``MalformedBody`` (not JSON) or ``InvalidBatch`` (field errors,
    unknown watch, a platform the watch does not monitor, more than PUSH_MAX_POSTS posts).
    """
    batch = parse_body(body)
    check_watch(batch, watches.get(batch.watch_id))
    return batch


def parse_body(body: bytes) -> PushBatch:
    """The batch as a model, before its watch is known: ``BodyTooLarge``, ``MalformedBody``,
    ``InvalidBatch`` (field errors)."""
    check_body_size(body)
    try:
        return PushBatch.model_validate_json(body)
    except ValidationError as e:
        if any(err["type"] == "json_invalid" for err in e.errors()):
            raise MalformedBody("body is not a JSON document (UTF-8)") from None
        raise InvalidBatch("body is not a valid push batch", _field_errors(e)) from None


def check_watch(batch: PushBatch, watch: Watch | None) -> None:
    """``InvalidBatch`` unless `watch` (the batch's, None: not configured) monitors its platform."""
    if watch is None:
        raise InvalidBatch(
            "unknown watch", [{"field": "watch_id", "message": f"no watch {batch.watch_id!r} is configured"}]
        )
    if batch.platform not in watch.platforms:
        raise InvalidBatch(
            "platform not monitored for this watch",
            [
                {
                    "field": "platform",
                    "message": f"watch {watch.id!r} monitors {', '.join(watch.platforms)}, "
                    f"not {batch.platform!r}",
                }
            ],
        )
    return batch


__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "BodyTooLarge",
    "InvalidBatch",
    "MalformedBody",
    "PushBatch",
    "PushRejected",
    "PushedPost",
    "SignatureRejected",
    "check_body_size",
    "check_watch",
    "parse_batch",
    "parse_body",
    "sign",
    "verify_signature",
]
