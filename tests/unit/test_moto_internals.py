"""The moto internals the local runtime relies on (infra/local/emulator/moto_internals.py) are still
there, with the shape it uses; and its DynamoDB patch keeps moto's TransactWriteItems semantics.

On a moto upgrade these tests fail first: re-check moto_internals.py against the new version."""

from __future__ import annotations

import hashlib
import inspect
import json
import threading

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from infra.local.emulator import moto_internals

REGION = "ap-northeast-1"
ACCOUNT = "123456789012"


@pytest.fixture(autouse=True, scope="module")
def _moto_as_installed():
    """These tests need moto unpatched and empty: pause the LocalAws that this pytest session may
    run (tests/stack.py), and bring it back, provisioned again, for the tests after these."""
    from infra.local.emulator.runtime import LocalAws, LocalStack

    running = LocalAws._running
    if running is not None:
        running.stop()
    yield
    if running is not None:
        running.stack = LocalStack()
        running.start()


# The source of moto 5.2.5's DynamoDBBackend.transact_write_items, which moto_internals copies.
ORIGINAL_SOURCE_SHA256 = "81db2cb7d94e39c90b3a2077e1f4bb41a449c558ef9b1b1e2910fdaa39978ad4"


def test_moto_is_the_version_moto_internals_was_written_against():
    installed = moto_internals.installed_moto_version()
    assert installed == moto_internals.MOTO_VERSION, (
        f"moto {installed} is installed; infra/local/emulator/moto_internals.py was written against "
        f"moto {moto_internals.MOTO_VERSION}: re-check every internal it reads or patches, then update "
        "MOTO_VERSION (and the source hash in this test)"
    )
    moto_internals.check_moto_version()


def test_a_different_moto_version_fails_loudly(monkeypatch):
    monkeypatch.setattr(moto_internals, "installed_moto_version", lambda: "9.9.9")
    with pytest.raises(moto_internals.MotoVersionMismatch, match="re-check"):
        moto_internals.check_moto_version()


def test_transact_write_items_is_the_one_copied():
    """The patch is moto's method with its backup replaced: moto's method must be unchanged."""
    from moto.dynamodb.models import DynamoDBBackend

    source = inspect.getsource(DynamoDBBackend.transact_write_items)
    digest = hashlib.sha256(source.encode()).hexdigest()
    assert digest == ORIGINAL_SOURCE_SHA256, (
        "moto's DynamoDBBackend.transact_write_items changed: re-copy it into "
        "infra/local/emulator/moto_internals.py (keeping the item snapshots), then update this hash"
    )


def test_dynamodb_internals_have_the_expected_shape():
    from moto.dynamodb.models import DynamoDBBackend, get_filter_expression
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import StreamShard, Table
    from moto.dynamodb.responses import DynamoHandler

    assert callable(get_filter_expression) and callable(DynamoType)
    assert list(inspect.signature(DynamoDBBackend.transact_write_items).parameters) == [
        "self",
        "transact_items",
    ]
    assert list(inspect.signature(DynamoHandler.call_action).parameters) == ["self"]
    table = Table(
        "t",
        ACCOUNT,
        REGION,
        schema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        attr=[{"AttributeName": "pk", "AttributeType": "S"}],
    )
    assert (table.hash_key_attr, table.range_key_attr, table.stream_shard) == ("pk", None, None)
    assert isinstance(table.items, dict)
    assert isinstance(StreamShard(ACCOUNT, table).items, list)


def test_the_cost_meters_item_reads_see_what_is_stored():
    """What tools/cost/meter.py reads of moto's tables: keys, indexes, an item, every item."""
    with mock_aws():
        db = boto3.client("dynamodb", region_name=REGION)
        db.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "status")],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-status",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        item = {"pk": {"S": "p"}, "sk": {"S": "s"}, "n": {"N": "5"}, "m": {"M": {"k": {"L": [{"S": "v"}]}}}}
        db.put_item(TableName="t", Item=item)
        assert moto_internals.dynamodb_key_names(ACCOUNT, REGION, "t") == ("pk", "sk")
        assert moto_internals.dynamodb_key_names(ACCOUNT, REGION, "missing") == ()
        assert moto_internals.dynamodb_indexes(ACCOUNT, REGION, "t") == [
            {
                "IndexName": "by-status",
                "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ]
        key = {"pk": {"S": "p"}, "sk": {"S": "s"}}
        assert moto_internals.dynamodb_item(ACCOUNT, REGION, "t", key) == item
        assert moto_internals.dynamodb_item(ACCOUNT, REGION, "t", key | {"sk": {"S": "x"}}) is None
        assert list(moto_internals.dynamodb_items(ACCOUNT, REGION, "t")) == [item]


def test_lambda_invoke_has_the_expected_shape():
    from moto.awslambda_simple.models import LambdaSimpleBackend

    assert list(inspect.signature(LambdaSimpleBackend.invoke).parameters) == [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ]


def test_step_functions_callback_pool_has_the_expected_shape():
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint, CallbackPoolManager

    assert list(inspect.signature(CallbackPoolManager.notify).parameters) == [
        "self",
        "callback_id",
        "outcome",
    ]
    pool = CallbackPoolManager(activity_store={})
    endpoint = pool.add("token")
    assert isinstance(pool._pool, dict) and isinstance(endpoint, CallbackEndpoint)
    assert endpoint._outcome is None
    stop = moto_internals.patch_single_use_task_tokens()
    try:
        assert pool.notify("token", outcome="done") is True
        assert pool.notify("token", outcome="again") is False
    finally:
        stop()


@mock_aws
def test_sns_internals_have_the_expected_shape():
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    topic = sns.create_topic(Name="t")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="q")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    red = sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue,
        Attributes={"FilterPolicy": json.dumps({"level": ["red"]})},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    every = sns.subscribe(
        TopicArn=topic, Protocol="email", Endpoint="a@example.com", ReturnSubscriptionArn=True
    )["SubscriptionArn"]
    sns.publish(
        TopicArn=topic,
        Subject="s",
        MessageStructure="json",
        Message=json.dumps({"default": "plain", "email": "for e-mail"}),
        MessageAttributes={"level": {"DataType": "String", "StringValue": "yellow"}},
    )

    ((message_id, message, subject, attributes),) = moto_internals.sns_sent(ACCOUNT, REGION, topic)
    assert message_id and subject == "s" and attributes["level"]["Value"] == "yellow"
    subscriptions = moto_internals.sns_subscriptions(ACCOUNT, REGION, topic)
    assert set(subscriptions) == {red, every}
    assert not moto_internals.sns_filter_matches(subscriptions[red], attributes, message)
    assert moto_internals.sns_filter_matches(subscriptions[every], attributes, message)
    assert moto_internals.sns_text_for(subscriptions[every], message) == "for e-mail"


# -- the DynamoDB patch keeps moto's semantics --------------------------------------------------


def _seed(db) -> None:
    db.create_table(
        TableName="posts",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    db.create_table(
        TableName="state",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    db.put_item(TableName="posts", Item={"pk": {"S": "p1"}, "n": {"N": "1"}, "watch_ids": {"SS": ["w1"]}})
    db.put_item(TableName="state", Item={"pk": {"S": "w1"}, "sk": {"S": "b1"}, "n": {"N": "5"}})
    db.put_item(TableName="state", Item={"pk": {"S": "w2"}, "sk": {"S": "b1"}, "n": {"N": "7"}})


def _update_post(pk: str, watch: str) -> dict:
    """What crisiswatch's post save does: count the post once per watch."""
    return {
        "Update": {
            "TableName": "posts",
            "Key": {"pk": {"S": pk}},
            "UpdateExpression": "SET n = if_not_exists(n, :zero) ADD watch_ids :watch",
            "ConditionExpression": "attribute_not_exists(watch_ids) OR NOT contains(watch_ids, :watch_id)",
            "ExpressionAttributeValues": {
                ":watch": {"SS": [watch]},
                ":watch_id": {"S": watch},
                ":zero": {"N": "0"},
            },
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _add_bucket(pk: str, sk: str) -> dict:
    return {
        "Update": {
            "TableName": "state",
            "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
            "UpdateExpression": "ADD n :one",
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }


TRANSACTIONS = {
    "all succeed": [
        _update_post("p2", "w1"),
        _add_bucket("w1", "b1"),
        {"Put": {"TableName": "state", "Item": {"pk": {"S": "w3"}, "sk": {"S": "b9"}}}},
        {"Delete": {"TableName": "state", "Key": {"pk": {"S": "w2"}, "sk": {"S": "b1"}}}},
        {
            "ConditionCheck": {
                "TableName": "posts",
                "Key": {"pk": {"S": "p1"}},
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
    ],
    "the post was counted: cancelled": [_update_post("p1", "w1"), _add_bucket("w1", "b1")],
    "the last check fails: cancelled": [
        _update_post("p2", "w1"),
        _add_bucket("w1", "b1"),
        _add_bucket("w9", "new-partition"),
        {"Put": {"TableName": "posts", "Item": {"pk": {"S": "p3"}}}},
        {"Delete": {"TableName": "state", "Key": {"pk": {"S": "w2"}, "sk": {"S": "b1"}}}},
        {
            "Put": {
                "TableName": "posts",
                "Item": {"pk": {"S": "p1"}},
                "ConditionExpression": "attribute_not_exists(pk)",
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ],
    "two checks fail": [
        {
            "ConditionCheck": {
                "TableName": "state",
                "Key": {"pk": {"S": "w1"}, "sk": {"S": "b1"}},
                "ConditionExpression": "n > :big",
                "ExpressionAttributeValues": {":big": {"N": "100"}},
            }
        },
        _add_bucket("w2", "b1"),
        _update_post("p1", "w1"),
    ],
    "the same item twice": [_add_bucket("w1", "b1"), _update_post("p2", "w1"), _add_bucket("w1", "b1")],
    "an invalid update": [
        _add_bucket("w1", "b1"),
        {
            "Update": {
                "TableName": "posts",
                "Key": {"pk": {"S": "p1"}},
                "UpdateExpression": "ADD n :text",
                "ExpressionAttributeValues": {":text": {"S": "x"}},
            }
        },
    ],
    "a missing table": [
        _add_bucket("w1", "b1"),
        _update_post("p2", "w1"),
        {"Put": {"TableName": "missing", "Item": {"pk": {"S": "x"}}}},
    ],
}


def _outcome(transaction: list[dict]) -> dict:
    """What moto answers to `transaction`, and every table's items and stream afterwards."""
    with mock_aws():
        db = boto3.client("dynamodb", region_name=REGION)
        _seed(db)
        try:
            if transaction:
                db.transact_write_items(TransactItems=transaction)
            answer: dict = {"ok": True}
        except ClientError as e:
            answer = {
                "code": e.response["Error"]["Code"],
                "message": e.response["Error"]["Message"],
                "reasons": e.response.get("CancellationReasons"),
            }
        tables = {
            name: sorted(db.scan(TableName=name)["Items"], key=lambda item: json.dumps(item, sort_keys=True))
            for name in ("posts", "state")
        }
        from moto.dynamodb.models import dynamodb_backends

        shard = dynamodb_backends[ACCOUNT][REGION].tables["state"].stream_shard
        events = [(r["eventName"], r["dynamodb"]["Keys"]) for r in (i.to_json() for i in shard.items)]
        return {"answer": answer, "tables": tables, "stream": events}


@pytest.fixture
def patched():
    stop = moto_internals.patch_dynamodb()
    yield
    stop()


@pytest.mark.parametrize("name", sorted(TRANSACTIONS))
def test_the_patched_transaction_answers_and_writes_what_moto_does(name):
    transaction = TRANSACTIONS[name]
    unpatched = _outcome(transaction)
    stop = moto_internals.patch_dynamodb()
    try:
        patched = _outcome(transaction)
    finally:
        stop()
    assert patched == unpatched


def test_a_cancelled_transaction_leaves_every_item_as_it_was(patched):
    before = _outcome([])
    after = _outcome(TRANSACTIONS["the last check fails: cancelled"])
    assert after["answer"]["code"] == "TransactionCanceledException"
    assert [r["Code"] for r in after["answer"]["reasons"]] == ["None"] * 5 + ["ConditionalCheckFailed"]
    assert after["answer"]["reasons"][-1]["Item"] == {
        "pk": {"S": "p1"},
        "n": {"N": "1"},
        "watch_ids": {"SS": ["w1"]},
    }
    assert after["tables"] == before["tables"] and after["stream"] == before["stream"]


def test_a_successful_transaction_writes_every_item(patched):
    after = _outcome(TRANSACTIONS["all succeed"])
    assert after["answer"] == {"ok": True}
    posts = {item["pk"]["S"]: item for item in after["tables"]["posts"]}
    state = {(item["pk"]["S"], item["sk"]["S"]): item for item in after["tables"]["state"]}
    assert posts["p2"]["watch_ids"] == {"SS": ["w1"]}
    assert state[("w1", "b1")]["n"] == {"N": "6"}
    assert ("w3", "b9") in state and ("w2", "b1") not in state


def test_concurrent_requests_do_not_undo_each_other(patched):
    """Cancelled transactions in one thread, plain writes in another: no write is lost."""
    with mock_aws():
        db = boto3.client("dynamodb", region_name=REGION)
        _seed(db)

        def cancel():
            for _ in range(30):
                with pytest.raises(ClientError):
                    db.transact_write_items(TransactItems=[_add_bucket("w1", "b1"), _update_post("p1", "w1")])

        def write():
            for i in range(30):
                db.put_item(TableName="posts", Item={"pk": {"S": f"new-{i}"}})

        threads = [threading.Thread(target=cancel), threading.Thread(target=write)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert db.scan(TableName="posts", Select="COUNT")["Count"] == 1 + 30
        assert db.get_item(TableName="state", Key={"pk": {"S": "w1"}, "sk": {"S": "b1"}})["Item"]["n"] == {
            "N": "5"
        }
