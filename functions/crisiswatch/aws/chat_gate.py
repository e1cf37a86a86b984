"""DynamoDB: the chat gate, one item per bot in the state table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from crisiswatch.aws.items import error_code, from_item, to_value
from crisiswatch.escalation.chat import (
    BACKLOG_CAP,
    ChatLimits,
    dropped_line,
    merge_backlog,
    next_fit,
    recent,
)
from crisiswatch.ports import StoreThrottled

CHATBOT_PREFIX = "CHATBOT#"
GATE_SK = "GATE"
ATTEMPTS = 20  # optimistic writes lost to other notifiers before giving up
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class DynamoChatGate:
    """Item `pk = CHATBOT#<bot>`, `sk = GATE`: `sends` (the last minute's send times, in epoch
    microseconds), `backlog` (lines), `dropped` (lines beyond the cap) and `version`.

    `admit` and `put_back` read the item (strongly consistent), decide, and write only if `version`
    is still the one read, else read again: two notifiers admitting at once are serialized, so
    together they never exceed a limit. `hold` and `take_held` are single atomic updates (append
    within the cap, or count; remove and return the old value) that bump `version` too.
    """

    def __init__(self, client, state_table: str, backlog_cap: int = BACKLOG_CAP):
        self._db = client
        self._state = state_table
        self._cap = backlog_cap

    def admit(self, bot: str, now: datetime, limits: ChatLimits, messages: int = 1) -> datetime | None:
        def decide(item: dict[str, Any]) -> tuple[datetime | None, dict[str, Any] | None]:
            sends = recent([_time(us) for us in item.get("sends", [])], now)
            if (at := next_fit(sends, now, limits, messages)) is not None:
                return at, None
            return None, {"sends": [_micros(s) for s in sends + [now] * messages]}

        return self._optimistic(bot, decide)

    def hold(self, bot: str, line: str, now: datetime) -> int:
        try:
            item = self._update(
                bot,
                "SET backlog = list_append(if_not_exists(backlog, :empty), :line), " + _BUMP,
                {":empty": to_value([]), ":line": to_value([line]), ":cap": to_value(self._cap)},
                condition="attribute_not_exists(backlog) OR size(backlog) < :cap",
                returns="ALL_NEW",
            )
        except ClientError as e:
            if error_code(e) != "ConditionalCheckFailedException":  # full: count it instead
                raise
            item = self._update(bot, "ADD dropped :one SET " + _BUMP, {}, returns="ALL_NEW")
        return len(item.get("backlog", [])) + item.get("dropped", 0)

    def take_held(self, bot: str) -> list[str]:
        old = self._update(bot, "REMOVE backlog, dropped SET " + _BUMP, {}, returns="ALL_OLD")
        dropped = old.get("dropped", 0)
        return list(old.get("backlog", [])) + ([dropped_line(dropped)] if dropped else [])

    def put_back(self, bot: str, lines: Sequence[str]) -> int:
        def decide(item: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            backlog, dropped = merge_backlog(
                lines, item.get("backlog", []), item.get("dropped", 0), self._cap
            )
            return len(backlog) + dropped, {"backlog": backlog, "dropped": dropped}

        return self._optimistic(bot, decide)

    # -- plumbing -----------------------------------------------------------------------------
    def _key(self, bot: str) -> dict[str, Any]:
        return {"pk": to_value(f"{CHATBOT_PREFIX}{bot}"), "sk": to_value(GATE_SK)}

    def _optimistic(self, bot: str, decide: Callable[[dict[str, Any]], tuple[Any, dict[str, Any] | None]]):
        for _ in range(ATTEMPTS):
            raw = self._db.get_item(TableName=self._state, Key=self._key(bot), ConsistentRead=True)
            item = from_item(raw.get("Item", {}))
            answer, changes = decide(item)
            if changes is None:
                return answer
            names = {f"#a{i}": name for i, name in enumerate(changes)}
            values = {f":a{i}": to_value(value) for i, value in enumerate(changes.values())}
            assignments = ", ".join(f"#a{i} = :a{i}" for i in range(len(changes)))
            version = item.get("version")
            try:
                self._db.update_item(
                    TableName=self._state,
                    Key=self._key(bot),
                    UpdateExpression=f"SET {assignments}, version = :next",
                    ConditionExpression="attribute_not_exists(version)"
                    if version is None
                    else "version = :read",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={
                        **values,
                        ":next": to_value((version or 0) + 1),
                        **({} if version is None else {":read": to_value(version)}),
                    },
                )
                return answer
            except ClientError as e:
                if error_code(e) != "ConditionalCheckFailedException":  # another notifier wrote first
                    raise
        raise StoreThrottled(f"chat gate {bot!r}: {ATTEMPTS} writes lost to other notifiers")

    def _update(
        self, bot: str, expression: str, values: dict[str, Any], *, returns: str, condition: str = ""
    ):
        response = self._db.update_item(
            TableName=self._state,
            Key=self._key(bot),
            UpdateExpression=expression,
            ExpressionAttributeValues={**values, ":zero": to_value(0), ":one": to_value(1)},
            ReturnValues=returns,
            **({"ConditionExpression": condition} if condition else {}),
        )
        return from_item(response.get("Attributes", {}))


_BUMP = "version = if_not_exists(version, :zero) + :one"


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _time(micros: int) -> datetime:
    return _EPOCH + micros * _MICROSECOND
