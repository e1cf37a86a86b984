"""DynamoDB: watches in the state table: one partition (`WATCHES`), one item per watch.

Seeded at deploy time from the CDK context (create-if-absent, so the API's later edits stand) and
managed through the API afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code, from_item, to_value
from crisiswatch.ports import StoreError, WatchExists, WatchNotFound
from crisiswatch.vocabulary import Watch
from crisiswatch.watches import readable_watches, stored_watch

WATCHES_PK = "WATCHES"  # the IAM policies of the API, scheduler and scorer name this key


def watch_item(watch: Watch, updated_at: str, by: str = "") -> dict:
    """The item as stored (also what the deploy-time seed writes)."""
    return {
        "pk": to_value(WATCHES_PK),
        "sk": to_value(f"WATCH#{watch.id}"),
        "watch": to_value(watch.model_dump(mode="json")),
        "updated_at": to_value(updated_at),
        "updated_by": to_value(by),
    }


def _watch_id(item: dict) -> str:
    return str(item.get("sk", "")).removeprefix("WATCH#")


def _key(watch_id: str) -> dict:
    return {"pk": to_value(WATCHES_PK), "sk": to_value(f"WATCH#{watch_id}")}


class DynamoWatchCatalogue:
    def __init__(self, client, state_table: str):
        self._db = client
        self._state = state_table

    def list(self) -> list[Watch]:
        return readable_watches(
            (_watch_id(item), item.get("watch"))
            for item in map(from_item, self._query(Select="ALL_ATTRIBUTES"))
        )

    def count(self) -> int:
        return sum(self._query(Select="COUNT"))

    def _query(self, **select) -> Iterator:
        """The partition's items (ALL_ATTRIBUTES), or each page's count (COUNT), page by page."""
        kwargs = {
            "TableName": self._state,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": to_value(WATCHES_PK)},
            **select,
        }
        while True:
            page = self._db.query(**kwargs)
            if select.get("Select") == "COUNT":
                yield page["Count"]
            else:
                yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, watch_id: str) -> Watch:
        raw = self._db.get_item(TableName=self._state, Key=_key(watch_id), ConsistentRead=True).get("Item")
        if not raw:
            raise WatchNotFound(watch_id)
        return stored_watch(watch_id, from_item(raw).get("watch"))

    def create(self, watch: Watch, now: datetime, by: str = "") -> None:
        self._put(watch, now, by, "attribute_not_exists(pk)", WatchExists)

    def replace(self, watch: Watch, now: datetime, by: str = "") -> None:
        self._put(watch, now, by, "attribute_exists(pk)", WatchNotFound)

    def delete(self, watch_id: str) -> None:
        try:
            self._db.delete_item(
                TableName=self._state, Key=_key(watch_id), ConditionExpression="attribute_exists(pk)"
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise WatchNotFound(watch_id) from e
            raise

    def _put(self, watch: Watch, now: datetime, by: str, condition: str, error: type[StoreError]) -> None:
        try:
            self._db.put_item(
                TableName=self._state,
                Item=watch_item(watch, now.isoformat(), by),
                ConditionExpression=condition,
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise error(watch.id) from e
            raise
