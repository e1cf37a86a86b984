"""DynamoDB: fetch cursors: per watch and platform, the newest post time already queued (a high-water mark)."""

from __future__ import annotations

from datetime import UTC, datetime

from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code, from_item, to_value

CURSOR_PREFIX = "CURSOR#"  # the fetcher's IAM policy is limited to items with this key prefix


def _key(watch_id: str, platform: str) -> dict:
    return {"pk": to_value(f"{CURSOR_PREFIX}{watch_id}#{platform}"), "sk": to_value("CURSOR")}


class DynamoCursorStore:
    def __init__(self, client, state_table: str):
        self._db = client
        self._state = state_table

    def get(self, watch_id: str, platform: str) -> datetime | None:
        raw = self._db.get_item(TableName=self._state, Key=_key(watch_id, platform), ConsistentRead=True).get(
            "Item"
        )
        return datetime.fromisoformat(from_item(raw)["high_water"]) if raw else None

    def advance(self, watch_id: str, platform: str, high_water: datetime, now: datetime) -> bool:
        """Move the mark forward, never back (a slower, older job cannot undo a newer one)."""
        try:
            self._db.update_item(
                TableName=self._state,
                Key=_key(watch_id, platform),
                UpdateExpression="SET high_water = :hw, updated_at = :now",
                ConditionExpression="attribute_not_exists(high_water) OR high_water < :hw",
                ExpressionAttributeValues={":hw": to_value(_iso(high_water)), ":now": to_value(_iso(now))},
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                return False
            raise
        return True


def _iso(moment: datetime) -> str:
    # One fixed UTC format, so that string order is time order in the condition above.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
