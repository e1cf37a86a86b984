"""The timeline's order and its page cursor, shared by both Timeline adapters (crisiswatch.ports).

Events are ordered by their sort key `<at>#<key>`: `at` in one fixed-width UTC format with
microseconds (`2026-11-21T02:30:00.000000Z`), so string order is time order, and the event key
breaks ties. A cursor names the last event of a page by that sort key, and the incident it belongs
to, as unpadded base64url JSON: opaque to callers, checked on the way back in.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime

from crisiswatch.incidents.record import TimelineEvent
from crisiswatch.ports import InvalidCursor

AT_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
AT_WIDTH = len("2026-11-21T02:30:00.000000Z")
MAX_CURSOR_CHARS = 1024  # the API refuses longer ones before they reach a store
_CURSOR_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
_CURSOR_VERSION = 1


def sort_key(event: TimelineEvent) -> str:
    """`<at as fixed-width UTC>#<key>`; a naive `at` or an empty key is refused (ValueError)."""
    if event.at.tzinfo is None or event.at.utcoffset() is None:
        raise ValueError(f"timeline event {event.key!r}: `at` must be timezone-aware")
    if not event.key:
        raise ValueError("timeline event without a key: its idempotency needs one")
    return f"{event.at.astimezone(UTC).strftime(AT_FORMAT)}#{event.key}"


def check_limit(limit: int) -> None:
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"page limit must be a positive integer, not {limit!r}")


def encode_cursor(incident_id: str, after: str) -> str:
    raw = json.dumps({"v": _CURSOR_VERSION, "incident": incident_id, "after": after}, ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(incident_id: str, cursor: str) -> str:
    """The sort key a page of `incident_id` ended at; InvalidCursor (a ValueError) saying why not."""
    if not isinstance(cursor, str) or not cursor:
        raise InvalidCursor("cursor is empty")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor(f"cursor is longer than {MAX_CURSOR_CHARS} characters")
    if not _CURSOR_CHARS.match(cursor):
        raise InvalidCursor("cursor is not base64url text")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw.decode())
    except (binascii.Error, UnicodeDecodeError, ValueError) as e:
        raise InvalidCursor("cursor is not one this API returned (does not decode)") from e
    if (
        not isinstance(value, dict)
        or set(value) != {"v", "incident", "after"}
        or value["v"] != _CURSOR_VERSION
    ):
        raise InvalidCursor("cursor is not one this API returned (unknown shape)")
    if value["incident"] != incident_id:
        raise InvalidCursor("cursor belongs to another incident's timeline")
    after = value["after"]
    if not _is_sort_key(after):
        raise InvalidCursor("cursor is not one this API returned (bad position)")
    return after


def _is_sort_key(value: object) -> bool:
    if not isinstance(value, str) or len(value) < AT_WIDTH + 2 or value[AT_WIDTH] != "#":
        return False
    try:
        moment = datetime.strptime(value[:AT_WIDTH], AT_FORMAT)
    except ValueError:
        return False
    return moment.strftime(AT_FORMAT) == value[:AT_WIDTH]  # the one fixed-width layout, nothing looser
