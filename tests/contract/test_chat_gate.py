"""The chat gate's contract, on DynamoDB (moto, the template's state table) and in memory; then what
only the DynamoDB adapter does (a lost optimistic write is retried against what the winner wrote)."""

from __future__ import annotations

import os
import random
from datetime import timedelta

import boto3

from crisiswatch.aws.chat_gate import DynamoChatGate
from crisiswatch.constants import Env
from crisiswatch.escalation.chat import BACKLOG_CAP, LIMITS, ChatLimits
from tests.builders import NOW

FEISHU = LIMITS["feishu"]  # 100 a minute, 5 a second
WECOM = LIMITS["wecom"]  # 20 a minute


def most_in_any_window(sends, width: timedelta) -> int:
    """The most sends in any half-open span of `width` (each span worth checking starts at a send)."""
    return max((sum(1 for t in sends if s <= t < s + width) for s in sends), default=0)


def test_a_storm_never_exceeds_either_window(ports):
    rng = random.Random(7)
    sent, now = [], NOW
    for _ in range(400):  # about 80 s of traffic, far more than 5 a second
        now += timedelta(milliseconds=rng.randint(0, 400))
        messages = rng.choice([1, 1, 1, 2, 3])
        if ports.chat_gate.admit("ops", now, FEISHU, messages) is None:
            sent += [now] * messages
    assert most_in_any_window(sent, timedelta(seconds=1)) == 5
    assert most_in_any_window(sent, timedelta(seconds=60)) <= 100
    assert len(sent) > 100  # the second minute sent too


def test_a_refusal_says_when_they_fit_and_then_they_do(ports):
    for i in range(20):
        assert ports.chat_gate.admit("ops", NOW + timedelta(seconds=i), WECOM) is None
    at = ports.chat_gate.admit("ops", NOW + timedelta(seconds=30), WECOM, messages=3)
    assert at == NOW + timedelta(seconds=62)  # the third send leaves the window then
    assert ports.chat_gate.admit("ops", at - timedelta(milliseconds=1), WECOM, messages=3) == at
    assert ports.chat_gate.admit("ops", at, WECOM, messages=3) is None


def test_admitting_several_is_all_or_nothing(ports):
    assert ports.chat_gate.admit("ops", NOW, WECOM, messages=18) is None
    assert ports.chat_gate.admit("ops", NOW, WECOM, messages=3) == NOW + timedelta(seconds=60)
    assert ports.chat_gate.admit("ops", NOW, WECOM, messages=2) is None  # the 3 took nothing
    assert ports.chat_gate.admit("ops", NOW, WECOM) is not None


def test_each_bot_has_its_own_windows(ports):
    assert ports.chat_gate.admit("ops", NOW, WECOM, messages=20) is None
    assert ports.chat_gate.admit("pr", NOW, WECOM, messages=20) is None
    assert ports.chat_gate.admit("ops", NOW, WECOM) is not None


def test_the_backlog_is_taken_once_oldest_first(ports):
    assert ports.chat_gate.take_held("ops") == []
    assert ports.chat_gate.hold("ops", "🔴 鲜味坊 红色预警", NOW) == 1
    assert ports.chat_gate.hold("ops", "🟠 鲜味坊 橙色预警", NOW) == 2
    ports.chat_gate.hold("pr", "另一个机器人", NOW)
    assert ports.chat_gate.take_held("ops") == ["🔴 鲜味坊 红色预警", "🟠 鲜味坊 橙色预警"]
    assert ports.chat_gate.take_held("ops") == []
    assert ports.chat_gate.take_held("pr") == ["另一个机器人"]


def test_beyond_its_cap_the_backlog_counts_what_it_drops(ports):
    for i in range(BACKLOG_CAP + 7):
        length = ports.chat_gate.hold("ops", f"line {i}", NOW)
    assert length == BACKLOG_CAP + 7
    taken = ports.chat_gate.take_held("ops")
    assert taken == [f"line {i}" for i in range(BACKLOG_CAP)] + ["…及另外 7 条"]


def test_lines_put_back_go_in_front_and_keep_their_count(ports):
    for i in range(BACKLOG_CAP + 2):
        ports.chat_gate.hold("ops", f"old {i}", NOW)
    taken = ports.chat_gate.take_held("ops")
    ports.chat_gate.hold("ops", "new", NOW)
    assert ports.chat_gate.put_back("ops", taken) == BACKLOG_CAP + 3
    assert ports.chat_gate.take_held("ops") == [f"old {i}" for i in range(BACKLOG_CAP)] + ["…及另外 3 条"]


def test_holding_does_not_touch_the_windows(ports):
    ports.chat_gate.hold("ops", "a line", NOW)
    assert ports.chat_gate.admit("ops", NOW, WECOM, messages=20) is None
    assert ports.chat_gate.take_held("ops") == ["a line"]


# -- DynamoDB only ----------------------------------------------------------------------------------


class Interleaving:
    """A DynamoDB client on which, just before the first conditional write, `meanwhile` runs: another
    notifier that read the same item after us and writes first."""

    def __init__(self, client, meanwhile):
        self._client = client
        self._meanwhile = meanwhile
        self.lost = 0

    def get_item(self, **kwargs):
        return self._client.get_item(**kwargs)

    def update_item(self, **kwargs):
        if self._meanwhile and "ConditionExpression" in kwargs:
            meanwhile, self._meanwhile = self._meanwhile, None
            meanwhile()
        try:
            return self._client.update_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException:
            self.lost += 1
            raise


def test_two_notifiers_at_once_never_exceed_a_limit_together(aws):
    client, table = boto3.client("dynamodb"), os.environ[Env.STATE_TABLE]
    limits = ChatLimits(per_minute=5, max_bytes=4096)
    other = DynamoChatGate(client, table)
    assert other.admit("ops", NOW, limits, messages=2) is None
    racing = Interleaving(client, lambda: other.admit("ops", NOW, limits, messages=3))
    gate = DynamoChatGate(racing, table)
    assert gate.admit("ops", NOW, limits, messages=2) == NOW + timedelta(seconds=60)  # read again: full
    assert racing.lost == 1
    assert other.admit("ops", NOW, limits) is not None


def test_a_line_held_meanwhile_survives_a_put_back(aws):
    client, table = boto3.client("dynamodb"), os.environ[Env.STATE_TABLE]
    other = DynamoChatGate(client, table)
    other.hold("ops", "taken", NOW)
    taken = other.take_held("ops")
    racing = Interleaving(client, lambda: other.hold("ops", "held meanwhile", NOW))
    assert DynamoChatGate(racing, table).put_back("ops", taken) == 2
    assert racing.lost == 1
    assert other.take_held("ops") == ["taken", "held meanwhile"]
