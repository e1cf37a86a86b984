"""Conversion between plain JSON-like Python values and DynamoDB's typed attribute values."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from crisiswatch.ports import StoreThrottled

BATCH_GET_MAX_KEYS = 100  # DynamoDB's limit per BatchGetItem
BATCH_GET_ATTEMPTS = 5  # for the keys a BatchGetItem leaves unprocessed (throttling, 16 MB)
BACKOFF_SECONDS = 0.05  # doubled after each attempt: 50, 100, 200, 400 ms

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _to_dynamo_numbers(value: Any) -> Any:
    # DynamoDB takes no floats: round-trip through JSON so every float becomes a Decimal.
    return json.loads(json.dumps(value, ensure_ascii=False), parse_float=Decimal)


def _from_dynamo_numbers(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo_numbers(v) for v in value]
    return value


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    plain = _to_dynamo_numbers(values)
    return {k: _serializer.serialize(v) for k, v in plain.items() if v is not None}


def to_value(value: Any) -> dict[str, Any]:
    return _serializer.serialize(_to_dynamo_numbers(value))


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _from_dynamo_numbers(_deserializer.deserialize(v)) for k, v in item.items()}


def error_code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return response.get("Error", {}).get("Code", "")


def batch_get(
    client,
    table: str,
    keys: Sequence[dict[str, Any]],
    *,
    projection: str | None = None,
    names: dict[str, str] | None = None,
    consistent: bool = False,
    sleep: Callable[[float], None] = time.sleep,
) -> list[dict[str, Any]]:
    """The items of `keys` (typed keys) that are stored, as plain values: BatchGetItem, 100 keys a
    call, each key once. The keys DynamoDB leaves unprocessed are read again after a short
    backoff, a few times, then StoreThrottled: a partial answer must not pass for a whole one."""
    unique = list({json.dumps(key, sort_keys=True): key for key in keys}.values())
    options = {
        **({"ProjectionExpression": projection} if projection else {}),
        **({"ExpressionAttributeNames": names} if names else {}),
        **({"ConsistentRead": True} if consistent else {}),
    }
    items: list[dict[str, Any]] = []
    for start in range(0, len(unique), BATCH_GET_MAX_KEYS):
        request = {table: {"Keys": unique[start : start + BATCH_GET_MAX_KEYS], **options}}
        for attempt in range(BATCH_GET_ATTEMPTS):
            if attempt:
                sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            response = client.batch_get_item(RequestItems=request)
            items += [from_item(raw) for raw in response.get("Responses", {}).get(table, [])]
            request = response.get("UnprocessedKeys") or {}
            if not request.get(table, {}).get("Keys"):
                break
        else:
            raise StoreThrottled(
                f"{table}: {len(request[table]['Keys'])} keys still unprocessed after {BATCH_GET_ATTEMPTS} reads"
            )
    return items
