"""The chat gate (crisiswatch.ports.ChatGate) in memory: per bot, recent sends and a backlog."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from crisiswatch.escalation.chat import (
    BACKLOG_CAP,
    ChatLimits,
    dropped_line,
    merge_backlog,
    next_fit,
    recent,
)


@dataclass
class _Bot:
    sends: list[datetime] = field(default_factory=list)
    backlog: list[str] = field(default_factory=list)
    dropped: int = 0


class MemoryChatGate:
    """Thread-safe (one lock), so notifiers on threads share its limits as Lambdas share DynamoDB's."""

    def __init__(self, backlog_cap: int = BACKLOG_CAP) -> None:
        self._cap = backlog_cap
        self._bots: dict[str, _Bot] = {}
        self._lock = threading.Lock()

    def admit(self, bot: str, now: datetime, limits: ChatLimits, messages: int = 1) -> datetime | None:
        with self._lock:
            state = self._bots.setdefault(bot, _Bot())
            state.sends = recent(state.sends, now)
            if (at := next_fit(state.sends, now, limits, messages)) is not None:
                return at
            state.sends += [now] * messages
            return None

    def hold(self, bot: str, line: str, now: datetime) -> int:
        with self._lock:
            state = self._bots.setdefault(bot, _Bot())
            if len(state.backlog) < self._cap:
                state.backlog.append(line)
            else:
                state.dropped += 1
            return len(state.backlog) + state.dropped

    def take_held(self, bot: str) -> list[str]:
        with self._lock:
            state = self._bots.setdefault(bot, _Bot())
            lines = state.backlog + ([dropped_line(state.dropped)] if state.dropped else [])
            state.backlog, state.dropped = [], 0
            return lines

    def put_back(self, bot: str, lines: Sequence[str]) -> int:
        with self._lock:
            state = self._bots.setdefault(bot, _Bot())
            state.backlog, state.dropped = merge_backlog(lines, state.backlog, state.dropped, self._cap)
            return len(state.backlog) + state.dropped
