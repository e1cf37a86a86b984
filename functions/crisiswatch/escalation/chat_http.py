"""Sends one chat message over HTTPS (urllib, as crisiswatch.ingest.http) and reads the bot's answer.

The URL holds the webhook key or access token and the signature: it is never logged nor put into an
error. Logs name the bot only. Each platform answers HTTP 200 with an error code in the body:
0 is delivered; a rate-limit code becomes ChatUndelivered(RATE_LIMITED, retry_after) and is never
retried here (DingTalk bans a bot for ten minutes when it is pushed on); anything else, and HTTP
errors, timeouts and bodies that are not JSON, become ChatUndelivered with another reason.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import urllib.error
import urllib.request
from datetime import datetime

from aws_lambda_powertools import Logger

from crisiswatch.constants import SERVICE
from crisiswatch.escalation.chat import RATE_LIMITED, ChatBotConfig, build_request
from crisiswatch.ports import ChatUndelivered, Clock

logger = Logger(service=SERVICE, child=True)

# kind -> (the field with the error code, the rate-limit code and how long to wait, seconds)
THROTTLES: dict[str, tuple[str, int, float]] = {
    "wecom": ("errcode", 45009, 60.0),
    "dingtalk": ("errcode", 410100, 600.0),  # the bot stays throttled for 10 minutes
    "feishu": ("code", 11232, 60.0),
}
REJECTIONS: dict[int, str] = {
    93000: "invalid webhook url",
    300001: "token is not exist",
    310000: "sign not match",
    19021: "sign match fail or timestamp is not within one hour",
    40058: "content too long",
    460101: "message too long",
}
MAX_ANSWER_BYTES = 64 * 1024


class HttpChatSender:
    """crisiswatch.ports.ChatSender for WeCom, DingTalk and Feishu. `clock` dates the signatures."""

    def __init__(self, clock: Clock, timeout: float = 5.0) -> None:
        self._clock = clock
        self._timeout = timeout
        self._opener = urllib.request.build_opener()

    def send(self, bot: ChatBotConfig, secret: str, title: str, markdown: str) -> str:
        now = self._clock.now()
        try:
            url, body = build_request(bot, json.loads(secret), title, markdown, now)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ChatUndelivered(bot.name, "rejected: the secret is not the JSON this bot needs") from None
        answer = self._post(bot, url, body)
        field, throttled, wait = THROTTLES[bot.kind]
        code = answer.get(field, answer.get("StatusCode"))  # Feishu's older answers say StatusCode
        if code == 0:
            logger.info("chat sent", bot=bot.name, kind=bot.kind)
            data = answer.get("data")
            message_id = data.get("message_id") if isinstance(data, dict) else None
            return str(message_id or _make_id(bot, now, body))
        if code == throttled:
            raise _undelivered(bot, RATE_LIMITED, wait)
        label = REJECTIONS.get(code, "") if isinstance(code, int) else ""
        raise _undelivered(bot, f"rejected: {field} {code}" + (f" ({label})" if label else ""))

    def _post(self, bot: ChatBotConfig, url: str, body: bytes) -> dict:
        request = urllib.request.Request(
            url, data=body, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                raw = response.read(MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as e:
            e.close()
            if e.code == 429:
                raise _undelivered(bot, RATE_LIMITED, 60.0) from None
            raise _undelivered(
                bot, f"{'unavailable' if e.code >= 500 else 'rejected'}: HTTP {e.code}"
            ) from None
        except urllib.error.URLError as e:  # its text may hold the URL: only the kind of failure
            raise _undelivered(bot, f"unreachable: {type(e.reason).__name__}") from None
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            raise _undelivered(bot, f"unreachable: {type(e).__name__}") from None
        try:
            answer = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise _undelivered(bot, "malformed answer: not JSON") from None
        if not isinstance(answer, dict):
            raise _undelivered(bot, "malformed answer: not a JSON object")
        return answer


def _undelivered(bot: ChatBotConfig, reason: str, retry_after: float | None = None) -> ChatUndelivered:
    logger.warning("chat undelivered", bot=bot.name, kind=bot.kind, reason=reason)
    return ChatUndelivered(bot.name, reason, retry_after)


def _make_id(bot: ChatBotConfig, now: datetime, body: bytes) -> str:
    """WeCom and DingTalk answer no message id: one from the bot, the time and the body."""
    return f"{bot.name}:{now.strftime('%Y%m%dT%H%M%S.%fZ')}:{hashlib.sha256(body).hexdigest()[:12]}"
