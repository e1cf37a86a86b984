"""DynamoDB: alerts held back by a watch's quiet hours (state table, `HELD#<watch>#<until>`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code, from_item, to_value
from crisiswatch.constants import TTL_ATTRIBUTE

# Expired held entries mean a digest never went out: TTL only clears what a week could not deliver.
HELD_TTL_DAYS = 7


def _pk(watch_id: str, until: datetime) -> dict:
    return to_value(f"HELD#{watch_id}#{until.isoformat()}")


class DynamoHeldAlerts:
    def __init__(self, client, state_table: str):
        self._db = client
        self._state = state_table

    def hold(self, watch_id: str, until: datetime, key: str, entry: dict[str, Any]) -> None:
        try:
            self._db.put_item(
                TableName=self._state,
                Item={
                    "pk": _pk(watch_id, until),
                    "sk": to_value(key),
                    "entry": to_value(json.dumps(entry, ensure_ascii=False)),
                    TTL_ATTRIBUTE: to_value(int((until + timedelta(days=HELD_TTL_DAYS)).timestamp())),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise

    def take(self, watch_id: str, until: datetime) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {
            "TableName": self._state,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": _pk(watch_id, until)},
            "ConsistentRead": True,
        }
        taken = []
        while True:
            page = self._db.query(**kwargs)
            for raw in page.get("Items", []):
                item = from_item(raw)
                try:  # each entry is taken once, even by two digests racing
                    self._db.delete_item(
                        TableName=self._state,
                        Key={"pk": raw["pk"], "sk": raw["sk"]},
                        ConditionExpression="attribute_exists(pk)",
                    )
                except ClientError as e:
                    if error_code(e) == "ConditionalCheckFailedException":
                        continue
                    raise
                taken.append(json.loads(item["entry"]))
            if "LastEvaluatedKey" not in page:
                return sorted(taken, key=lambda entry: entry.get("at", ""))
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
