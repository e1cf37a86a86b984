"""Chat bots where Chinese teams work: WeCom group robots, DingTalk and Feishu custom bots.

Configuration (context `chatBots`, one entry per bot) and each bot's documented limits. The secret
(webhook key or access token, signing secret) lives in Secrets Manager under `secret_name`, as JSON,
and is never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import Literal
from urllib.parse import quote, quote_plus

from pydantic import BaseModel, ConfigDict, Field

from crisiswatch.vocabulary import sendable_text

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


RATE_LIMITED = "rate limited"  # the ChatUndelivered reason of a bot that says to slow down


# -- signatures ------------------------------------------------------------------------------------


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's `sign` query parameter, already URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's `sign` body field: the key is the timestamp and secret, the message is empty."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# -- splitting by bytes ----------------------------------------------------------------------------

TRUNCATED = "\n…（内容过长，已截断）"


def part_marker(number: int, total: int) -> str:
    return f"({number}/{total})\n"


def json_cost(char: str) -> int:
    """Bytes of one character inside a JSON string (json.dumps with ensure_ascii=False)."""
    return len(json.dumps(char, ensure_ascii=False).encode()) - 2


def utf8_cost(char: str) -> int:
    return len(char.encode())


def split_by_bytes(
    text: str, max_bytes: int, *, json_escaped: bool = False, max_parts: int | None = None
) -> list[str]:
    """`text` in parts of at most `max_bytes` (UTF-8; measured inside a JSON string when
    `json_escaped`), each part marked "(i/n)\\n" when there is more than one. Cuts after a line
    where it can, else between characters. Beyond `max_parts` parts, the last one ends in TRUNCATED."""
    text = sendable_text(text)  # a lone surrogate has no UTF-8 bytes: the whole message would fail
    cost = json_cost if json_escaped else utf8_cost
    if sum(map(cost, text)) <= max_bytes:
        return [text]
    digits = 1
    while True:
        budget = max_bytes - sum(map(cost, part_marker(10**digits - 1, 10**digits - 1)))
        # 6: the most one character can cost; the truncation mark needs room only when it may be used
        if budget < (sum(map(cost, TRUNCATED)) if max_parts is not None else 0) + 6:
            raise ValueError(f"max_bytes {max_bytes} leaves no room for a part")
        chunks = _chunks(text, budget, cost)
        if max_parts is not None and len(chunks) > max_parts:
            chunks = chunks[:max_parts]
            chunks[-1] = _cut_to(chunks[-1], budget - sum(map(cost, TRUNCATED)), cost) + TRUNCATED
        if len(str(len(chunks))) <= digits:
            return [part_marker(i, len(chunks)) + chunk for i, chunk in enumerate(chunks, 1)]
        digits += 1


def _chunks(text: str, budget: int, cost: Callable[[str], int]) -> list[str]:
    chunks: list[str] = []
    current, size = "", 0
    for line in text.splitlines(keepends=True):
        line_size = sum(map(cost, line))
        if size + line_size <= budget:
            current, size = current + line, size + line_size
            continue
        if current:
            chunks.append(current)
            current, size = "", 0
        while line_size > budget:  # a line longer than a part: cut it between characters
            head = _cut_to(line, budget, cost)
            chunks.append(head)
            line = line[len(head) :]
            line_size = sum(map(cost, line))
        current, size = line, line_size
    if current:
        chunks.append(current)
    return chunks


def _cut_to(text: str, budget: int, cost: Callable[[str], int]) -> str:
    """The longest prefix of `text` within `budget`."""
    size = 0
    for i, char in enumerate(text):
        size += cost(char)
        if size > budget:
            return text[:i]
    return text


# -- requests --------------------------------------------------------------------------------------

FEISHU_BODY_MARGIN = 512  # bytes kept free of the 20 KB body for the envelope's own variations


def with_heading(title: str, markdown: str) -> str:
    """WeCom and DingTalk show only the text: the title goes in as its first line."""
    return f"### {title}\n{markdown}" if title else markdown


def text_budget(bot: ChatBotConfig, title: str) -> int:
    """Bytes a part's markdown may take, so the whole message stays within the bot's limit."""
    limit = bot.limits.max_bytes
    if bot.kind == "feishu":  # the limit is on the whole body, with the text JSON-escaped
        envelope = _feishu_body(title, "", "1700000000", "x" * 44)
        return limit - len(envelope) - FEISHU_BODY_MARGIN
    return limit - len(with_heading(title, "").encode())


def build_request(
    bot: ChatBotConfig, secret_json: Mapping[str, str], title: str, markdown: str, now: datetime
) -> tuple[str, bytes]:
    """The URL (with its key or token and signature: never log it) and JSON body of one message."""
    if bot.kind == "wecom":
        url = f"{bot.url}/cgi-bin/webhook/send?key={quote(secret_json['key'], safe='')}"
        return url, _json({"msgtype": "markdown", "markdown": {"content": with_heading(title, markdown)}})
    if bot.kind == "dingtalk":
        timestamp = int(now.timestamp() * 1000)
        url = (
            f"{bot.url}/robot/send?access_token={quote(secret_json['access_token'], safe='')}"
            f"&timestamp={timestamp}&sign={dingtalk_sign(secret_json['secret'], timestamp)}"
        )
        body = {"msgtype": "markdown", "markdown": {"title": title, "text": with_heading(title, markdown)}}
        return url, _json(body)
    timestamp = int(now.timestamp())
    url = f"{bot.url}/open-apis/bot/v2/hook/{quote(secret_json['token'], safe='')}"
    return url, _feishu_body(title, markdown, str(timestamp), feishu_sign(secret_json["secret"], timestamp))


def _feishu_body(title: str, markdown: str, timestamp: str, sign: str) -> bytes:
    card = {
        "config": {"wide_screen_mode": True},
        "header": {"template": "red", "title": {"tag": "plain_text", "content": title}},
        "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": markdown}}],
    }
    return _json({"timestamp": timestamp, "sign": sign, "msg_type": "interactive", "card": card})


def _json(body: dict) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# -- the gate's windows and the backlog's digest ---------------------------------------------------

WINDOW = timedelta(seconds=60)  # the longest window: older sends are forgotten
BACKLOG_CAP = 200  # lines held per bot; beyond it only a count is kept
DROPPED = "…及另外 {} 条"
_DROPPED = re.compile(r"^…及另外 (\d+) 条$")
CHINA_TZ = timezone(timedelta(hours=8))


def windows(limits: ChatLimits) -> list[tuple[timedelta, int]]:
    pairs = [(WINDOW, limits.per_minute)]
    if limits.per_second is not None:
        pairs.append((timedelta(seconds=1), limits.per_second))
    return pairs


def next_fit(sends: Sequence[datetime], now: datetime, limits: ChatLimits, messages: int) -> datetime | None:
    """None when `messages` more sends at `now` keep every window (w, n) within n sends in any span
    of length w (half-open: a send exactly w ago no longer counts); else the earliest moment they
    would. Sends later than `now` (another notifier's clock) always count."""
    if any(messages > n for _, n in windows(limits)):
        raise ValueError(f"{messages} messages can never fit the limits {limits}")

    def fits(at: datetime) -> bool:
        return all(sum(1 for s in sends if s > at - w) + messages <= n for w, n in windows(limits))

    if fits(now):
        return None
    candidates = sorted({s + w for s in sends for w, _ in windows(limits) if s + w > now})
    return next(at for at in candidates if fits(at))


def recent(sends: Sequence[datetime], now: datetime) -> list[datetime]:
    """The sends any window still needs, oldest first."""
    return sorted(s for s in sends if s > now - WINDOW)


def dropped_line(count: int) -> str:
    return DROPPED.format(count)


def dropped_count(line: str) -> int | None:
    """The count of a `dropped_line`, None for any other line."""
    match = _DROPPED.match(line)
    return int(match.group(1)) if match else None


def merge_backlog(taken: Sequence[str], held: Sequence[str], dropped: int, cap: int) -> tuple[list[str], int]:
    """Lines taken back (a flush that was not sent) in front of those held since, within `cap`;
    beyond it only counted, and a dropped line's count is added to the count, not kept as a line."""
    lines: list[str] = []
    for line in [*taken, *held]:
        if (count := dropped_count(line)) is not None:
            dropped += count
        elif len(lines) < cap:
            lines.append(line)
        else:
            dropped += 1
    return lines, dropped


def digest_markdown(lines: Sequence[str], now: datetime) -> tuple[str, str]:
    """One message for a backlog: a title with the number of alerts, one list item per line."""
    total = sum(dropped_count(line) or 1 for line in lines)
    title = f"告警汇总：{total} 条因发送频率限制暂缓"
    stamp = now.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")
    body = [f"截至 {stamp}（北京时间）暂缓发送的告警：", *(f"- {line}" for line in lines)]
    return title, "\n".join(body)
