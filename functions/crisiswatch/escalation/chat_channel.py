"""The notifier's view of the chat bots: deliver an alert to a bot by name, flush its backlog.

`BotChannel` puts the deployment's bots (context `chatBots`) behind ChatDelivery and sets the timer
that flushes a bot's backlog as one digest at the moment the bot can take it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from crisiswatch.escalation.chat import ChatBotConfig
from crisiswatch.escalation.chat_delivery import ChatDelivery, ChatOutcome
from crisiswatch.escalation.messages import Alert
from crisiswatch.ports import Timers


class ChatFailed(Exception):
    """A chat bot refused or could not be reached (the reason never holds the bot's secret)."""


@dataclass(frozen=True)
class ChatResult:
    message_id: str = ""
    held_until: datetime | None = None  # the bot's limit was reached: the line waits for a digest
    error: str = ""


class ChatChannel(Protocol):
    def deliver(self, bot: str, alert: Alert, line: str, now: datetime) -> ChatResult: ...

    def flush(self, bot: str, now: datetime) -> str: ...


@dataclass(frozen=True)
class BotChannel:
    """The deployment's chat bots behind ChatDelivery: what a bot's limits hold back is flushed
    as one digest by a timer at the moment the bot can take it."""

    delivery: ChatDelivery
    bots: Mapping[str, ChatBotConfig]
    timers: Timers

    def deliver(self, bot: str, alert: Alert, line: str, now: datetime) -> ChatResult:
        config = self.bots.get(bot)
        if config is None:
            return ChatResult(error=f"no chat bot {bot!r} in this deployment (context chatBots)")
        title, _, _ = alert.email.partition("\n")
        outcome = self.delivery.deliver(config, title, alert.email, line, now)
        return self._result(bot, outcome)

    def flush(self, bot: str, now: datetime) -> str:
        config = self.bots.get(bot)
        if config is None:
            return f"no chat bot {bot!r}"
        outcome = self.delivery.flush(config, now)
        result = self._result(bot, outcome)
        if result.error:
            raise ChatFailed(result.error)  # the timer is retried
        return outcome.summary

    def _result(self, bot: str, outcome: ChatOutcome) -> ChatResult:
        if outcome.status == "held" and outcome.retry_at is not None:
            self.timers.set(f"chat/{bot}/flush", outcome.retry_at, {"kind": "chat_flush", "bot": bot})
            return ChatResult(held_until=outcome.retry_at)
        if outcome.status == "failed":
            return ChatResult(error=outcome.reason)
        return ChatResult(message_id=",".join(outcome.message_ids))
