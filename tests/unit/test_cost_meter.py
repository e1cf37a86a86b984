"""The cost meter's arithmetic (tools/cost): DynamoDB request units as DynamoDB bills them, SQS
payload chunks, and requests counted by service and operation, on moto."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from moto import mock_aws

from tools.cost import units
from tools.cost.meter import Meter

REGION = "ap-northeast-1"
KB = 1024


@pytest.fixture(autouse=True, scope="module")
def _moto_as_installed():
    """mock_aws needs moto to itself: pause the LocalAws this pytest session may run
    (tests/stack.py), and bring it back, provisioned again, for the tests after these."""
    from infra.local.emulator.runtime import LocalAws, LocalStack

    running = LocalAws._running
    if running is not None:
        running.stop()
    yield
    if running is not None:
        running.stack = LocalStack()
        running.start()


@pytest.fixture
def db():
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="t",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def item(size: int, pk: str = "p", sk: str = "s") -> dict:
    """An item of exactly `size` bytes as DynamoDB counts them (names + UTF-8 values)."""
    fixed = len("pk") + len(pk) + len("sk") + len(sk) + len("data")
    made = {"pk": {"S": pk}, "sk": {"S": sk}, "data": {"S": "x" * (size - fixed)}}
    assert units.item_size(made) == size
    return made


def writes(meter: Meter) -> float:
    return sum(n for (_, _, kind), n in meter.dynamodb.items() if kind == "write")


def reads(meter: Meter) -> float:
    return sum(n for (_, _, kind), n in meter.dynamodb.items() if kind == "read")


# -- sizes ---------------------------------------------------------------------------------------


def test_item_sizes_follow_dynamodb_rules():
    assert units.item_size({"名": {"S": "鲜味坊"}}) == 3 + 9  # UTF-8 bytes of name and value
    assert units.number_size("12345") == 4  # 1 byte per two significant digits, plus 1
    assert units.number_size("-0.00120") == 2  # leading and trailing zeroes do not count
    assert units.item_size({"b": {"BOOL": True}, "n": {"NULL": True}}) == 1 + 1 + 1 + 1
    # a list or map: 3 bytes, plus 1 per element, plus the elements (a map's names included)
    assert units.item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert units.item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert units.item_size({"s": {"SS": ["a", "bc"]}}) == 1 + 3
    assert units.item_size({"b": {"B": b"\x00\x01"}}) == 1 + 2


def test_units_round_up_per_item():
    assert (units.write_units(1), units.write_units(1024), units.write_units(1025)) == (1, 1, 2)
    assert (units.read_units(4096, True), units.read_units(4097, True), units.read_units(10, False)) == (
        1.0,
        2.0,
        0.5,
    )
    assert (units.payload_requests(64 * KB), units.payload_requests(64 * KB + 1)) == (1, 2)


# -- writes --------------------------------------------------------------------------------------


def test_a_put_of_a_1_5_kb_item_costs_2_write_units(db):
    with Meter() as meter:
        db.put_item(TableName="t", Item=item(1536))
    assert writes(meter) == 2
    assert meter.requests[("dynamodb", "PutItem", "-")] == 1


def test_a_transaction_of_two_half_kb_items_costs_4(db):
    with Meter() as meter:
        db.transact_write_items(
            TransactItems=[{"Put": {"TableName": "t", "Item": item(512, sk=sk)}} for sk in ("a", "b")]
        )
    assert writes(meter) == 4


def test_an_update_growing_an_item_from_half_a_kb_to_2_5_kb_costs_3(db):
    db.put_item(TableName="t", Item=item(512))
    grown = item(2560)["data"]
    with Meter() as meter:
        db.update_item(
            TableName="t",
            Key={"pk": {"S": "p"}, "sk": {"S": "s"}},
            UpdateExpression="SET #d = :d",
            ExpressionAttributeNames={"#d": "data"},
            ExpressionAttributeValues={":d": grown},
        )
    assert writes(meter) == 3


def test_a_failed_condition_still_costs_the_existing_item(db):
    db.put_item(TableName="t", Item=item(1536))
    with Meter() as meter, pytest.raises(ClientError, match="ConditionalCheckFailed"):
        db.put_item(TableName="t", Item=item(100), ConditionExpression="attribute_not_exists(pk)")
    assert writes(meter) == 2  # the 1.5 KB already there


def test_a_cancelled_transaction_still_costs_its_items_twice(db):
    db.put_item(TableName="t", Item=item(512, sk="a"))
    with Meter() as meter, pytest.raises(ClientError, match="TransactionCanceled"):
        db.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": "t", "Item": item(512, sk="b")}},
                {
                    "Put": {
                        "TableName": "t",
                        "Item": item(512, sk="a"),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert writes(meter) == 4
    assert db.get_item(TableName="t", Key={"pk": {"S": "p"}, "sk": {"S": "b"}}).get("Item") is None


def test_a_rejected_or_unsent_write_costs_nothing(db):
    with Meter() as meter:
        with pytest.raises(ClientError, match="ValidationException"):
            db.put_item(TableName="t", Item={"pk": {"S": "p"}})  # no sort key
        with pytest.raises(ParamValidationError):
            db.put_item(TableName="t")
    assert writes(meter) == 0
    assert meter.calls[("dynamodb", "PutItem", "-")] == 2


def test_a_write_also_costs_the_index_entries_it_changes():
    with mock_aws():
        db = boto3.client("dynamodb", region_name=REGION)
        db.create_table(
            TableName="i",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "status", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-status",
                    "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        key = {"pk": {"S": "x"}}
        with Meter() as meter:
            db.put_item(TableName="i", Item=key | {"status": {"S": "open"}})  # 1 + a new entry 1
            db.update_item(  # 1 + the key changed: delete and put 2
                TableName="i",
                Key=key,
                UpdateExpression="SET #s = :s",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":s": {"S": "closed"}},
            )
            db.put_item(TableName="i", Item={"pk": {"S": "y"}})  # 1, not in the index
        index = sum(n for (_, _, kind), n in meter.dynamodb.items() if kind == "index write")
        assert (writes(meter), index) == (3, 3)


# -- reads ---------------------------------------------------------------------------------------


def test_a_get_of_a_5_kb_item_costs_2_read_units_consistent_and_1_eventually(db):
    db.put_item(TableName="t", Item=item(5 * KB))
    key = {"pk": {"S": "p"}, "sk": {"S": "s"}}
    with Meter() as consistent:
        db.get_item(TableName="t", Key=key, ConsistentRead=True)
    with Meter() as eventual:
        db.get_item(TableName="t", Key=key, ProjectionExpression="pk")  # the whole item is read
    with Meter() as missing:
        db.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"S": "s"}}, ConsistentRead=True)
    assert (reads(consistent), reads(eventual), reads(missing)) == (2.0, 1.0, 1.0)


def test_a_query_of_ten_1_kb_items_costs_3_consistent_and_1_5_eventually(db):
    for i in range(10):
        db.put_item(TableName="t", Item=item(KB, sk=f"s{i}"))
    query = {
        "TableName": "t",
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p"}},
    }
    with Meter() as consistent:
        assert len(db.query(**query, ConsistentRead=True)["Items"]) == 10
    with Meter() as eventual:
        db.query(**query)
    assert (reads(consistent), reads(eventual)) == (3.0, 1.5)


def test_batch_and_transaction_reads_round_per_item(db):
    for sk in ("a", "b"):
        db.put_item(TableName="t", Item=item(5 * KB, sk=sk))
    keys = [{"pk": {"S": "p"}, "sk": {"S": sk}} for sk in ("a", "b")]
    with Meter() as batch:
        db.batch_get_item(RequestItems={"t": {"Keys": keys, "ConsistentRead": True}})
    with Meter() as transaction:
        db.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": k}} for k in keys])
    assert (reads(batch), reads(transaction)) == (4.0, 8.0)


# -- SQS, SNS and counting -----------------------------------------------------------------------


def test_an_sqs_batch_is_billed_per_64_kb_chunk():
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        with Meter() as meter:
            sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": "x" * (60 * KB)} for i in range(3)]
            )
            sqs.send_message(QueueUrl=url, MessageBody="small")
        assert meter.requests[("sqs", "SendMessageBatch", "-")] == 1
        assert meter.billed[("sqs", "SendMessageBatch", "-")] == 3  # 180 KB
        assert meter.billed[("sqs", "SendMessage", "-")] == 1


def test_requests_are_counted_by_service_and_operation(db):
    sqs = boto3.client("sqs", region_name=REGION)  # db's mock_aws is on
    sns = boto3.client("sns", region_name=REGION)
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    topic = sns.create_topic(Name="t")["TopicArn"]
    with Meter() as meter:
        for _ in range(2):
            sqs.send_message(QueueUrl=url, MessageBody="m")
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        sns.publish(TopicArn=topic, Message="alert")
        db.put_item(TableName="t", Item=item(100))
    by_operation = {(s, o): n for (s, o, _), n in meter.requests.items()}
    assert by_operation == {
        ("sqs", "SendMessage"): 2,
        ("sqs", "ReceiveMessage"): 1,
        ("sns", "Publish"): 1,
        ("dynamodb", "PutItem"): 1,
    }
    with Meter(functions_only=True) as outside:  # nothing runs as a function here: nothing billed
        db.put_item(TableName="t", Item=item(100))
    assert not outside.requests and outside.unbilled[("dynamodb", "PutItem")] == 1


def test_a_paused_meter_counts_nothing(db):
    with Meter() as meter, meter.paused():
        db.put_item(TableName="t", Item=item(100))
    assert not meter.requests and not meter.dynamodb


def handler_asking_its_queue(event: dict, context) -> dict:
    """A Lambda handler for the poller test: one request of its own, every record processed."""
    boto3.client("sqs", region_name=REGION).get_queue_url(QueueName="q")
    return {"batchItemFailures": []}


def test_the_sqs_poller_is_billed_as_lambdas_and_requests_go_to_their_function():
    """LocalAws.pump receives until empty and deletes one by one; Lambda's poller deletes in
    batches of 10 and long-polls (a fixed cost): so 3 receives and 3 deletes for 25 messages."""
    from infra.local.emulator.runtime import EventSourceMapping, LocalAws, LocalFunction

    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for _ in range(5):
            sqs.send_message_batch(
                QueueUrl=url, Entries=[{"Id": str(j), "MessageBody": "m"} for j in range(5)]
            )
        function = LocalFunction("Fn", "fn", f"{__name__}.handler_asking_its_queue", {}, 30)
        mapping = EventSourceMapping(url, "arn:aws:sqs:ap-northeast-1:123456789012:q", function, 25, True)
        with Meter(functions_only=True) as meter:
            assert LocalAws({"Resources": {}}).pump(mapping) == {"delivered": 25, "failed": 0}
        counts = {
            (op, caller): (n, meter.requests[(svc, op, caller)])
            for (svc, op, caller), n in meter.calls.items()
        }
        assert counts == {
            ("ReceiveMessage", "sqs poller"): (4, 3),  # 10 + 10 + 5, then an empty one
            ("DeleteMessage", "sqs poller"): (25, 3),
            ("GetQueueUrl", "Fn"): (1, 1),
        }
        assert meter.idle_polls == 1
        usage = meter.functions["Fn"]
        assert (usage.invocations, dict(usage.by_trigger), usage.memory_mb) == (1, {"queue": 1}, 128)
        assert usage.billed_ms >= 1 and usage.gb_seconds == usage.billed_ms / 1000 * 128 / 1024
