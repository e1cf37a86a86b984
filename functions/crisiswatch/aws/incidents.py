"""DynamoDB: incidents, the open-incident pointer per watch, and the escalation wait tokens.

Wait tokens (Step Functions task tokens) live in the incident item but never in the Incident model,
so they cannot leak through the API or into logs.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from crisiswatch.aws.items import batch_get, error_code, from_item, to_item, to_value
from crisiswatch.incidents.record import (
    WRITTEN_APART,
    Acknowledgement,
    Incident,
    IncidentStats,
    Notification,
    Resolution,
    ResponseClock,
    Statement,
    Status,
)
from crisiswatch.ports import (
    IncidentAlreadyOpen,
    IncidentNotFound,
    IncidentResolved,
    StaleIncident,
)
from crisiswatch.vocabulary import Level

# One open incident per story of a watch: "OPEN_INCIDENT#<story>"; the whole watch's (story "") is
# "OPEN_INCIDENT", the pointer of every incident opened before stories existed.
OPEN_POINTER_SK = "OPEN_INCIDENT"
MAX_NOTIFICATIONS = 50
# An incident's latest figures (stats, last activity), written apart from it by `refresh_figures`:
# an item of ~0.6 KB under "<incident id>#figures" in the incidents table, with no `status`, so
# the by-status index does not hold it. The incident itself (3-6 KB: top posts, notifications)
# and its index entry (the whole item again) were rewritten for these figures every 5 minutes of
# an incident's activity: 70% of its writes in `make cost`.
FIGURES_SUFFIX = "#figures"


def _figures_id(incident_id: str) -> str:
    return incident_id + FIGURES_SUFFIX


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def with_figures(incident: Incident, figures: dict | None) -> Incident:
    """The incident with its figures written apart, when they are newer than its own write."""
    if not figures:
        return incident
    at = datetime.fromisoformat(figures["at"])
    if at <= incident.updated_at:
        return incident
    last_active = figures.get("last_active_at")
    return incident.model_copy(
        update={
            "stats": IncidentStats.model_validate(figures["stats"]),
            "last_active_at": datetime.fromisoformat(last_active) if last_active else incident.last_active_at,
            "updated_at": at,
        }
    )


def _pointer_key(watch_id: str, story_id: str = "") -> dict:
    sk = f"{OPEN_POINTER_SK}#{story_id}" if story_id else OPEN_POINTER_SK
    return {"pk": to_value(f"WATCH#{watch_id}"), "sk": to_value(sk)}


class DynamoIncidentRepository:
    def __init__(self, client, incidents_table: str, state_table: str | None = None):
        """`state_table` holds each watch's open-incident pointer: needed to open incidents and to
        find a watch's open one, not to read, notify or acknowledge."""
        self._db = client
        self._incidents = incidents_table
        self._state_table = state_table

    @property
    def _state(self) -> str:
        if self._state_table is None:
            raise RuntimeError("this repository was made without the state table")
        return self._state_table

    # -- reads ---------------------------------------------------------------------------------

    def get(self, incident_id: str) -> Incident:
        found = self._read([incident_id, _figures_id(incident_id)])
        if incident_id not in found:
            raise IncidentNotFound(incident_id)
        return with_figures(Incident.model_validate(found[incident_id]), found.get(_figures_id(incident_id)))

    def _read(self, ids: list[str]) -> dict[str, dict]:
        """Incident id -> item, for the ids stored (strongly consistent)."""
        typed = [{"incident_id": to_value(i)} for i in ids]
        return {
            item["incident_id"]: item for item in batch_get(self._db, self._incidents, typed, consistent=True)
        }

    def open_incident(self, watch_id: str, story_id: str = "") -> Incident | None:
        raw = self._db.get_item(
            TableName=self._state, Key=_pointer_key(watch_id, story_id), ConsistentRead=True
        ).get("Item")
        if not raw:
            return None
        return self.get(from_item(raw)["incident_id"])

    def open_incidents(self, watch_id: str) -> list[Incident]:
        kwargs: dict[str, Any] = {
            "TableName": self._state,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :open)",
            "ExpressionAttributeValues": {
                ":pk": to_value(f"WATCH#{watch_id}"),
                ":open": to_value(OPEN_POINTER_SK),
            },
            "ConsistentRead": True,
        }
        found = []
        while True:
            page = self._db.query(**kwargs)
            found += [self.get(from_item(raw)["incident_id"]) for raw in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def list(
        self, status: Status, limit: int, cursor: str | None = None
    ) -> tuple[list[Incident], str | None]:
        """Newest first. `cursor` is the opaque value returned by the previous page."""
        kwargs: dict[str, Any] = {
            "TableName": self._incidents,
            "IndexName": "by-status",
            "KeyConditionExpression": "#s = :s",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {":s": to_value(status)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            opened_at, incident_id = cursor.split("|", 1)
            kwargs["ExclusiveStartKey"] = {
                "incident_id": to_value(incident_id),
                "status": to_value(status),
                "opened_at": to_value(opened_at),
            }
        page = self._db.query(**kwargs)
        incidents = [Incident.model_validate(from_item(raw)) for raw in page.get("Items", [])]
        figures = self._read([_figures_id(i.incident_id) for i in incidents]) if incidents else {}
        incidents = [with_figures(i, figures.get(_figures_id(i.incident_id))) for i in incidents]
        last = page.get("LastEvaluatedKey")
        next_cursor = f"{from_item(last)['opened_at']}|{from_item(last)['incident_id']}" if last else None
        return incidents, next_cursor

    # -- writes --------------------------------------------------------------------------------

    def create(self, incident: Incident) -> None:
        """Open the incident and point the watch at it; fails if the watch has one open already."""
        item = to_item(incident.model_dump(mode="json")) | {"wait_tokens": {"M": {}}}
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._state,
                            "Item": {
                                **_pointer_key(incident.watch_id, incident.story_id),
                                "incident_id": to_value(incident.incident_id),
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._incidents,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(incident_id)",
                        }
                    },
                ]
            )
        except ClientError as e:
            if error_code(e) == "TransactionCanceledException":
                raise IncidentAlreadyOpen(incident.watch_id) from e
            raise

    def update(self, incident: Incident) -> Incident:
        """Write the incident's fields if nobody changed it since it was read (version check)."""
        new = incident.model_copy(update={"version": incident.version + 1})
        fields = new.model_dump(mode="json", exclude=WRITTEN_APART | {"incident_id"})
        names = {f"#f{i}": name for i, name in enumerate(fields)}
        values = {f":v{i}": to_value(value) for i, value in enumerate(fields.values()) if value is not None}
        sets = [f"#f{i} = :v{i}" for i, value in enumerate(fields.values()) if value is not None]
        removes = [f"#f{i}" for i, value in enumerate(fields.values()) if value is None]
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            self._db.update_item(
                TableName=self._incidents,
                Key={"incident_id": to_value(incident.incident_id)},
                UpdateExpression=expression,
                ConditionExpression="#version = :expected",
                ExpressionAttributeNames=names | {"#version": "version"},
                ExpressionAttributeValues=values | {":expected": to_value(incident.version)},
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise StaleIncident(incident.incident_id) from e
            raise
        return new

    def refresh_figures(
        self, incident_id: str, stats: IncidentStats, last_active_at: datetime | None, at: datetime
    ) -> None:
        """The figures item, unless one from a later assessment is stored (a concurrent scorer's).
        For an unknown id it is an item no read looks at (a write cannot check another item; the
        detector refreshes only an incident it has just read). It stays with its incident, which
        is kept: a resolve writes the figures into the incident, and they hide this item after."""
        # Fixed-width UTC times: the condition compares them as strings.
        values = {":s": to_value(stats.model_dump(mode="json")), ":at": to_value(_utc(at))}
        if last_active_at is not None:
            values[":l"] = to_value(_utc(last_active_at))
        try:
            self._db.update_item(
                TableName=self._incidents,
                Key={"incident_id": to_value(_figures_id(incident_id))},
                UpdateExpression="SET stats = :s, #at = :at"
                + (", last_active_at = :l" if ":l" in values else ""),
                # Newer figures only, and never an older busy moment (a quiet assessment that ends
                # after a busy one: its figures wait for the next refresh).
                ConditionExpression="(attribute_not_exists(#at) OR #at < :at)"
                + (
                    " AND (attribute_not_exists(last_active_at) OR last_active_at <= :l)"
                    if ":l" in values
                    else ""
                ),
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues=values,
            )
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise

    def record_notification(
        self, incident_id: str, notification: Notification, wait_token: str | None
    ) -> bool:
        """Append a sent notification (once per key: the keys sent are a string set on the item)
        and, when the sender waits for an answer, its task token."""
        sets, values, names = [], {}, {}
        if wait_token:
            # Keyed by the token itself: several escalations of one incident may wait at once.
            sets.append("wait_tokens.#token = :token")
            names["#token"] = hashlib.sha256(wait_token.encode()).hexdigest()[:32]
            values[":token"] = to_value(wait_token)
        notify = ["notifications = list_append(if_not_exists(notifications, :empty), :n)"]
        notify_values = {":n": to_value([notification.model_dump(mode="json")]), ":empty": {"L": []}}
        condition = "attribute_exists(incident_id)"
        add = ""
        if notification.key:
            condition += " AND NOT contains(notification_keys, :key)"
            notify_values |= {":key": to_value(notification.key), ":keys": {"SS": [notification.key]}}
            add = " ADD notification_keys :keys DELETE sending_keys :keys"
        try:
            self._write(
                incident_id, "SET " + ", ".join(notify + sets) + add, condition, values | notify_values, names
            )
            return True
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise
        self.get(incident_id)  # IncidentNotFound when that was why
        if wait_token:  # sent before (a retry): the new wait's token must still be answerable
            self._write(incident_id, "SET " + ", ".join(sets), "attribute_exists(incident_id)", values, names)
        return False

    def claim_notification(self, incident_id: str, key: str) -> str:
        try:
            self._write(
                incident_id,
                "ADD sending_keys :keys",
                "attribute_exists(incident_id) AND NOT contains(notification_keys, :key) "
                "AND NOT contains(sending_keys, :key)",
                {":key": to_value(key), ":keys": {"SS": [key]}},
                {},
            )
            return "claimed"
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":
                raise
        raw = self._db.get_item(
            TableName=self._incidents,
            Key={"incident_id": to_value(incident_id)},
            ProjectionExpression="incident_id, notification_keys",
            ConsistentRead=True,
        ).get("Item")
        if not raw:
            raise IncidentNotFound(incident_id)
        return "sent" if key in raw.get("notification_keys", {}).get("SS", []) else "in_flight"

    def release_notification(self, incident_id: str, key: str) -> None:
        self._db.update_item(
            TableName=self._incidents,
            Key={"incident_id": to_value(incident_id)},
            UpdateExpression="DELETE sending_keys :keys",
            ExpressionAttributeValues={":keys": {"SS": [key]}},
        )

    def remember_wait(self, incident_id: str, wait_token: str) -> None:
        try:
            self._write(
                incident_id,
                "SET wait_tokens.#token = :token",
                "attribute_exists(incident_id)",
                {":token": to_value(wait_token)},
                {"#token": hashlib.sha256(wait_token.encode()).hexdigest()[:32]},
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                raise IncidentNotFound(incident_id) from e
            raise

    def set_clocks(self, incident_id: str, clocks, statements, expected: int) -> Incident:
        condition = "attribute_exists(incident_id) AND " + (
            "(attribute_not_exists(clocks_version) OR clocks_version = :expected)"
            if expected == 0
            else "clocks_version = :expected"
        )
        values = {
            ":c": to_value([ResponseClock.model_validate(c).model_dump(mode="json") for c in clocks]),
            ":s": to_value([Statement.model_validate(s).model_dump(mode="json") for s in statements]),
            ":expected": to_value(expected),
            ":new": to_value(expected + 1),
        }
        try:
            self._write(
                incident_id, "SET clocks = :c, statements = :s, clocks_version = :new", condition, values, {}
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                self.get(incident_id)  # IncidentNotFound when that was why
                raise StaleIncident(incident_id) from e
            raise
        return self.get(incident_id)

    def _write(self, incident_id: str, expression: str, condition: str, values: dict, names: dict) -> None:
        self._db.update_item(
            TableName=self._incidents,
            Key={"incident_id": to_value(incident_id)},
            UpdateExpression=expression,
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
            **({"ExpressionAttributeNames": names} if names else {}),
        )

    def acknowledge(self, incident_id: str, ack: Acknowledgement) -> tuple[Incident, list[str]]:
        """Record the acknowledgement and hand back every wait token it releases.

        Taking the tokens out in the same write means two people acknowledging at once release
        each waiting escalation exactly once.
        """
        try:
            old = self._db.update_item(
                TableName=self._incidents,
                Key={"incident_id": to_value(incident_id)},
                UpdateExpression="SET #s = :ack, acknowledgements = list_append(if_not_exists("
                "acknowledgements, :empty), :a), wait_tokens = :none, version = version + :one",
                ConditionExpression="attribute_exists(incident_id) AND #s <> :resolved",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":ack": to_value("acknowledged"),
                    ":resolved": to_value("resolved"),
                    ":a": to_value([ack.model_dump(mode="json")]),
                    ":empty": {"L": []},
                    ":none": {"M": {}},
                    ":one": to_value(1),
                },
                ReturnValues="ALL_OLD",
            )
        except ClientError as e:
            if error_code(e) == "ConditionalCheckFailedException":
                current = self.get(incident_id)  # raises IncidentNotFound when it does not exist
                raise IncidentResolved(current.incident_id) from e
            raise
        before = from_item(old["Attributes"])
        tokens = list((before.pop("wait_tokens", None) or {}).values())
        figures = self._read([_figures_id(incident_id)]).get(_figures_id(incident_id))
        incident = with_figures(Incident.model_validate(before), figures)
        incident = incident.model_copy(
            update={
                "status": "acknowledged",
                "acknowledgements": [*incident.acknowledgements, ack],
                "version": incident.version + 1,
            }
        )
        return incident, tokens

    def mark_escalated(self, incident: Incident, level: Level) -> Incident:
        return self.update(incident.model_copy(update={"escalated_level": level}))

    def resolve(self, incident: Incident, resolution: Resolution) -> Incident:
        """Resolved and unpointed in one transaction (version checked), its wait tokens dropped;
        nothing else of `incident` is written. The figures written apart are folded into it (read
        first: a refresh racing the resolve may be missed). Returns the incident as stored."""
        try:
            stored = self.get(incident.incident_id)
        except IncidentNotFound as e:
            raise StaleIncident(incident.incident_id) from e
        # Changed since `incident` was read (its version), or busy again in the figures another
        # scorer stored apart: stale, before a transaction that would fail (and bill) anyway.
        if stored.version != incident.version or stored.busy_after(incident.last_active_at):
            raise StaleIncident(incident.incident_id)
        new = incident.model_copy(
            update={
                "status": "resolved",
                "resolution": resolution,
                "updated_at": resolution.at,
                "version": incident.version + 1,
            }
        )
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._incidents,
                            "Key": {"incident_id": to_value(incident.incident_id)},
                            # The stored figures, those written apart included (the resolve's
                            # later updated_at hides that item from now on).
                            "UpdateExpression": "SET #s = :resolved, resolution = :r, updated_at = :at, "
                            "version = :new, wait_tokens = :none, stats = :stats"
                            + (", last_active_at = :active" if stored.last_active_at else ""),
                            "ConditionExpression": "version = :expected",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": {
                                ":resolved": to_value("resolved"),
                                ":r": to_value(resolution.model_dump(mode="json")),
                                ":at": to_value(resolution.at.isoformat()),
                                ":new": to_value(new.version),
                                ":expected": to_value(incident.version),
                                ":none": {"M": {}},
                                ":stats": to_value(stored.stats.model_dump(mode="json")),
                            }
                            | (
                                {":active": to_value(stored.last_active_at.isoformat())}
                                if stored.last_active_at
                                else {}
                            ),
                        }
                    },
                    {
                        "Delete": {
                            "TableName": self._state,
                            "Key": _pointer_key(incident.watch_id, incident.story_id),
                            "ConditionExpression": "incident_id = :id",
                            "ExpressionAttributeValues": {":id": to_value(incident.incident_id)},
                        }
                    },
                ]
            )
        except ClientError as e:
            if error_code(e) == "TransactionCanceledException":
                raise StaleIncident(incident.incident_id) from e
            raise
        return self.get(incident.incident_id)
