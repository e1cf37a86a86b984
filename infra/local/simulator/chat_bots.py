"""A local stand-in for the chat bots' webhooks: WeCom group robots, DingTalk and Feishu custom bots.

    bots = [SimBot("ops", "wecom", token="k-1"), SimBot("pr", "dingtalk", token="t-1", secret="SEC1")]
    with ChatBotSimulator(bots, clock=clock.now) as sim:   # 127.0.0.1, ephemeral port
        ChatBotConfig(name="ops", kind="wecom", base_url=sim.base_url)   # and bots[0].secret_json
        ...
        sim.accepted, sim.rejected                            # what arrived, what was refused

Routes, answers and limits are the platforms' own (HTTP 200, the error in the body):

- WeCom ``POST /cgi-bin/webhook/send?key=K``: unknown key 93000; content over 4096 bytes 40058;
  over 20 messages in 60 s 45009.
- DingTalk ``POST /robot/send?access_token=T&timestamp=MS&sign=S``: unknown token 300001; a bad
  signature, or a timestamp more than an hour off, 310000; text over 20,000 bytes 460101; the 21st
  message in 60 s gets 410100 and so does everything for the next 10 minutes.
- Feishu ``POST /open-apis/bot/v2/hook/T``: unknown token 19001; bad signature or timestamp 19021;
  body over 20 KB 9499; over 5 messages in 1 s or 100 in 60 s 11232.

The signatures are checked here from their definitions, not with crisiswatch's functions. Windows
are "the last w seconds", counting accepted messages. ``clock`` (returns an aware datetime) is the
platforms' time, so a test can jump past DingTalk's ban. Faults (``inject``): ``500``,
``malformed`` (a body that is not JSON), ``slow`` (answers after ``slow_seconds``).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from infra.local.simulator.local_server import LocalServer

CHAT_FAULTS = ("500", "malformed", "slow")
HOUR = timedelta(hours=1)
BAN = timedelta(minutes=10)
MAX_REQUEST_BYTES = 1024 * 1024


@dataclass(frozen=True)
class SimBot:
    name: str
    kind: str  # wecom, dingtalk or feishu
    token: str  # WeCom's webhook key, DingTalk's access token, Feishu's hook token
    secret: str = ""  # the signing secret (DingTalk, Feishu)

    @property
    def secret_json(self) -> str:
        """The bot's secret as crisiswatch stores it in Secrets Manager."""
        if self.kind == "wecom":
            return json.dumps({"key": self.token})
        if self.kind == "dingtalk":
            return json.dumps({"access_token": self.token, "secret": self.secret})
        return json.dumps({"token": self.token, "secret": self.secret})


@dataclass(frozen=True)
class Accepted:
    bot: str
    at: datetime
    title: str  # "" for WeCom, which has none
    text: str


@dataclass(frozen=True)
class Rejected:
    bot: str  # "?" when the key or token matched no bot
    at: datetime
    code: int
    message: str


@dataclass
class _State:
    sent: list[datetime] = field(default_factory=list)
    banned_until: datetime | None = None


class _Refusal(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class ChatBotSimulator(LocalServer):
    """The three webhooks on 127.0.0.1 for these bots. Thread-safe; one lock orders the requests."""

    def __init__(
        self,
        bots: Sequence[SimBot],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        host: str = "127.0.0.1",
        port: int = 0,
        slow_seconds: float = 1.0,
    ) -> None:
        self.bots = {(bot.kind, bot.token): bot for bot in bots}
        self.clock = clock
        self.host = host
        self.port = port
        self.slow_seconds = slow_seconds
        self.accepted: list[Accepted] = []
        self.rejected: list[Rejected] = []
        self._states: dict[str, _State] = {}
        self._faults: list[str] = []
        self._lock = threading.Lock()

    # -- lifecycle (LocalServer: start, stop, base_url) -----------------------------------------
    thread_name = "chat-bot-simulator"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    # -- inspection and faults ------------------------------------------------------------------
    def texts(self, bot: str) -> list[str]:
        return [message.text for message in self.accepted if message.bot == bot]

    def inject(self, fault: str, times: int = 1) -> None:
        if fault not in CHAT_FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {CHAT_FAULTS}")
        with self._lock:
            self._faults += [fault] * times

    def reset(self) -> None:
        with self._lock:
            self.accepted.clear()
            self.rejected.clear()
            self._states.clear()
            self._faults.clear()

    # -- the platforms ----------------------------------------------------------------------------
    def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        """(HTTP status, body) for one POST."""
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault == "slow":
            threading.Event().wait(self.slow_seconds)
        elif fault == "500":
            return 500, b"<html><body>502 Bad Gateway</body></html>"
        elif fault == "malformed":
            return 200, b"<html>upstream error"
        parts = urlsplit(path)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        route = {
            "/cgi-bin/webhook/send": ("wecom", self._wecom),
            "/robot/send": ("dingtalk", self._dingtalk),
        }.get(parts.path)
        if route is None and parts.path.startswith("/open-apis/bot/v2/hook/"):
            route = ("feishu", self._feishu)
        if route is None:
            return 404, b'{"error": "not found"}'
        kind, serve = route
        with self._lock:
            now = self.clock()
            try:
                answer = serve(parts.path, query, body, now)
            except _Refusal as refusal:
                answer = _refuse(kind, refusal)
                bot = self._bot_of(kind, parts.path, query)
                self.rejected.append(Rejected(bot.name if bot else "?", now, refusal.code, refusal.message))
        return 200, json.dumps(answer, ensure_ascii=False).encode()

    def _bot_of(self, kind: str, path: str, query: dict[str, str]) -> SimBot | None:
        token = {"wecom": query.get("key"), "dingtalk": query.get("access_token")}.get(kind)
        if kind == "feishu":
            token = path.rsplit("/", 1)[-1]
        return self.bots.get((kind, token or ""))

    def _wecom(self, path: str, query: dict[str, str], body: bytes, now: datetime) -> dict[str, Any]:
        bot = self._bot_of("wecom", path, query)
        if bot is None:
            raise _Refusal(93000, "invalid webhook url")
        message = _parse(body, 40008)
        if message.get("msgtype") != "markdown":
            raise _Refusal(40008, "invalid message type")
        content = str(message.get("markdown", {}).get("content", ""))
        if len(content.encode()) > 4096:
            raise _Refusal(40058, "markdown.content exceed max length 4096")
        self._within(bot, now, [(timedelta(seconds=60), 20)], 45009, "api freq out of limit")
        self._accept(bot, now, "", content)
        return {"errcode": 0, "errmsg": "ok"}

    def _dingtalk(self, path: str, query: dict[str, str], body: bytes, now: datetime) -> dict[str, Any]:
        bot = self._bot_of("dingtalk", path, query)
        if bot is None:
            raise _Refusal(300001, "token is not exist")
        state = self._states.setdefault(bot.name, _State())
        if state.banned_until is not None and now < state.banned_until:
            raise _Refusal(410100, "send too fast, exceed 20 times per minute")
        timestamp = query.get("timestamp", "")
        expected = base64.b64encode(
            hmac.new(bot.secret.encode(), f"{timestamp}\n{bot.secret}".encode(), hashlib.sha256).digest()
        ).decode()
        if not _recent(timestamp, now, 1000) or not hmac.compare_digest(query.get("sign", ""), expected):
            raise _Refusal(310000, "sign not match")
        message = _parse(body, 40035)
        markdown = message.get("markdown", {})
        if message.get("msgtype") != "markdown" or not markdown.get("title"):
            raise _Refusal(40035, "缺少参数 markdown")
        if len(str(markdown.get("text", "")).encode()) > 20000:
            raise _Refusal(460101, "message too long")
        if len([t for t in state.sent if t > now - timedelta(seconds=60)]) >= 20:
            state.banned_until = now + BAN
            raise _Refusal(410100, "send too fast, exceed 20 times per minute")
        self._accept(bot, now, str(markdown["title"]), str(markdown.get("text", "")))
        return {"errcode": 0, "errmsg": "ok"}

    def _feishu(self, path: str, query: dict[str, str], body: bytes, now: datetime) -> dict[str, Any]:
        bot = self._bot_of("feishu", path, query)
        if bot is None:
            raise _Refusal(19001, "param invalid: incoming webhook access token invalid")
        if len(body) > 20 * 1024:
            raise _Refusal(9499, "request body too large")
        message = _parse(body, 9499)
        timestamp = str(message.get("timestamp", ""))
        key = f"{timestamp}\n{bot.secret}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        if not _recent(timestamp, now, 1) or not hmac.compare_digest(str(message.get("sign", "")), expected):
            raise _Refusal(19021, "sign match fail or timestamp is not within one hour from current time")
        try:
            card = message["card"]
            title = card["header"]["title"]["content"]
            text = next(e["text"]["content"] for e in card["elements"] if e["text"]["tag"] == "lark_md")
        except (KeyError, TypeError, StopIteration):
            raise _Refusal(9499, "Bad Request") from None
        if message.get("msg_type") != "interactive":
            raise _Refusal(9499, "Bad Request")
        windows = [(timedelta(seconds=1), 5), (timedelta(seconds=60), 100)]
        self._within(bot, now, windows, 11232, "frequency limited")
        self._accept(bot, now, str(title), str(text))
        return {"code": 0, "msg": "success", "data": {"message_id": f"om_{len(self.accepted):08d}"}}

    def _within(self, bot: SimBot, now: datetime, windows: list[tuple[timedelta, int]], code: int, why: str):
        sent = self._states.setdefault(bot.name, _State()).sent
        if any(len([t for t in sent if t > now - width]) >= most for width, most in windows):
            raise _Refusal(code, why)

    def _accept(self, bot: SimBot, now: datetime, title: str, text: str) -> None:
        state = self._states.setdefault(bot.name, _State())
        state.sent = [t for t in state.sent if t > now - timedelta(seconds=60)] + [now]
        self.accepted.append(Accepted(bot.name, now, title, text))


def _parse(body: bytes, code: int) -> dict[str, Any]:
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise _Refusal(code, "invalid json") from None
    if not isinstance(message, dict):
        raise _Refusal(code, "invalid json")
    return message


def _recent(timestamp: str, now: datetime, per_second: int) -> bool:
    """The timestamp (in 1/per_second seconds) is within an hour of now."""
    try:
        moment = datetime.fromtimestamp(int(timestamp) / per_second, UTC)
    except (ValueError, OverflowError, OSError):
        return False
    return abs(moment - now) <= HOUR


def _refuse(kind: str, refusal: _Refusal) -> dict[str, Any]:
    if kind == "feishu":
        return {"code": refusal.code, "msg": refusal.message, "data": {}}
    return {"errcode": refusal.code, "errmsg": refusal.message}


class _Handler(BaseHTTPRequestHandler):
    sim: ChatBotSimulator
    server_version = "ChatBotSimulator/1.0"

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        length = min(int(self.headers.get("Content-Length") or 0), MAX_REQUEST_BYTES)
        status, raw = self.sim.handle(self.path, self.rfile.read(length))
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # a client that gave up
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
        pass
