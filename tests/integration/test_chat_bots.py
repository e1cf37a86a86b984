"""Chat delivery against the local webhooks of WeCom, DingTalk and Feishu (infra.local.simulator.chat_bots):
signatures, size limits, rate limits that are never hit, and a storm that ends in one digest.

The simulator and the sender share one simulated clock, so minutes (and DingTalk's 10-minute ban)
pass at once."""

from __future__ import annotations

import contextlib
import json
from datetime import timedelta

import pytest

from crisiswatch.clock import SimulatedClock
from crisiswatch.escalation.chat import RATE_LIMITED, ChatBotConfig
from crisiswatch.escalation.chat_delivery import ChatDelivery
from crisiswatch.escalation.chat_http import HttpChatSender
from crisiswatch.memory.chat_gate import MemoryChatGate
from crisiswatch.memory.messaging import MemorySecrets
from crisiswatch.ports import ChatUndelivered
from infra.local.simulator.chat_bots import ChatBotSimulator, SimBot
from tests.builders import NOW

KINDS = ["wecom", "dingtalk", "feishu"]
BOTS = {
    "wecom": SimBot("ops-wecom", "wecom", token="wk-7f3a9c"),
    "dingtalk": SimBot("ops-dingtalk", "dingtalk", token="dt-41be", secret="SECd1n6t4lk5ecr3t"),
    "feishu": SimBot("ops-feishu", "feishu", token="fs-hook-93", secret="f3i5hu5ecr3t"),
}
BODY_LIMIT = {"wecom": 4096, "dingtalk": 20000, "feishu": 20 * 1024}  # content, text, whole body


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(NOW)


@pytest.fixture
def sim(clock):
    with ChatBotSimulator(list(BOTS.values()), clock=clock.now, slow_seconds=0.3) as sim:
        yield sim


def config(sim: ChatBotSimulator, kind: str) -> ChatBotConfig:
    return ChatBotConfig(name=BOTS[kind].name, kind=kind, base_url=sim.base_url)


def secrets(**overrides: str) -> MemorySecrets:
    values = {f"crisiswatch/chat/{bot.name}": bot.secret_json for bot in BOTS.values()}
    return MemorySecrets(values | overrides)


def delivery(clock, gate=None, **secret_overrides) -> ChatDelivery:
    return ChatDelivery(gate or MemoryChatGate(), HttpChatSender(clock), secrets(**secret_overrides))


@pytest.mark.parametrize("kind", KINDS)
def test_a_message_arrives_on_each_kind_of_bot(sim, clock, kind):
    outcome = delivery(clock).deliver(
        config(sim, kind), "【红色预警】鲜味坊", "**食品安全**：负面 150 条", "line", NOW
    )
    assert outcome.status == "sent" and len(outcome.message_ids) == 1
    [message] = sim.accepted
    assert message.bot == BOTS[kind].name and "负面 150 条" in message.text
    assert "鲜味坊" in (message.title or message.text)
    assert sim.rejected == []


@pytest.mark.parametrize(
    ("kind", "bad", "code"),
    [
        ("wecom", {"key": "not-the-key"}, 93000),
        ("dingtalk", {"access_token": "dt-41be", "secret": "SECwrong"}, 310000),
        ("feishu", {"token": "fs-hook-93", "secret": "wrong"}, 19021),
    ],
)
def test_a_bad_key_or_signature_is_rejected(sim, clock, kind, bad, code, capsys, caplog):
    caplog.set_level("DEBUG")
    bot = config(sim, kind)
    with pytest.raises(ChatUndelivered) as raised:
        HttpChatSender(clock).send(bot, json.dumps(bad), "标题", "正文")
    assert raised.value.reason.startswith("rejected") and str(code) in raised.value.reason
    assert [r.code for r in sim.rejected] == [code] and sim.accepted == []
    outcome = delivery(clock, **{bot.secret: json.dumps(bad)}).deliver(bot, "标题", "正文", "line", NOW)
    assert outcome.status == "failed" and outcome.reason.startswith("rejected")
    logged = capsys.readouterr()
    for secret in bad.values():
        assert secret not in logged.out + logged.err + caplog.text + str(raised.value) + outcome.summary


@pytest.mark.parametrize("kind", ["dingtalk", "feishu"])
def test_a_signature_more_than_an_hour_old_is_rejected(sim, kind):
    late = SimulatedClock(NOW - timedelta(minutes=61))
    with pytest.raises(ChatUndelivered, match="rejected"):
        HttpChatSender(late).send(config(sim, kind), BOTS[kind].secret_json, "标题", "正文")
    within = SimulatedClock(NOW - timedelta(minutes=59))
    HttpChatSender(within).send(config(sim, kind), BOTS[kind].secret_json, "标题", "正文")
    assert len(sim.rejected) == 1 and len(sim.accepted) == 1


@pytest.mark.parametrize("kind", KINDS)
def test_a_storm_never_hits_a_limit_and_what_waits_ends_in_one_digest(sim, clock, kind):
    bot, chat = config(sim, kind), delivery(clock)
    timer = None  # the caller's one flush timer for this bot, set again on each hold
    for i in range(100):
        line = f"#{i:03d} 鲜味坊 橙色预警 负面 {40 + i} 条"
        outcome = chat.deliver(
            bot, f"【橙色预警】鲜味坊 #{i:03d}", f"**{line}**\n详情见后台", line, clock.now()
        )
        assert outcome.status in ("sent", "held")
        if outcome.status == "held":
            timer = outcome.retry_at
        clock.advance(0.05)
    direct = len(sim.accepted)
    assert direct == {"wecom": 20, "dingtalk": 20, "feishu": 25}[kind]
    clock.set(max(timer, clock.now()))
    flushed = chat.flush(bot, clock.now())
    assert flushed.status == "sent"
    assert chat.flush(bot, clock.now()).status == "empty"
    assert sim.rejected == []
    digests = sim.accepted[direct:]
    assert "100" not in digests[0].title  # only what waited
    arrived = "\n".join(sim.texts(bot.name))
    assert all(f"#{i:03d} 鲜味坊" in arrived for i in range(100))  # no line lost
    assert sum(f"- #{i:03d}" in arrived for i in range(100)) == 100 - direct  # each waited line once


def test_dingtalk_bans_a_bot_pushed_past_its_limit_for_ten_minutes(sim, clock):
    bot, sender = config(sim, "dingtalk"), HttpChatSender(clock)
    for _ in range(20):
        sender.send(bot, BOTS["dingtalk"].secret_json, "标题", "正文")
    for wait in (0, 61, 500):
        clock.advance(wait)
        with pytest.raises(ChatUndelivered) as raised:
            sender.send(bot, BOTS["dingtalk"].secret_json, "标题", "正文")
        assert raised.value.reason == RATE_LIMITED and raised.value.retry_after == 600
    clock.advance(100)  # 661 s after the 21st
    sender.send(bot, BOTS["dingtalk"].secret_json, "标题", "正文")
    assert [r.code for r in sim.rejected] == [410100] * 3 and len(sim.accepted) == 21


@pytest.mark.parametrize("kind", KINDS)
def test_a_bot_that_says_slow_down_gets_the_line_held_not_a_retry(sim, clock, kind):
    others = HttpChatSender(clock)  # another sender the gate knows nothing of fills the bot's window
    while not sim.rejected:
        with contextlib.suppress(ChatUndelivered):
            others.send(config(sim, kind), BOTS[kind].secret_json, "别处", "正文")
    gate = MemoryChatGate()
    outcome = delivery(clock, gate).deliver(config(sim, kind), "标题", "正文", "the line", clock.now())
    assert outcome.status == "held" and outcome.retry_at > clock.now()
    assert len(sim.rejected) == 2  # one try, no retry
    assert gate.take_held(BOTS[kind].name) == ["the line"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_long_chinese_message_arrives_in_parts_within_the_limit(sim, clock, kind):
    text = "\n".join(f"第{i:03d}条：" + "鲜味坊外卖吃出虫子客服不回应" * 5 for i in range(140))  # ~10,000 字
    assert len(text) > 10_000
    outcome = delivery(clock).deliver(config(sim, kind), "【红色预警】鲜味坊", text, "line", NOW)
    assert outcome.status == "sent" and sim.rejected == []
    parts = sim.texts(BOTS[kind].name)
    assert len(parts) == len(outcome.message_ids) > 1
    assert all(len(part.encode()) <= BODY_LIMIT[kind] for part in parts)
    assert all(f"第{i:03d}条" in "".join(parts) for i in range(140))


@pytest.mark.parametrize(
    ("fault", "reason"),
    [("500", "unavailable: HTTP 500"), ("malformed", "malformed"), ("slow", "unreachable")],
)
def test_transport_failures_are_undelivered_with_a_reason(sim, clock, fault, reason):
    sim.inject(fault)
    with pytest.raises(ChatUndelivered) as raised:
        HttpChatSender(clock, timeout=0.1).send(
            config(sim, "wecom"), BOTS["wecom"].secret_json, "标题", "正文"
        )
    assert raised.value.reason.startswith(reason) and raised.value.retry_after is None


def test_a_missing_secret_fails_without_a_send(sim, clock):
    chat = ChatDelivery(MemoryChatGate(), HttpChatSender(clock), MemorySecrets())
    outcome = chat.deliver(config(sim, "wecom"), "标题", "正文", "line", NOW)
    assert (outcome.status, outcome.reason) == ("failed", "secret unavailable") and sim.accepted == []
