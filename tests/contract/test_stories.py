"""The story index's contract, on DynamoDB (moto, the template's state table) and in memory; then
what only the DynamoDB adapter does (keys left unprocessed, the TTL attribute)."""

from __future__ import annotations

import os
from datetime import timedelta

import boto3
import pytest

from crisiswatch.aws.stories import DynamoStoryIndex
from crisiswatch.clock import SimulatedClock
from crisiswatch.constants import STORY_TTL_DAYS, Env
from crisiswatch.incidents.stories import StoryAssigner
from crisiswatch.ports import StoreThrottled
from tests.builders import NOW, post


def test_absent_keys_are_left_out(ports):
    assert ports.stories.lookup("xianweifang", ["p:weibo#1", "b0:1a2f"]) == {}
    assert ports.stories.lookup("xianweifang", []) == {}


def test_what_is_remembered_is_found(ports):
    ports.stories.remember("xianweifang", {"p:weibo#1": "s-1", "b0:1a2f": "s-1|00ff00ff00ff00ff"}, NOW)
    found = ports.stories.lookup("xianweifang", ["p:weibo#1", "b0:1a2f", "p:weibo#2"])
    assert found == {"p:weibo#1": "s-1", "b0:1a2f": "s-1|00ff00ff00ff00ff"}


def test_the_first_writer_wins(ports):
    ports.stories.remember("xianweifang", {"b0:1a2f": "s-first|00"}, NOW)
    ports.stories.remember("xianweifang", {"b0:1a2f": "s-second|01", "b1:0000": "s-second|01"}, NOW)
    assert ports.stories.lookup("xianweifang", ["b0:1a2f", "b1:0000"]) == {
        "b0:1a2f": "s-first|00",
        "b1:0000": "s-second|01",
    }


def test_one_lookup_takes_any_number_of_keys(ports):
    ports.stories.remember("xianweifang", {f"p:weibo#{i}": f"s-{i % 7}" for i in range(0, 250, 2)}, NOW)
    keys = [f"p:weibo#{i}" for i in range(250)]
    found = ports.stories.lookup("xianweifang", keys + keys[:10])  # a key asked twice is answered once
    assert found == {f"p:weibo#{i}": f"s-{i % 7}" for i in range(0, 250, 2)}


def test_each_watch_has_its_own_index(ports):
    ports.stories.remember("xianweifang", {"p:weibo#1": "s-a"}, NOW)
    ports.stories.remember("other-brand", {"p:weibo#1": "s-b"}, NOW)
    assert ports.stories.lookup("xianweifang", ["p:weibo#1"]) == {"p:weibo#1": "s-a"}
    assert ports.stories.lookup("other-brand", ["p:weibo#1"]) == {"p:weibo#1": "s-b"}
    assert ports.stories.lookup("third-brand", ["p:weibo#1"]) == {}


def test_the_assigner_finds_a_redelivered_batch_on_either_index(ports):
    writes = []

    class Counting:
        def lookup(self, watch_id, keys):
            return ports.stories.lookup(watch_id, keys)

        def remember(self, watch_id, entries, now):
            writes.append(dict(entries))
            ports.stories.remember(watch_id, entries, now)

    assigner = StoryAssigner(Counting(), ports.posts, SimulatedClock(NOW))
    batch = [
        post("1", text="鲜味坊的外卖吃出虫子，拉肚子一晚上，打客服电话一直没人接，这种店怎么还能开下去？"),
        post("2", text="转发微博", repost_of="weibo#1"),
        post(  # a copy: the same words once normalized
            "BV1xx",
            platform="bilibili",
            text="鲜味坊的外卖吃出虫子!!拉肚子一晚上 打客服电话一直没人接 这种店怎么还能开下去 http://t.cn/A6x9",
        ),
    ]
    first = assigner.assign("xianweifang", batch)
    assert len(set(first.values())) == 1
    assert assigner.assign("xianweifang", batch) == first
    assert len(writes) == 1  # the second delivery found everything


# --- the DynamoDB adapter only -----------------------------------------------------------------


class _Unprocessing:
    """A DynamoDB client whose BatchGetItem answers only the first `answered` keys of a request and
    leaves the others unprocessed, `stubborn` times; then it answers in full."""

    def __init__(self, client, stubborn: int, answered: int = 1):
        self._client = client
        self.stubborn = stubborn
        self.answered = answered
        self.calls = 0

    def batch_get_item(self, RequestItems):
        self.calls += 1
        if self.stubborn <= 0:
            return self._client.batch_get_item(RequestItems=RequestItems)
        self.stubborn -= 1
        ((table, request),) = RequestItems.items()
        keys = request["Keys"]
        answer = {"Responses": {table: []}}
        if self.answered:
            answer = self._client.batch_get_item(
                RequestItems={table: request | {"Keys": keys[: self.answered]}}
            )
        return answer | {"UnprocessedKeys": {table: request | {"Keys": keys[self.answered :]}}}

    def __getattr__(self, name):
        return getattr(self._client, name)


def test_keys_left_unprocessed_are_read_again_after_a_backoff(aws):
    client = _Unprocessing(boto3.client("dynamodb"), stubborn=2)
    slept = []
    index = DynamoStoryIndex(client, os.environ[Env.STATE_TABLE], sleep=slept.append)
    index.remember("xianweifang", {f"p:weibo#{i}": f"s-{i}" for i in range(5)}, NOW)

    assert index.lookup("xianweifang", [f"p:weibo#{i}" for i in range(6)]) == {
        f"p:weibo#{i}": f"s-{i}" for i in range(5)
    }
    assert client.calls == 3 and slept == [0.05, 0.1]


def test_keys_that_stay_unprocessed_raise_a_domain_error(aws):
    client = _Unprocessing(boto3.client("dynamodb"), stubborn=99, answered=0)
    index = DynamoStoryIndex(client, os.environ[Env.STATE_TABLE], sleep=lambda _: None)
    with pytest.raises(StoreThrottled):
        index.lookup("xianweifang", ["p:weibo#1", "p:weibo#2"])


def test_entries_expire_after_the_story_ttl(aws):
    dynamodb = boto3.client("dynamodb")
    DynamoStoryIndex(dynamodb, os.environ[Env.STATE_TABLE]).remember("xianweifang", {"p:weibo#1": "s-1"}, NOW)
    item = dynamodb.get_item(
        TableName=os.environ[Env.STATE_TABLE],
        Key={"pk": {"S": "STORIES#xianweifang"}, "sk": {"S": "p:weibo#1"}},
    )["Item"]
    assert int(item["expires_at"]["N"]) == int((NOW + timedelta(days=STORY_TTL_DAYS)).timestamp())
