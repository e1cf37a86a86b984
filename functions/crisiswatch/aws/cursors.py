"""DynamoDB: fetch cursors, one item per watch and platform (crisiswatch.ingest.cursor.FetchCursor).

The item holds the high-water mark, the overlap window's queued keys as one binary value (16 bytes
a post, at most 300 KB: a quiet watch's cursor is one write unit, a burst of 500 posts in the
window about 8), and a version for the optimistic save. Items written before the binary form hold
the keys as a JSON string: read as such, and replaced at the next save.
"""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code, from_item, to_value
from crisiswatch.ingest.cursor import FetchCursor

CURSOR_PREFIX = "CURSOR#"  # the fetcher's IAM policy is limited to items with this key prefix


def _key(watch_id: str, platform: str) -> dict:
    return {"pk": to_value(f"{CURSOR_PREFIX}{watch_id}#{platform}"), "sk": to_value("CURSOR")}


class DynamoCursorStore:
    def __init__(self, client, state_table: str):
        self._db = client
        self._state = state_table

    def get(self, watch_id: str, platform: str, fresh: bool = False) -> FetchCursor:
        # Eventually consistent unless fresh: half a read unit, on every tick of every watch.
        raw = self._db.get_item(
            TableName=self._state, Key=_key(watch_id, platform), ConsistentRead=fresh
        ).get("Item")
        if not raw:
            return FetchCursor()
        item = from_item({name: value for name, value in raw.items() if name != "seen"})
        stored = raw.get("seen", {"S": "[]"})
        return FetchCursor(
            high_water=datetime.fromisoformat(item["high_water"]),
            seen=FetchCursor.decode_seen(stored["B"] if "B" in stored else stored.get("S", "")),
            # Items of the cursors before they had versions (a mark only): version 0 replaces them.
            version=int(item.get("version", 0)),
        )

    def save(self, watch_id: str, platform: str, cursor: FetchCursor, now: datetime) -> bool:
        if cursor.high_water is None:
            return False  # nothing to store: an empty cursor only ever comes from get()
        values = {
            ":hw": _iso(cursor.high_water),
            ":now": _iso(now),
            ":next": cursor.version + 1,
        }
        if cursor.version:
            condition, values[":v"] = "version = :v", cursor.version
        else:
            condition = "attribute_not_exists(version)"
        try:
            self._db.update_item(
                TableName=self._state,
                Key=_key(watch_id, platform),
                UpdateExpression="SET high_water = :hw, seen = :seen, updated_at = :now, version = :next",
                ConditionExpression=condition,
                ExpressionAttributeValues={k: to_value(v) for k, v in values.items()}
                | {":seen": {"B": cursor.encode_seen()}},
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
