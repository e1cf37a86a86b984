"""ChatDelivery with a fake sender: what waits, what is put back, what fails."""

from __future__ import annotations

from datetime import timedelta

from crisiswatch.escalation.chat import RATE_LIMITED, ChatBotConfig
from crisiswatch.escalation.chat_delivery import ChatDelivery
from crisiswatch.memory.chat_gate import MemoryChatGate
from crisiswatch.memory.messaging import MemorySecrets
from crisiswatch.ports import ChatUndelivered
from tests.builders import NOW

BOT = ChatBotConfig(name="ops", kind="wecom")
SECRETS = MemorySecrets({BOT.secret: '{"key": "k"}'})


class Sender:
    def __init__(self, fail: ChatUndelivered | None = None):
        self.fail = fail
        self.sent: list[tuple[str, str]] = []

    def send(self, bot, secret, title, markdown):
        if self.fail:
            raise self.fail
        self.sent.append((title, markdown))
        return f"id-{len(self.sent)}"


def test_what_the_gate_refuses_waits_and_goes_out_as_one_digest():
    gate, sender = MemoryChatGate(), Sender()
    chat = ChatDelivery(gate, sender, SECRETS)
    outcomes = [chat.deliver(BOT, "t", f"alert {i}", f"line {i}", NOW) for i in range(23)]
    assert [o.status for o in outcomes] == ["sent"] * 20 + ["held"] * 3
    assert outcomes[-1].retry_at == NOW + timedelta(seconds=60) and outcomes[-1].held == 3
    assert "held until" in outcomes[-1].summary
    assert chat.flush(BOT, NOW + timedelta(seconds=30)).status == "held"  # too early: put back
    flushed = chat.flush(BOT, NOW + timedelta(seconds=60))
    assert flushed.status == "sent" and len(sender.sent) == 21
    assert [f"- line {i}" in sender.sent[-1][1] for i in (20, 21, 22)] == [True] * 3


def test_a_bot_that_says_slow_down_holds_the_line_and_a_failed_digest_is_put_back():
    gate = MemoryChatGate()
    chat = ChatDelivery(gate, Sender(ChatUndelivered("ops", RATE_LIMITED, 600)), SECRETS)
    outcome = chat.deliver(BOT, "t", "alert", "the line", NOW)
    assert (outcome.status, outcome.retry_at, outcome.held) == ("held", NOW + timedelta(seconds=600), 1)
    assert chat.flush(BOT, NOW + timedelta(seconds=600)).status == "held"
    assert gate.take_held("ops") == ["the line"]


def test_other_refusals_are_failures_and_nothing_is_held():
    gate = MemoryChatGate()
    chat = ChatDelivery(gate, Sender(ChatUndelivered("ops", "rejected: errcode 93000")), SECRETS)
    outcome = chat.deliver(BOT, "t", "alert", "the line", NOW)
    assert (outcome.status, outcome.reason) == ("failed", "rejected: errcode 93000")
    assert gate.take_held("ops") == []


def test_a_flush_of_nothing_is_empty():
    assert ChatDelivery(MemoryChatGate(), Sender(), SECRETS).flush(BOT, NOW).status == "empty"
