"""Request bodies, checked before anything parses them: size, nesting, numbers, valid Unicode.

`read_body` is the API's JSON body deserializer (Powertools' `json_body_deserializer`): a body over
a limit of crisiswatch.limits is refused with the reason, a 413 or a 422, and never reaches
`json.loads` deep enough to raise RecursionError or a ValueError of its own.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from crisiswatch import limits

_STRUCTURE = re.compile(r'[\[\]{}"\\]')  # all that decides nesting: brackets, quotes, escapes
_SURROGATE = re.compile("[\ud800-\udfff]")  # json.loads pairs escaped pairs: what is left is lone


class BodyTooLarge(ServiceError):
    def __init__(self, size: int, limit: int):
        super().__init__(413, f"request body is {size:,} bytes; at most {limit:,} are accepted here")


def _refused(kind: str, where: tuple[str | int, ...], message: str) -> RequestValidationError:
    return RequestValidationError([{"type": kind, "loc": ("body", *where), "msg": message}])


def nesting_depth(text: str, limit: int) -> int:
    """The deepest bracket nesting of `text` read as JSON, counting up to `limit` + 1 (one scan, no
    recursion; brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = False
    skip_to = 0  # the character after a backslash is escaped
    for match in _STRUCTURE.finditer(text):
        at = match.start()
        if at < skip_to:
            continue
        char = text[at]
        if in_string:
            if char == "\\":
                skip_to = at + 2
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif char in "]}":
            depth -= 1
    return deepest


def _short(text: str) -> str:
    if len(text) > limits.JSON_MAX_NUMBER_CHARS:
        raise _refused(
            "number_too_long",
            (),
            f"a number of {len(text):,} characters; at most {limits.JSON_MAX_NUMBER_CHARS} are accepted",
        )
    return text


def _int(text: str) -> int:
    return int(_short(text))


def _float(text: str) -> float:
    value = float(_short(text))
    if not math.isfinite(value):
        raise _refused("number_too_large", (), f"{text} is beyond the range of a number")
    return value


def _constant(name: str) -> Any:
    raise _refused("json_invalid", (), f"{name} is not a JSON number")


def _check_unicode(value: Any) -> None:
    """Every string (keys too) is valid Unicode: a lone surrogate cannot be stored or sent on."""
    pending: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while pending:
        where, item = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                raise _refused(
                    "string_unicode", where, "a lone surrogate (e.g. \\ud800) is not valid Unicode"
                )
        elif isinstance(item, dict):
            for key, child in item.items():
                if not key.isascii() and _SURROGATE.search(key):
                    raise _refused(
                        "string_unicode",
                        where,
                        "a key with a lone surrogate (e.g. \\ud800) is not valid Unicode",
                    )
                pending.append(((*where, key), child))
        elif isinstance(item, list):
            pending.extend(((*where, i), child) for i, child in enumerate(item))


def read_body(text: str, max_bytes: int) -> Any:
    """The JSON value of `text`, or a 413 (too many bytes) or a 422 (too deep, a number too long,
    NaN or Infinity, a lone surrogate) naming what is wrong."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise BodyTooLarge(size, max_bytes)
    if nesting_depth(text, limits.JSON_MAX_DEPTH) > limits.JSON_MAX_DEPTH:
        raise _refused(
            "json_too_deep", (), f"JSON nested deeper than {limits.JSON_MAX_DEPTH} levels is not accepted"
        )
    value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant)
    _check_unicode(value)
    return value
