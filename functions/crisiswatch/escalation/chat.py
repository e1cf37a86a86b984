"""Chat bots where Chinese teams work: WeCom group robots, DingTalk and Feishu custom bots.

Configuration (context `chatBots`, one entry per bot) and each bot's documented limits. The secret
(webhook key or access token, signing secret) lives in Secrets Manager under `secret_name`, as JSON,
and is never logged.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ChatKind = Literal["wecom", "dingtalk", "feishu"]


class ChatLimits(BaseModel):
    model_config = ConfigDict(frozen=True)
    per_minute: int
    per_second: int | None = None
    max_bytes: int  # of one message's text, UTF-8


# What each platform documents (docs/response.md cites them); we stay a little under each.
LIMITS: dict[str, ChatLimits] = {
    "wecom": ChatLimits(per_minute=20, max_bytes=4096),
    "dingtalk": ChatLimits(per_minute=20, max_bytes=20000),
    "feishu": ChatLimits(per_minute=100, per_second=5, max_bytes=20 * 1024),
}

DEFAULT_BASE_URLS: dict[str, str] = {
    "wecom": "https://qyapi.weixin.qq.com",
    "dingtalk": "https://oapi.dingtalk.com",
    "feishu": "https://open.feishu.cn",
}


class ChatBotConfig(BaseModel):
    """One bot, as named in a watch's on-call policy (`OnCall.tiers[...].chat`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")
    kind: ChatKind
    base_url: str = ""  # "" -> DEFAULT_BASE_URLS[kind]; the demo points it at the local simulator
    secret_name: str = ""  # "" -> crisiswatch/chat/<name>

    @property
    def url(self) -> str:
        return (self.base_url or DEFAULT_BASE_URLS[self.kind]).rstrip("/")

    @property
    def secret(self) -> str:
        return self.secret_name or f"crisiswatch/chat/{self.name}"

    @property
    def limits(self) -> ChatLimits:
        return LIMITS[self.kind]
