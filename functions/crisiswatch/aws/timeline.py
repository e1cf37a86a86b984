"""DynamoDB: the incident timeline (crisiswatch.ports.Timeline) on the state table."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code, from_item, to_item, to_value
from crisiswatch.incidents.record import TimelineEvent
from crisiswatch.incidents.timeline import check_limit, decode_cursor, encode_cursor, sort_key
from crisiswatch.ports import StoreThrottled

TIMELINE_PREFIX = "TIMELINE#"  # the events, one partition per incident (the API may Query these)
TIMELINE_KEY_PREFIX = "TIMELINEKEY#"  # one marker per event key (only writers touch these)
EVENT_FIELDS = tuple(TimelineEvent.model_fields)  # what an event item holds besides its keys
BATCH_WRITE_MAX_ITEMS = 25  # DynamoDB's limit per BatchWriteItem
BATCH_WRITE_ATTEMPTS = 5  # for the items a BatchWriteItem leaves unprocessed
BACKOFF_SECONDS = 0.05  # doubled after each attempt: 50, 100, 200, 400 ms
# What DynamoDB answers when botocore's own retries could not get a request through.
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)


class DynamoTimeline:
    """Event items `pk = TIMELINE#<incident>`, `sk = <at, fixed-width UTC>#<key>`
    (crisiswatch.incidents.timeline.sort_key) holding the event's fields (`at`, `kind`, `key`,
    `summary`, `details`), so a Query of the partition reads the timeline oldest first. Marker items
    `pk = TIMELINEKEY#<incident>`, `sk = <key>` make the key, not the sort key, the unit of
    idempotency: a retry may bring the same key with another `at` (a clock read again), which would
    be a second sort key. No `expires_at`: the state table's TTL leaves them alone; incidents and
    their timelines are kept.

    `append`, per new key: a conditional PutItem of the marker (`attribute_not_exists(pk)`) that
    holds the whole event and its sort key; then one BatchWriteItem (25 a call) of the event items
    those markers name. When a marker exists already, its stored event is written again (returned
    by the failed condition): the same item with the same content, so a retry completes an append
    that stopped between the two steps and never adds a second item for a key; the first writer
    wins, as in the memory timeline. Not a transaction per event: that would double the write cost
    (and is slow on moto); the cost of this design is that an append that fails half way shows its
    event only once it is retried, which is what a failed append asks for anyway.

    Throttling (after botocore's retries) and items a batch leaves unprocessed after a few backed-off
    attempts raise StoreThrottled.
    """

    def __init__(self, client, state_table: str, sleep: Callable[[float], None] = time.sleep):
        self._db = client
        self._state = state_table
        self._sleep = sleep

    def append(self, incident_id: str, events: Sequence[TimelineEvent]) -> None:
        items: dict[str, dict[str, Any]] = {}  # sort key -> event item (BatchWriteItem refuses a key twice)
        keyed = [(event, sort_key(event)) for event in events]  # refuse a bad event before writing any
        for event, sk in keyed:
            item = self._claim(incident_id, event, sk)
            items[item["sk"]["S"]] = item
        self._write_all(list(items.values()))

    def _claim(self, incident_id: str, event: TimelineEvent, sk: str) -> dict[str, Any]:
        """The event item for this key: this event's, or the one its first writer claimed."""
        fields = event.model_dump(mode="json")
        marker = to_item(
            fields | {"pk": f"{TIMELINE_KEY_PREFIX}{incident_id}", "sk": event.key, "event_sk": sk}
        )
        try:
            self._db.put_item(
                TableName=self._state,
                Item=marker,
                ConditionExpression="attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as e:
            code = error_code(e)
            if code in THROTTLING_CODES:
                raise StoreThrottled(f"timeline of {incident_id}: {code}") from e
            if code != "ConditionalCheckFailedException":
                raise
            marker = e.response.get("Item") or self._marker(incident_id, event.key)
        return self._event_item(incident_id, marker)

    def _marker(self, incident_id: str, key: str) -> dict[str, Any]:
        return self._call(
            self._db.get_item,
            incident_id,
            TableName=self._state,
            Key={"pk": to_value(f"{TIMELINE_KEY_PREFIX}{incident_id}"), "sk": to_value(key)},
            ConsistentRead=True,
        )["Item"]

    @staticmethod
    def _event_item(incident_id: str, marker: dict[str, Any]) -> dict[str, Any]:
        return {
            "pk": to_value(f"{TIMELINE_PREFIX}{incident_id}"),
            "sk": marker["event_sk"],
            **{name: marker[name] for name in EVENT_FIELDS if name in marker},
        }

    def _write_all(self, items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), BATCH_WRITE_MAX_ITEMS):
            chunk = items[start : start + BATCH_WRITE_MAX_ITEMS]
            request = {self._state: [{"PutRequest": {"Item": item}} for item in chunk]}
            for attempt in range(BATCH_WRITE_ATTEMPTS):
                if attempt:
                    self._sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
                response = self._call(self._db.batch_write_item, "batch", RequestItems=request)
                request = response.get("UnprocessedItems") or {}
                if not request.get(self._state):
                    break
            else:
                raise StoreThrottled(f"timeline: items still unprocessed after {BATCH_WRITE_ATTEMPTS} writes")

    def page(
        self, incident_id: str, limit: int, cursor: str | None = None
    ) -> tuple[list[TimelineEvent], str | None]:
        check_limit(limit)
        pk = to_value(f"{TIMELINE_PREFIX}{incident_id}")
        kwargs: dict[str, Any] = {
            "TableName": self._state,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": pk},
            "ConsistentRead": True,
            "Limit": limit + 1,  # one more than asked: a full last page then needs no empty next one
        }
        if cursor is not None:
            kwargs["ExclusiveStartKey"] = {"pk": pk, "sk": to_value(decode_cursor(incident_id, cursor))}
        response = self._call(self._db.query, incident_id, **kwargs)
        rows = [from_item(raw) for raw in response.get("Items", [])]
        more = len(rows) > limit or "LastEvaluatedKey" in response  # the latter: 1 MB read first
        rows = rows[:limit]
        events = [TimelineEvent.model_validate(row) for row in rows]  # pk and sk are ignored
        return events, encode_cursor(incident_id, rows[-1]["sk"]) if more and rows else None

    def _call(self, operation: Callable[..., dict], incident_id: str, **kwargs: Any) -> dict:
        try:
            return operation(**kwargs)
        except ClientError as e:
            if error_code(e) in THROTTLING_CODES:
                raise StoreThrottled(f"timeline of {incident_id}: {error_code(e)}") from e
            raise
