"""A signed push from a data provider, received: verify, validate, match, queue.

    receiver.accept(PushRequest.from_api_event(event))   # -> Pushed(accepted, dropped, bounded) or PushRejected

Pushed posts pass the watch's rules like fetched ones; those that do not match are acknowledged,
not queued. Never logged: the secret, the signature, the body.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from crisiswatch.ingest.bounds import bounded_counts
from crisiswatch.ingest.webhook import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    BodyTooLarge,
    InvalidBatch,
    MalformedBody,
    PushRejected,
    SignatureRejected,
    check_body_size,
    check_watch,
    parse_body,
    signing_secrets,
    verify_signature,
)
from crisiswatch.ports import Clock, Queue, SecretReader, UnreadableWatch, WatchNotFound
from crisiswatch.rules import rule_for
from crisiswatch.vocabulary import Watch
from crisiswatch.watches import WatchCache

logger = Logger(child=True)

# The answer for each way a push can be refused; anything else is our failure (5xx, retry).
STATUS: dict[type[PushRejected], int] = {
    SignatureRejected: 401,
    BodyTooLarge: 413,
    MalformedBody: 400,
    InvalidBatch: 422,
}


def status_of(rejection: PushRejected) -> int:
    return next((code for kind, code in STATUS.items() if isinstance(rejection, kind)), 400)


def api_response(status: int, payload: dict) -> dict:
    """The API Gateway (proxy integration) answer."""
    body = json.dumps(payload, ensure_ascii=False)
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": body}


def rejected_response(rejection: PushRejected) -> dict:
    status = status_of(rejection)
    fields = [err["field"] for err in rejection.errors]
    logger.warning("push rejected", status=status, reason=rejection.reason, fields=fields)
    return api_response(
        status, {"message": rejection.reason} | ({"errors": rejection.errors} if fields else {})
    )


@dataclass(frozen=True)
class PushRequest:
    body: bytes
    timestamp: str | None
    signature: str | None

    @classmethod
    def from_api_event(cls, event: dict) -> PushRequest:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}  # any spelling
        body = event.get("body") or ""
        if event.get("isBase64Encoded"):
            try:
                raw = base64.b64decode(body, validate=True)
            except (binascii.Error, ValueError):
                raise MalformedBody("body is not valid base64") from None
        else:
            # Without binary media types, API Gateway hands over the body as text: the UTF-8 bytes
            # the provider signed. Anything else fails the signature, which is the right answer.
            raw = body.encode("utf-8", errors="replace")
        return cls(raw, headers.get(TIMESTAMP_HEADER.lower()), headers.get(SIGNATURE_HEADER.lower()))


@dataclass(frozen=True)
class Pushed:
    """What an accepted push did: posts queued, posts the watch's rules dropped, and the counts of
    what the limits cut or clamped (crisiswatch.ingest.bounds), by metric name."""

    accepted: int
    dropped: int
    bounded: dict[str, int]


@dataclass(frozen=True)
class PushReceiver:
    secrets: SecretReader
    secret_name: str
    watches: WatchCache
    posts: Queue
    clock: Clock

    def accept(self, request: PushRequest) -> Pushed:
        """Raises PushRejected."""
        now = self.clock.now()
        check_body_size(request.body)  # before any work on it
        # The current secret, and the previous one during a rotation's overlap.
        secrets = signing_secrets(self.secrets.get(self.secret_name))
        signed_with = verify_signature(secrets, request.timestamp, request.body, request.signature, now)
        batch = parse_body(request.body)
        watch = self._watch(batch.watch_id)
        check_watch(batch, watch)
        rule = rule_for(watch, batch.platform)
        posts = []
        for post in batch.to_posts(fetched_at=now):
            match = rule.match(post.text)
            if match.matched:
                posts.append(post.model_copy(update={"matched_terms": match.terms}))
        bounded = bounded_counts(posts, watch_id=batch.watch_id, platform=batch.platform)
        self.posts.send_all([post.model_dump_json() for post in posts])
        dropped = len(batch.posts) - len(posts)
        logger.info(
            "push accepted",
            watch_id=batch.watch_id,
            platform=batch.platform,
            # Which secret signed it: during a rotation, "previous" shows who has not switched yet.
            signed_with="current" if signed_with == 0 else "previous",
            accepted=len(posts),
            dropped=dropped,
        )
        return Pushed(len(posts), dropped, bounded)

    def _watch(self, watch_id: str) -> Watch | None:
        """The batch's watch alone (None: not configured); one stored but unreadable is a 422 too,
        with its reason, and logged for ops: the provider cannot fix it, retrying will not either."""
        try:
            return self.watches.get(watch_id)
        except WatchNotFound:
            return None
        except UnreadableWatch as e:
            logger.error("stored watch unreadable", watch_id=watch_id, reason=e.reason)
            raise InvalidBatch(
                "watch cannot be read",
                [{"field": "watch_id", "message": f"watch {watch_id!r} is stored but cannot be read"}],
            ) from None
