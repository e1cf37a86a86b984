"""What the drivers share: how they print for a person, and the demo's subscribers."""

from __future__ import annotations

from typing import TextIO

SUBSCRIBERS = [
    {
        "name": "analysts",
        "protocol": "email",
        "endpoint": "analysts@example.com",
        "levels": ["blue", "yellow", "orange", "red"],
    },
    {
        "name": "pr-duty",
        "protocol": "email",
        "endpoint": "pr-duty@example.com",
        "levels": ["yellow", "orange", "red"],
    },
    {"name": "pr-duty-phone", "protocol": "sms", "endpoint": "+8613800000001", "levels": ["orange", "red"]},
    {"name": "management", "protocol": "sms", "endpoint": "+8613800000002", "levels": ["red"]},
]


class Printer:
    def __init__(self, out: TextIO):
        self.out = out

    def __call__(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def section(self, title: str) -> None:
        self(f"\n=== {title} " + "=" * max(0, 78 - len(title)))
