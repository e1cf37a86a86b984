"""Queues, the alerts topic and secrets, in memory."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crisiswatch.escalation.messages import Alert
from crisiswatch.ports import message_sizes
from crisiswatch.vocabulary import Level


@dataclass
class Message:
    body: str
    receives: int = 0  # how often it was handed to a consumer (SQS's ApproximateReceiveCount)


class MemoryQueue:
    """First in, first out. A consumer takes messages with `receive` and hands back those it
    failed with `retry` (visible again at once); the runtime moves a message that failed too often
    to a dead-letter list, as SQS's redrive policy does. It refuses what SQS refuses: a body over
    SQS_MESSAGE_MAX_BYTES, before any of the call is queued (ports.message_sizes)."""

    def __init__(self, name: str = "queue") -> None:
        self.name = name
        self._messages: deque[Message] = deque()
        self.sent = 0

    def send_all(self, bodies: Sequence[str]) -> int:
        message_sizes(bodies)
        self._messages.extend(Message(body) for body in bodies)
        self.sent += len(bodies)
        return len(bodies)

    def receive(self, max_messages: int) -> list[Message]:
        batch = []
        while self._messages and len(batch) < max_messages:
            message = self._messages.popleft()
            message.receives += 1
            batch.append(message)
        return batch

    def retry(self, message: Message) -> None:
        self._messages.append(message)

    def __len__(self) -> int:
        return len(self._messages)


@dataclass(frozen=True)
class Published:
    message_id: str
    tier: Level
    alert: Alert
    recipients: tuple[str, ...] = ()
    watch_id: str = ""


class MemoryAlertPublisher:
    def __init__(self) -> None:
        self.published: list[Published] = []
        self._ids = itertools.count(1)

    def publish(self, alert: Alert, tier: Level, recipients: Sequence[str], watch_id: str) -> str:
        if not recipients:
            raise ValueError("a publish must name at least one recipient")
        message_id = f"memory-{next(self._ids):06d}"
        self.published.append(Published(message_id, tier, alert, tuple(sorted(recipients)), watch_id))
        return message_id


class MemorySecrets:
    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        self._values = dict(values or {})

    def get(self, name: str) -> str:
        try:
            return self._values[name]
        except KeyError:
            raise KeyError(f"no secret {name!r}") from None
