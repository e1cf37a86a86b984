"""How AWS counts what it bills: DynamoDB item sizes and request units, SQS and SNS payload chunks.

Pure arithmetic on the wire format ({"name": {"S": "..."}}), as boto3's low-level client sends and
receives it. The rules (DynamoDB developer guide, "Item sizes and formats" and "Read/write capacity
mode"; the SQS and SNS pricing pages):

- An item's size is the sum, per attribute, of the name's UTF-8 bytes and the value's size: a
  string its UTF-8 bytes, a binary its bytes, a number 1 byte per two significant digits plus 1,
  a boolean or null 1 byte, a list or map 3 bytes plus 1 byte per element plus the elements (a
  map's names included), a set the sum of its elements.
- A write costs ceil(size / 1 KB) write units per item (at least 1); a read ceil(size / 4 KB) read
  units (at least 1), half that when eventually consistent. A Query or Scan sums the sizes of the
  items it reads and rounds once per request.
- SQS and SNS bill each 64 KB chunk of a request's payload as one request.
"""

from __future__ import annotations

import base64
import math
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
PAYLOAD_CHUNK_BYTES = 64 * 1024


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _binary(value: bytes | str) -> int:
    # boto3 hands bytes; moto's stored items hold the base64 text of the wire format.
    return len(value) if isinstance(value, bytes | bytearray) else len(base64.b64decode(value))


def number_size(text: str) -> int:
    """DynamoDB's size of a number: 1 byte per two significant digits, plus 1."""
    mantissa = text.strip().lstrip("+-").lower().split("e")[0]
    digits = mantissa.replace(".", "").strip("0")
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """The size of one attribute value in wire format, e.g. {"S": "鲜味坊"} is 9 bytes."""
    ((kind, data),) = value.items()
    if kind == "S":
        return _utf8(data)
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return _binary(data)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(v) for v in data)
    if kind == "NS":
        return sum(number_size(v) for v in data)
    if kind == "BS":
        return sum(_binary(v) for v in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + _utf8(k) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(attributes: dict[str, dict[str, Any]] | None) -> int:
    """The size DynamoDB bills for an item (0 for no item)."""
    if not attributes:
        return 0
    return sum(_utf8(name) + value_size(value) for name, value in attributes.items())


def write_units(size: int) -> int:
    """Write request units of writing one item of `size` bytes (at least 1)."""
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, consistent: bool) -> float:
    """Read request units of reading `size` bytes in one go (at least 1 unit, half when eventually
    consistent)."""
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def payload_requests(size: int) -> int:
    """SQS and SNS: each 64 KB chunk of a request's payload is one billed request (at least 1)."""
    return max(1, math.ceil(size / PAYLOAD_CHUNK_BYTES))


def message_attributes_size(attributes: dict[str, dict[str, Any]] | None) -> int:
    """SQS and SNS message attributes count in the payload: name, data type and value."""
    total = 0
    for name, attribute in (attributes or {}).items():
        total += _utf8(name) + _utf8(attribute.get("DataType", ""))
        if "StringValue" in attribute:
            total += _utf8(attribute["StringValue"])
        if "BinaryValue" in attribute:
            total += _binary(attribute["BinaryValue"])
    return total
