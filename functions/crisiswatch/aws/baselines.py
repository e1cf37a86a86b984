"""DynamoDB: each watch's learnt normal, one small item next to its counters."""

from __future__ import annotations

from datetime import datetime

from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code, from_item, to_value
from crisiswatch.incidents.baseline import Baseline


def _key(watch_id: str) -> dict:
    return {"pk": to_value(f"WATCH#{watch_id}"), "sk": to_value("BASELINE")}


class DynamoBaselineStore:
    def __init__(self, client, state_table: str):
        self._db = client
        self._state = state_table

    def get(self, watch_id: str) -> Baseline | None:
        raw = self._db.get_item(TableName=self._state, Key=_key(watch_id)).get("Item")
        return Baseline.model_validate_json(from_item(raw)["baseline"]) if raw else None

    def put(self, watch_id: str, baseline: Baseline, previous: datetime | None) -> bool:
        """Conditional on the hours folded so far, so two scorers folding the same hour write once."""
        condition, values = "attribute_not_exists(pk)", {}
        if previous is not None:
            condition, values = "through = :previous", {":previous": to_value(previous.isoformat())}
        try:
            self._db.put_item(
                TableName=self._state,
                Item={
                    **_key(watch_id),
                    "baseline": to_value(baseline.model_dump_json()),
                    "through": to_value(baseline.through.isoformat() if baseline.through else ""),
                },
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                return False
            raise
        return True
