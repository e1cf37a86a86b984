"""Every use of moto's private internals by the local runtime, in one place.

moto has no public API for what the runtime needs here: what SNS delivered to each subscriber,
running our Lambda handlers in-process, and a TransactWriteItems whose cost does not grow with
the table. Each function below reads or patches one internal of the moto version pinned in
`MOTO_VERSION`; `tests/unit/test_moto_internals.py` checks that each still exists with the shape
used here, and fails on any other moto version until this module has been re-checked against it.

What is patched, and why:
- `DynamoDBBackend.transact_write_items`: moto 5.2.5 deep-copies every table a transaction names
  (to restore it if the transaction is cancelled), so each transaction costs time proportional to
  the items stored (33 ms under 50 items, over 100 ms at 400). The patch is moto's own method with
  that one step replaced: it snapshots only the items the transaction touches, just before each
  is touched, and restores only those. All-or-nothing, the condition checks and the cancellation
  reasons are moto's, unchanged.
- `DynamoHandler.call_action`: one lock around DynamoDB's request handling, so requests from
  several threads (the state machine's tasks, the handlers) run one at a time, as DynamoDB's
  per-request atomicity guarantees; otherwise moto's rollback could undo another request's write.
- `LambdaSimpleBackend.invoke`: the state machine's `lambda:invoke` tasks run our handlers.

What is read without a request: what SNS published (the deliveries), and, for the cost meter
(`tools/cost/meter.py`), DynamoDB items before and after a write, to price it as DynamoDB bills.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib.metadata
import threading
from collections.abc import Callable, Iterator
from typing import Any
from unittest import mock

MOTO_VERSION = "5.2.5"


class MotoVersionMismatch(RuntimeError):
    pass


def installed_moto_version() -> str:
    return importlib.metadata.version("moto")


def check_moto_version() -> None:
    installed = installed_moto_version()
    if installed != MOTO_VERSION:
        raise MotoVersionMismatch(
            f"moto {installed} is installed, but infra/local/emulator/moto_internals.py was written "
            f"against moto {MOTO_VERSION}: re-check every internal it reads or patches against the "
            f"new version (and tests/unit/test_moto_internals.py), then update MOTO_VERSION"
        )


# -- transport ----------------------------------------------------------------------------------


def in_process(config: dict) -> Any:
    """moto in this process: boto3 clients (created after this, with no endpoint_url) are answered
    in-process, as by `mock_aws`, which this is (public API). Returns the mock: call `stop()`."""
    from moto import mock_aws

    mock = mock_aws(config=config)
    mock.start(reset=True)
    return mock


def reset_backends() -> None:
    """Empty every service, as `POST /moto-api/reset` does."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


def configure(config: dict) -> None:
    """moto's configuration, as `POST /moto-api/config` sets it."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.set_config(config)


# -- DynamoDB ----------------------------------------------------------------------------------

_dynamodb_lock = threading.RLock()


def _table_slot(table: Any, key: dict[str, Any]) -> tuple[Any, Any]:
    """The (hash, range) of `key` in moto's `Table.items` ({hash: Item} or {hash: {range: Item}})."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr is not None else None
    return hash_value, range_value


class _ItemSnapshots:
    """The items a transaction touches, as they were before it touched them, to put back."""

    def __init__(self, backend: Any) -> None:
        self._backend = backend
        # (table name, hash, range) -> (table, hash existed in table.items, the item copy or None)
        self._items: dict[tuple, tuple[Any, bool, Any]] = {}
        self._streams: dict[str, tuple[Any, int]] = {}

    def take(self, table_name: str, key: dict[str, Any]) -> None:
        table = self._backend.tables.get(table_name)
        if table is None:
            return  # the operation fails on the missing table; nothing to restore
        try:
            hash_value, range_value = _table_slot(table, key)
        except Exception:
            return  # a malformed key: moto rejects it before writing anything
        slot = (table_name, hash_value, range_value)
        if slot in self._items:
            return
        hash_existed = hash_value in table.items
        if range_value is None:
            current = table.items.get(hash_value) if hash_existed else None
        else:
            current = table.items[hash_value].get(range_value) if hash_existed else None
        self._items[slot] = (table, hash_existed, copy.deepcopy(current))
        if table_name not in self._streams and table.stream_shard is not None:
            self._streams[table_name] = (table.stream_shard, len(table.stream_shard.items))

    def restore(self) -> None:
        for (_, hash_value, range_value), (table, hash_existed, item) in self._items.items():
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
            else:
                if item is None:
                    table.items.get(hash_value, {}).pop(range_value, None)
                    if not hash_existed and not table.items.get(hash_value, True):
                        table.items.pop(hash_value, None)
                else:
                    table.items[hash_value][range_value] = item
        for shard, length in self._streams.values():
            del shard.items[length:]


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's `DynamoDBBackend.transact_write_items`, with its per-table deep copy replaced
    by `_ItemSnapshots` (the only difference: marked "changed" below)."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import get_filter_expression

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    snapshots = _ItemSnapshots(self)  # changed: was a deep copy of every table named

    target_items: set[tuple[str, str]] = set()

    def check_unicity(table_name: str, key: dict[str, Any]) -> None:
        item = (str(table_name), str(dict(sorted(key.items()))))
        if item in target_items:
            raise MultipleTransactionsException()
        target_items.add(item)

    errors: list[tuple[str, str, dict[str, Any]] | tuple[None, None, None]] = []
    for item in transact_items:
        original_item: dict[str, Any] | None = None
        if len(list(item.keys())) > 1:
            raise TransactWriteSingleOpException

        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")

            table_name = op["TableName"]
            condition_expression = op.get("ConditionExpression")
            expression_attribute_names = op.get("ExpressionAttributeNames")
            expression_attribute_values = op.get("ExpressionAttributeValues")
            return_values_on_condition_check_failure = op.get("ReturnValuesOnConditionCheckFailure")

            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]

            check_unicity(table_name, key)
            snapshots.take(table_name, key)  # changed: the item, before this operation touches it

            current = self.get_item(table_name, key)
            if condition_expression is not None:
                condition_op = get_filter_expression(
                    condition_expression,
                    expression_attribute_names,
                    expression_attribute_values,
                )
                if not condition_op.expr(current):
                    if return_values_on_condition_check_failure == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_item)

            if op_type == "Put":
                attrs = op["Item"]
                self.put_item(
                    table_name,
                    attrs,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    table_name,
                    key,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            elif op_type == "Update":
                update_expression = op["UpdateExpression"]
                self.update_item(
                    table_name,
                    key,
                    update_expression=update_expression,
                    condition_expression=condition_expression,
                    expression_attribute_names=expression_attribute_names,
                    expression_attribute_values=expression_attribute_values,
                )
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            snapshots.restore()  # changed
            raise
        except ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))  # type: ignore
        except Exception as e:  # moto's own: any other failure cancels it
            errors.append((type(e).__name__, str(e), original_item))  # type: ignore

    if any(code is not None for code, _, _ in errors):
        snapshots.restore()  # changed
        raise TransactionCanceledException(errors)


def _serialized(call_action: Callable) -> Callable:
    @functools.wraps(call_action)
    def call_action_serialized(self: Any) -> Any:
        with _dynamodb_lock:
            return call_action(self)

    call_action_serialized.__moto_internals__ = True  # type: ignore[attr-defined]
    return call_action_serialized


def patch_dynamodb() -> Callable[[], None]:
    """Item-level TransactWriteItems rollback, and one DynamoDB request at a time. Returns `stop`."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    patches = [
        mock.patch.object(DynamoDBBackend, "transact_write_items", transact_write_items),
        mock.patch.object(DynamoHandler, "call_action", _serialized(DynamoHandler.call_action)),
    ]
    for patch in patches:
        patch.start()
    return lambda: [patch.stop() for patch in reversed(patches)] and None


# -- Lambda ------------------------------------------------------------------------------------


def patch_lambda_invoke(run: Callable[[str, dict], Any]) -> Callable[[], None]:
    """Lambda invocations (e.g. a state machine's `lambda:invoke` task) call `run(function name,
    event)` in this process; an exception becomes a Lambda function error. Returns `stop`."""
    import json

    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(backend, function_name, qualifier, body, headers, response_headers):
        try:
            result = run(function_name, json.loads(body or b"{}"))
        except Exception as e:  # reported to the caller as a Lambda function error
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(e).__name__, "errorMessage": str(e)}).encode()
        return json.dumps(result).encode()

    patch = mock.patch.object(LambdaSimpleBackend, "invoke", invoke)
    patch.start()
    return patch.stop


# -- Step Functions ---------------------------------------------------------------------------


def patch_single_use_task_tokens() -> Callable[[], None]:
    """A task token answers once, as on AWS: moto 5.2.5 keeps a notified token in its pool, so a
    second SendTaskSuccess succeeds until the execution has moved on and ended, which in-process
    (no HTTP round trip in between) it has not yet. Returns `stop`."""
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackPoolManager

    original = CallbackPoolManager.notify

    def notify(self, callback_id, outcome):
        endpoint = self._pool.get(callback_id, None)
        if endpoint is not None and endpoint._outcome is not None:
            return False  # already answered: the caller reports InvalidToken
        return original(self, callback_id, outcome)

    patch = mock.patch.object(CallbackPoolManager, "notify", notify)
    patch.start()
    return patch.stop


# -- SNS ---------------------------------------------------------------------------------------


def sns_sent(account: str, region: str, topic_arn: str) -> Iterator[tuple[str, str, str | None, dict]]:
    """(message id, message, subject, message attributes) of each message published to the topic."""
    from moto.sns.models import sns_backends

    topic = sns_backends[account][region].topics[topic_arn]
    for message_id, message, subject, attributes, _group in topic.sent_notifications:
        yield message_id, message, subject, attributes or {}


def sns_subscriptions(account: str, region: str, topic_arn: str) -> dict[str, Any]:
    """The topic's subscriptions by ARN (moto's objects; pass them to the two functions below)."""
    from moto.sns.models import sns_backends

    backend = sns_backends[account][region]
    return {s.arn: s for s in backend.subscriptions.values() if s.topic.arn == topic_arn}


def sns_filter_matches(subscription: Any, attributes: dict, message: str) -> bool:
    """moto's own filter-policy matching, as it decides a delivery."""
    matcher = subscription._filter_policy_matcher
    return matcher is None or matcher.matches(attributes, message)


def sns_text_for(subscription: Any, message: str) -> str:
    """What the subscriber's protocol receives of `message` (a MessageStructure=json message's
    protocol-specific text), as moto parses it."""
    with contextlib.suppress(ValueError, KeyError):
        return subscription._parse_message_structure(message, subscription.protocol)
    return message


# -- Reading DynamoDB items without a request (the cost meter, tools/cost/meter.py) -----------
# The meter prices each write by the item's size before and after it, as DynamoDB bills; reading
# those through boto3 would be requests of their own (and would be metered). These read moto's
# `DynamoDBBackend.tables` and `Table.items` / `hash_key_attr` / `range_key_attr` /
# `global_indexes` directly, under the same lock as DynamoDB's request handling.


@contextlib.contextmanager
def dynamodb_serialized() -> Iterator[None]:
    """Hold DynamoDB's request lock (see `patch_dynamodb`): nothing writes an item in between."""
    with _dynamodb_lock:
        yield


def _dynamodb_table(account: str, region: str, table_name: str) -> Any | None:
    from moto.dynamodb.exceptions import ResourceNotFoundException
    from moto.dynamodb.models import dynamodb_backends

    try:
        return dynamodb_backends[account][region].get_table(table_name)
    except ResourceNotFoundException:
        return None


def dynamodb_key_names(account: str, region: str, table_name: str) -> tuple[str, ...]:
    """The table's key attribute names (hash, then range if any); () for an unknown table."""
    table = _dynamodb_table(account, region, table_name)
    if table is None:
        return ()
    return tuple(name for name in (table.hash_key_attr, table.range_key_attr) if name is not None)


def dynamodb_indexes(account: str, region: str, table_name: str) -> list[dict[str, Any]]:
    """The table's global secondary indexes, as DescribeTable lists them (IndexName, KeySchema,
    Projection)."""
    table = _dynamodb_table(account, region, table_name)
    if table is None:
        return []
    return [
        {"IndexName": index.name, "KeySchema": index.schema, "Projection": index.projection}
        for index in table.global_indexes
    ]


def dynamodb_item(account: str, region: str, table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    """The stored item with this key (wire format, {"name": {"S": ...}}), or None."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = _dynamodb_table(account, region, table_name)
    if table is None:
        return None
    try:
        hash_value = DynamoType(key[table.hash_key_attr])
        if table.range_key_attr is None:
            item = table.items.get(hash_value)
        else:
            item = table.items.get(hash_value, {}).get(DynamoType(key[table.range_key_attr]))
    except (KeyError, TypeError):
        return None  # a malformed key: the request itself fails on it
    return None if item is None else item.to_json()["Attributes"]


def dynamodb_items(account: str, region: str, table_name: str) -> Iterator[dict[str, Any]]:
    """Every stored item of the table (wire format), e.g. to measure what is stored."""
    table = _dynamodb_table(account, region, table_name)
    if table is None:
        return
    with _dynamodb_lock:
        items = list(table.all_items())
    for item in items:
        yield item.to_json()["Attributes"]
