"""API Gateway (REST, POST /push) -> verify the HMAC signature -> validate -> the posts queue.

The push API has no IAM auth (providers cannot sign SigV4): the signature over the raw body with
the shared secret from Secrets Manager is the authentication. Answers: 202 ``{"accepted": n}``;
401 bad or missing signature, stale or future timestamp; 413 body too large; 400 not JSON;
422 not a valid batch (field-level ``errors``). Anything the caller controls gets a 4xx; a 5xx
means our side failed (Secrets Manager, SQS) and the provider should retry: the posts are stored
once however often they arrive.

Never logged: the secret, the signature, the body. Logged: the reason, counts, the watch id.
"""

from __future__ import annotations

import base64
import binascii
import json
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.config import PUSH_SECRET_MAX_AGE_SECONDS
from crisiswatch.ingest.push import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    BodyTooLarge,
    InvalidBatch,
    MalformedBody,
    PushRejected,
    SignatureRejected,
    check_body_size,
    parse_batch,
    verify_signature,
)
from crisiswatch.ingest.rules import rule_for
from crisiswatch.models import utcnow
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.queues import send_all
from crisiswatch.settings import PushSettings
from crisiswatch.store.watches import WatchCatalog, WatchStore

STATUS: dict[type[PushRejected], int] = {
    SignatureRejected: 401,
    BodyTooLarge: 413,
    MalformedBody: 400,
    InvalidBatch: 422,
}


@lru_cache(maxsize=1)
def _settings() -> PushSettings:
    return PushSettings.from_env()


@lru_cache(maxsize=1)
def _watches() -> WatchCatalog:
    return WatchCatalog(WatchStore(boto3.client("dynamodb"), _settings().state_table))


@lru_cache(maxsize=1)
def _sqs():
    return boto3.client("sqs")


def _secret() -> bytes:
    """The shared secret, cached by Powertools for PUSH_SECRET_MAX_AGE_SECONDS."""
    value = parameters.get_secret(_settings().push_secret_name, max_age=PUSH_SECRET_MAX_AGE_SECONDS)
    return value.encode() if isinstance(value, str) else bytes(value)


def _header(event: dict, name: str) -> str | None:
    """API Gateway keeps the caller's spelling of header names: look them up case-insensitively."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == wanted:
            return value
    return None


def _raw_body(event: dict) -> bytes:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedBody("body is not valid base64") from None
    # Without binary media types, API Gateway hands over the body as text: the UTF-8 bytes the
    # provider signed. Anything else fails the signature, which is the right answer.
    return body.encode("utf-8", errors="replace")


def _response(status: int, payload: dict[str, Any]) -> dict:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(payload, ensure_ascii=False),
    }


def _accept(event: dict) -> int:
    now = utcnow()
    body = _raw_body(event)
    check_body_size(body)  # before any work on it
    verify_signature(_secret(), _header(event, TIMESTAMP_HEADER), body, _header(event, SIGNATURE_HEADER), now)
    watches = _watches().all()
    batch = parse_batch(body, watches)
    # Pushed posts pass the watch's rules like fetched ones; the others are acknowledged, not queued.
    rule = rule_for(watches[batch.watch_id], batch.platform)
    posts = []
    for post in batch.to_posts(fetched_at=now):
        match = rule.match(post.text)
        if match.matched:
            posts.append(post.model_copy(update={"matched_terms": match.terms}))
    send_all(_sqs(), _settings().posts_queue_url, [post.model_dump_json() for post in posts])
    dropped = len(batch.posts) - len(posts)
    metrics.add_metric(name="PostsPushed", unit=MetricUnit.Count, value=len(posts))
    logger.info(
        "push accepted",
        watch_id=batch.watch_id,
        platform=batch.platform,
        accepted=len(posts),
        dropped=dropped,
    )
    return len(posts), dropped


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    try:
        accepted, dropped = _accept(event)
    except PushRejected as e:
        status = next((code for kind, code in STATUS.items() if isinstance(e, kind)), 400)
        metrics.add_metric(name="PushRejected", unit=MetricUnit.Count, value=1)
        logger.warning(
            "push rejected",
            status=status,
            reason=e.reason,
            fields=[err["field"] for err in e.errors],
        )
        payload: dict[str, Any] = {"message": e.reason}
        if e.errors:
            payload["errors"] = e.errors
        return _response(status, payload)
    return _response(202, {"accepted": accepted, "dropped": dropped})
