"""Delivery to chat bots within their limits: what does not fit now waits and goes out as a digest.

`deliver` splits a message to the bot's size limit and sends all its parts if the gate admits them
all; otherwise it holds the alert's one-line summary and answers when to `flush` (the caller sets a
timer for then). A bot that answers "rate limited" all the same (its own count differs from ours)
is treated the same way: the line is held, nothing is retried at once, so a bot is never banned.
`flush` sends the backlog as one digest message. Failures come back as an outcome, never raised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from crisiswatch.escalation.chat import (
    RATE_LIMITED,
    ChatBotConfig,
    digest_markdown,
    split_by_bytes,
    text_budget,
    windows,
)
from crisiswatch.ports import ChatGate, ChatSender, ChatUndelivered, SecretReader

ChatStatus = Literal["sent", "held", "failed", "empty"]


@dataclass(frozen=True)
class ChatOutcome:
    bot: str
    status: ChatStatus  # empty: a flush found nothing held
    message_ids: tuple[str, ...] = ()
    retry_at: datetime | None = None  # held: flush then
    held: int = 0  # lines waiting in the backlog
    reason: str = ""  # failed: why (never a secret)

    @property
    def summary(self) -> str:
        if self.status == "held":
            return f"held until {self.retry_at.isoformat() if self.retry_at else '?'} ({self.held} waiting)"
        if self.status == "failed":
            return f"failed: {self.reason}"
        return f"{self.status} ({len(self.message_ids)} messages)"


class ChatDelivery:
    def __init__(self, gate: ChatGate, sender: ChatSender, secrets: SecretReader) -> None:
        self._gate = gate
        self._sender = sender
        self._secrets = secrets

    def deliver(
        self, bot: ChatBotConfig, title: str, markdown: str, digest_line: str, now: datetime
    ) -> ChatOutcome:
        secret = self._secret(bot)
        if secret is None:
            return ChatOutcome(bot.name, "failed", reason="secret unavailable")
        parts = self._parts(bot, title, markdown)
        if (at := self._gate.admit(bot.name, now, bot.limits, len(parts))) is not None:
            return ChatOutcome(
                bot.name, "held", retry_at=at, held=self._gate.hold(bot.name, digest_line, now)
            )
        outcome = self._send(bot, secret, title, parts, now)
        if outcome.status == "held":  # the bot itself said to wait
            return ChatOutcome(
                bot.name,
                "held",
                outcome.message_ids,
                outcome.retry_at,
                self._gate.hold(bot.name, digest_line, now),
            )
        return outcome

    def flush(self, bot: ChatBotConfig, now: datetime) -> ChatOutcome:
        secret = self._secret(bot)
        if secret is None:
            return ChatOutcome(bot.name, "failed", reason="secret unavailable")
        lines = self._gate.take_held(bot.name)
        if not lines:
            return ChatOutcome(bot.name, "empty")
        title, markdown = digest_markdown(lines, now)
        parts = self._parts(bot, title, markdown)
        if (at := self._gate.admit(bot.name, now, bot.limits, len(parts))) is not None:
            return ChatOutcome(bot.name, "held", retry_at=at, held=self._gate.put_back(bot.name, lines))
        outcome = self._send(bot, secret, title, parts, now)
        if outcome.status == "sent":
            return outcome
        # Not all of it went out: every line waits again (a part sent twice beats a line lost).
        held = self._gate.put_back(bot.name, lines)
        return ChatOutcome(
            bot.name, outcome.status, outcome.message_ids, outcome.retry_at, held, outcome.reason
        )

    def _secret(self, bot: ChatBotConfig) -> str | None:
        try:
            value = self._secrets.get(bot.secret)
            json.loads(value)
            return value
        except Exception:  # noqa: BLE001 - whatever went wrong, its text may hold the secret
            return None

    def _parts(self, bot: ChatBotConfig, title: str, markdown: str) -> list[str]:
        most = min(n for _, n in windows(bot.limits))  # more could never be admitted together
        return split_by_bytes(
            markdown, text_budget(bot, title), json_escaped=bot.kind == "feishu", max_parts=most
        )

    def _send(
        self, bot: ChatBotConfig, secret: str, title: str, parts: list[str], now: datetime
    ) -> ChatOutcome:
        ids: list[str] = []
        for part in parts:
            try:
                ids.append(self._sender.send(bot, secret, title, part))
            except ChatUndelivered as e:
                if e.reason == RATE_LIMITED:
                    wait = timedelta(seconds=e.retry_after or 60)
                    return ChatOutcome(bot.name, "held", tuple(ids), retry_at=now + wait)
                return ChatOutcome(bot.name, "failed", tuple(ids), reason=e.reason)
        return ChatOutcome(bot.name, "sent", tuple(ids))
