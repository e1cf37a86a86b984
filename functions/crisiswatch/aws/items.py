"""Conversion between plain JSON-like Python values and DynamoDB's typed attribute values."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

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
