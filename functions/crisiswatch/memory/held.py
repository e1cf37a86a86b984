"""Alerts held back by quiet hours, in memory."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class MemoryHeldAlerts:
    def __init__(self) -> None:
        self._held: dict[tuple[str, datetime], dict[str, dict[str, Any]]] = {}

    def hold(self, watch_id: str, until: datetime, key: str, entry: dict[str, Any]) -> None:
        self._held.setdefault((watch_id, until), {}).setdefault(key, dict(entry))

    def take(self, watch_id: str, until: datetime) -> list[dict[str, Any]]:
        taken = self._held.pop((watch_id, until), {})
        return sorted(taken.values(), key=lambda entry: entry.get("at", ""))
