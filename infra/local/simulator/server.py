"""A local stand-in for the platforms' search APIs, serving a ``Scenario`` tick by tick, with faults.

    with PlatformSimulator(Scenario.generate()) as sim:   # listens on 127.0.0.1, ephemeral port
        sim.advance()                                      # tick 0 becomes visible
        fetch_posts(job, sim.base_url, client, now)
        sim.inject("429", times=2)                         # the next two requests get 429

Search (``GET /api/container/getIndex?containerid=100103type%3D61%26q%3D<kw>%26t%3D&page=<n>``)
returns the visible posts whose text (or reposted original's text) contains the keyword, newest
first, ``page_size`` per page, in the real response shape. Like the real search it is fuzzier than
a substring match: a keyword of three or more characters also hits posts that contain its first two
characters, which is how unrelated posts reach the fetcher and must be dropped there.

The other formats, routed by path, serve the same scenario (``channels.generate_items``; bodies in
``formats``):

- Bilibili ``GET /x/web-interface/search/type?search_type=video&keyword=<kw>&page=<n>&order=pubdate``
- news ``GET /rss/search?q=<kw>`` (RSS 2.0) and ``GET /atom/search?q=<kw>`` (Atom)
- Douyin via a data provider ``GET /douyin/v1/search/video?keyword=<kw>&cursor=<offset>&count=<n>``
- Xiaohongshu via a data provider ``GET /xiaohongshu/v1/search/notes?keyword=<kw>&page=<n>&page_size=<n>``

Faults (``inject(fault, times)``, applied to the next ``times`` requests, in order, whatever the
format): ``429`` (with ``Retry-After``), ``500``, ``503``, ``malformed`` (the real body cut in half),
``wrong_shape`` (``{"ok":1,"data":"oops"}``), ``slow`` (answers after ``slow_seconds``, longer than
a client's timeout), ``disconnect`` (closes the connection without answering), ``refused`` (the
platform's own refusal: Weibo ``ok: -100``, Bilibili ``code: -412``, provider error codes),
``duplicates`` (the page also repeats the last ``page_size // 2`` items of the previous page, as when
new items arrive between two page requests). ``late_posts=True`` makes some items of the non-Weibo
formats appear two ticks after their created time.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import re
import threading
import time
import unicodedata
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any, NamedTuple
from urllib.parse import parse_qs, quote, urlsplit

from . import formats
from .cascades import ReplayScenario
from .channels import PLATFORMS, SimItem, generate_items
from .local_server import LocalServer
from .scenario import Scenario, SimPost, SimUser

FAULTS = ("429", "500", "503", "malformed", "wrong_shape", "slow", "disconnect", "refused", "duplicates")
SEARCH_PATH = "/api/container/getIndex"
BILIBILI_PATH = "/x/web-interface/search/type"
RSS_PATH = "/rss/search"
ATOM_PATH = "/atom/search"
DOUYIN_PATH = "/douyin/v1/search/video"
XIAOHONGSHU_PATH = "/xiaohongshu/v1/search/notes"
JSON_TYPE = "application/json; charset=utf-8"
# What each platform answers when it refuses a request (HTTP 200, an error in the body).
REFUSALS: dict[str, dict[str, Any]] = {
    "weibo": {"ok": -100, "msg": "请先登录", "data": {"login_url": "/login"}},
    "bilibili": {"code": -412, "message": "请求被拦截", "ttl": 1},
    "douyin": {"code": 10004, "message": "quota exceeded", "data": None},
    "xiaohongshu": {"success": False, "code": 300013, "msg": "访问频次异常", "data": {}},
}
END_OF_RESULTS = {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}
_CONTAINER = re.compile(r"100103type=(\d+)&q=(.*)&t=(\d*)", re.DOTALL)
CHINA_TZ = timezone(timedelta(hours=8))
_WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


class RequestRecord(NamedTuple):
    path: str  # path and query, as received
    status: int  # 0: connection closed without an answer


class _Fault(NamedTuple):
    kind: str
    retry_after: str
    seconds: float


class _Answer(NamedTuple):
    status: int
    raw: bytes | None  # the body, or None for a JSON `payload` not yet encoded
    content_type: str = JSON_TYPE
    headers: dict[str, str] | None = None
    payload: Any = None

    @property
    def body(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.payload, ensure_ascii=False).encode()


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> _Answer:
    return _Answer(status, None, JSON_TYPE, headers, payload=body)


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def display_count(n: int) -> int | str:
    """How Weibo shows a big counter: 10000+ becomes "1万+" (a lower bound)."""
    return f"{n // 10_000}万+" if n >= 10_000 else n


def display_followers(n: int) -> int | str:
    """How Weibo shows a big follower count: "8.6万", "123万", "1.2亿"."""
    for unit, size in (("亿", 100_000_000), ("万", 10_000)):
        if n >= size:
            return f"{n / size:.1f}".removesuffix(".0") + unit
    return n


class PlatformSimulator(LocalServer):
    """The platforms' search APIs on 127.0.0.1, for tests and the local demo. Thread-safe.

    ``late_posts``: some non-Weibo items become visible two ticks after their created time.
    ``api_key``: the data-provider routes (Douyin, Xiaohongshu) answer 401 without this
    ``X-Api-Key``. ``feed_size``: entries per news feed (newest first).
    """

    def __init__(
        self,
        scenario: Scenario | ReplayScenario | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        page_size: int = 10,
        slow_seconds: float = 2.0,
        retry_after: str = "1",
        created_at_style: str = "relative",
        clock: Any = time.time,
        late_posts: bool = False,
        api_key: str | None = None,
        feed_size: int = 50,
    ) -> None:
        if created_at_style not in ("relative", "mixed"):
            raise ValueError("created_at_style is 'relative' or 'mixed'")
        self.scenario = scenario or Scenario.generate()
        self.host = host
        self.port = port
        self.page_size = page_size
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.created_at_style = created_at_style
        self.clock = clock
        self.api_key = api_key
        self.feed_size = feed_size
        # A replay (recorded Weibo cascades) has nothing on the other platforms.
        self.items: dict[str, tuple[tuple[SimItem, ...], ...]] = {
            platform: ()
            if isinstance(self.scenario, ReplayScenario)
            else generate_items(self.scenario, platform, late=late_posts)
            for platform in PLATFORMS
        }
        self.requests: list[RequestRecord] = []
        self._haystacks: dict[str, str] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._current_tick = -1

    # -- lifecycle (LocalServer: start, stop, base_url) -----------------------------------------
    thread_name = "platform-simulator"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def _before_start(self) -> None:
        self._stopping.clear()

    def _before_stop(self) -> None:
        self._stopping.set()

    # -- the scenario's clock -------------------------------------------------------------------
    @property
    def current_tick(self) -> int:
        """The last visible tick (-1: nothing visible yet)."""
        return self._current_tick

    def advance(self, ticks: int = 1) -> int:
        """Make the next ``ticks`` ticks visible; returns the current tick. Past the scenario's
        last tick time still passes (posts age) but nothing new appears."""
        if ticks < 0:
            raise ValueError("ticks must not be negative")
        with self._lock:
            self._current_tick += ticks
            return self._current_tick

    def visible_posts(self) -> list[SimPost]:
        current = self._current_tick
        if isinstance(self.scenario, ReplayScenario):  # newest first, by simulated time
            return list(self.scenario.visible_posts(current))
        posts = [p for i, tick in enumerate(self.scenario.ticks) if i <= current for p in tick]
        return sorted(posts, key=lambda p: (p.age_seconds(current), -int(p.id)))

    def visible_items(self, platform: str) -> list[SimItem]:
        """The items of a non-Weibo platform that are visible now, newest (created) first."""
        current = self._current_tick
        items = [item for i, tick in enumerate(self.items[platform]) if i <= current for item in tick]
        return sorted(items, key=lambda item: (item.age_seconds(current), item.id))

    def all_items(self, platform: str) -> list[SimItem]:
        """Every item of the scenario on ``platform``, visible or not."""
        return [item for tick in self.items[platform] for item in tick]

    def search_items(self, platform: str, keyword: str) -> list[SimItem]:
        """The visible items the platform's search returns for ``keyword``, newest first; as fuzzy
        as the Weibo search (a keyword of three or more characters also hits its first two)."""
        term = fold(keyword).strip()
        fuzzy = term[:2] if len(term) >= 3 else None
        return [
            item
            for item in self.visible_items(platform)
            if term and (term in fold(item.text) or (fuzzy and fuzzy in fold(item.text)))
        ]

    # -- faults and the request log -------------------------------------------------------------
    def inject(
        self, fault: str, times: int = 1, *, retry_after: str | None = None, seconds: float | None = None
    ) -> None:
        """Apply ``fault`` to the next ``times`` requests (after faults injected earlier).

        ``retry_after`` overrides the 429's Retry-After header value; ``seconds`` the slow delay.
        """
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        entry = _Fault(
            fault, retry_after or self.retry_after, self.slow_seconds if seconds is None else seconds
        )
        with self._lock:
            self._faults.extend([entry] * times)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def reset_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def _record(self, path: str, status: int) -> None:
        with self._lock:
            self.requests.append(RequestRecord(path, status))

    # -- search ---------------------------------------------------------------------------------
    def search(self, keyword: str, page: int, *, repeat: int = 0) -> dict[str, Any]:
        """The response body for one Weibo search page (also usable without HTTP). ``repeat``: the
        page starts with the last ``repeat`` results of the previous page too."""
        term = fold(keyword).strip()
        fuzzy = term[:2] if len(term) >= 3 else None
        current = self._current_tick

        def matches(post: SimPost) -> bool:
            haystack = self._haystack(post)
            return bool(term) and (term in haystack or bool(fuzzy and fuzzy in haystack))

        if isinstance(self.scenario, ReplayScenario):  # thousands of posts: an index per term
            hits = self.scenario.visible_matching(term, matches, current)
        else:
            hits = [post for post in self.visible_posts() if matches(post)]
        start = (page - 1) * self.page_size
        chunk = hits[max(0, start - repeat) : start + self.page_size] if page >= 1 else []
        if not chunk:
            return END_OF_RESULTS
        more = start + self.page_size < len(hits)
        cards: list[dict[str, Any]] = []
        if page == 1:
            cards.append({"card_type": 58, "show_type": 1, "desc": "以下为实时微博"})  # not a post
        for post in chunk:
            card = {"card_type": 9, "itemid": f"seqid:{post.id}", "mblog": self._mblog(post, current)}
            # Some results come wrapped in a card group, as on the real site.
            cards.append({"card_type": 11, "card_group": [card]} if int(post.id) % 3 == 0 else card)
        cid = f"100103type=61&q={keyword}&t="
        return {
            "ok": 1,
            "data": {
                "cardlistInfo": {
                    "containerid": cid,
                    "v_p": 42,
                    "show_style": 1,
                    "total": len(hits),
                    "page": page + 1 if more else None,
                    "starttime": int(self.clock()),
                },
                "cards": cards,
                "scheme": f"sinaweibo://cardlist?containerid={quote(cid, safe='')}",
            },
        }

    def _haystack(self, post: SimPost) -> str:
        """What the search looks in: the post's text and the original it reposts, folded once."""
        haystack = self._haystacks.get(post.id)
        if haystack is None:
            haystack = fold(post.text)
            if post.repost_of:
                haystack += "\n" + fold(self.scenario.by_id[post.repost_of].text)
            self._haystacks[post.id] = haystack
        return haystack

    def _mblog(self, post: SimPost, current: int, *, embedded: bool = False) -> dict[str, Any]:
        reposts, comments, likes = post.counts_at(current)
        mblog: dict[str, Any] = {
            "id": post.id,
            "mid": post.id,
            "created_at": self._created_at(post, current),
            "text": post.html,
            "textLength": len(post.text.encode("gbk", errors="replace")),
            "source": "iPhone客户端" if int(post.id) % 2 else "Android",
            "isLongText": post.long_text,
            "reposts_count": display_count(reposts),
            "comments_count": display_count(comments),
            "attitudes_count": display_count(likes),
            "pic_num": 0,
            "user": _user(post.user),
        }
        if post.repost_of and not embedded:
            mblog["retweeted_status"] = self._mblog(
                self.scenario.by_id[post.repost_of], current, embedded=True
            )
        return mblog

    def _created_at(self, post: SimPost, current: int) -> str:
        age = post.age_seconds(current)
        if self.created_at_style == "mixed" and age >= 600:
            moment = datetime.fromtimestamp(self.clock() - age, CHINA_TZ)
            if int(post.id) % 4 == 0:
                return (
                    f"{_WEEKDAYS[moment.weekday()]} {_MONTHS[moment.month - 1]} {moment.day:02d} "
                    f"{moment:%H:%M:%S} +0800 {moment.year}"
                )
            today = datetime.fromtimestamp(self.clock(), CHINA_TZ).date()
            word = "今天" if moment.date() == today else "昨天"
            return f"{word} {moment:%H:%M}"
        if age < 60:
            return "刚刚"
        if age < 3600:
            return f"{age // 60}分钟前"
        return f"{age // 3600}小时前"

    # -- HTTP -----------------------------------------------------------------------------------
    def _handle(self, handler: _Handler) -> None:
        fault = self._next_fault()
        path = handler.path
        if fault is not None:
            if fault.kind == "disconnect":
                self._record(path, 0)
                handler.close_connection = True
                return
            if fault.kind == "slow":
                self._stopping.wait(fault.seconds)
            elif fault.kind == "429":
                self._record(path, 429)
                handler.reply(429, {"ok": 0, "msg": "请求过于频繁"}, {"Retry-After": fault.retry_after})
                return
            elif fault.kind in ("500", "503"):
                self._record(path, int(fault.kind))
                handler.reply_raw(
                    int(fault.kind), b"<html><body>Service Unavailable</body></html>", "text/html"
                )
                return
            elif fault.kind == "wrong_shape":
                self._record(path, 200)
                handler.reply(200, {"ok": 1, "data": "oops"})
                return
        kind = fault.kind if fault is not None else None
        answer = self._route(path, dict(handler.headers), kind)
        if kind == "malformed":
            self._record(path, 200)
            handler.reply_raw(200, answer.body[: max(1, len(answer.body) // 2)], answer.content_type)
            return
        self._record(path, answer.status)
        handler.reply_raw(answer.status, answer.body, answer.content_type, answer.headers)

    def answer(self, path: str, headers: dict[str, str]) -> tuple[int, bytes | None, Any]:
        """What a GET of `path` (with its query) would answer, without HTTP and without faults:
        (status, body, payload). A JSON answer comes as its `payload`, not encoded (body None):
        the in-process client of the memory runtime (`InProcessClient`) needs no round trip."""
        answer = self._route(path, headers)
        self._record(path, answer.status)
        return answer.status, answer.raw, answer.payload

    def _route(self, path: str, headers: dict[str, str], fault: str | None = None) -> _Answer:
        parts = urlsplit(path)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        repeat = self.page_size // 2 if fault == "duplicates" else 0
        route = {
            SEARCH_PATH: ("weibo", self._weibo),
            BILIBILI_PATH: ("bilibili", self._bilibili),
            RSS_PATH: ("news", self._news),
            ATOM_PATH: ("news", self._news),
            DOUYIN_PATH: ("douyin", self._douyin),
            XIAOHONGSHU_PATH: ("xiaohongshu", self._xiaohongshu),
        }.get(parts.path)
        if route is None:
            return _json(404, {"ok": 0, "msg": "not found"})
        platform, serve = route
        if platform in ("douyin", "xiaohongshu") and self.api_key is not None:
            given = {k.lower(): v for k, v in headers.items()}.get("x-api-key")
            if given != self.api_key:
                return _json(401, {"code": 401, "message": "invalid api key"})
        if fault == "refused" and platform in REFUSALS:
            return _json(200, REFUSALS[platform])
        return serve(parts.path, query, repeat)

    @staticmethod
    def _int(query: dict[str, str], name: str, default: int) -> int | None:
        try:
            return int(query.get(name, default))
        except ValueError:
            return None

    def _weibo(self, path: str, query: dict[str, str], repeat: int) -> _Answer:
        m = _CONTAINER.fullmatch(query.get("containerid", ""))
        page = self._int(query, "page", 1)
        if not m or page is None or page < 1:
            return _json(400, {"ok": 0, "msg": "参数错误"})
        return _json(200, self.search(m.group(2), page, repeat=repeat))

    def _bilibili(self, path: str, query: dict[str, str], repeat: int) -> _Answer:
        keyword = query.get("keyword", "")
        page = self._int(query, "page", 1)
        if query.get("search_type") != "video" or not keyword.strip() or page is None or page < 1:
            return _json(200, {"code": -400, "message": "请求错误", "ttl": 1})
        hits = self.search_items("bilibili", keyword)
        body = formats.bilibili_page(
            hits, keyword, page, self.page_size, self._current_tick, self.clock(), repeat
        )
        return _json(200, body)

    def _news(self, path: str, query: dict[str, str], repeat: int) -> _Answer:
        keyword = query.get("q", "")
        hits = self.search_items("news", keyword)[: self.feed_size] if keyword.strip() else []
        render = formats.atom if path == ATOM_PATH else formats.rss
        kind = "application/atom+xml" if path == ATOM_PATH else "application/rss+xml"
        body = render(hits, keyword, self._current_tick, self.clock(), self.base_url)
        return _Answer(200, body, f"{kind}; charset=utf-8")

    def _douyin(self, path: str, query: dict[str, str], repeat: int) -> _Answer:
        keyword = query.get("keyword", "")
        cursor = self._int(query, "cursor", 0)
        count = self._int(query, "count", self.page_size)
        if not keyword.strip() or cursor is None or cursor < 0 or not count or count < 1:
            return _json(200, {"code": 10001, "message": "invalid parameters", "data": None})
        size = min(count, self.page_size)  # providers cap the page size
        hits = self.search_items("douyin", keyword)
        return _json(200, formats.douyin_page(hits, cursor, size, self._current_tick, self.clock(), repeat))

    def _xiaohongshu(self, path: str, query: dict[str, str], repeat: int) -> _Answer:
        keyword = query.get("keyword", "")
        page = self._int(query, "page", 1)
        size = self._int(query, "page_size", self.page_size)
        if not keyword.strip() or page is None or page < 1 or not size or size < 1:
            return _json(200, {"success": False, "code": -1, "msg": "参数错误", "data": {}})
        hits = self.search_items("xiaohongshu", keyword)
        body = formats.xiaohongshu_page(
            hits, keyword, page, min(size, self.page_size), self._current_tick, self.clock(), repeat
        )
        return _json(200, body)


def _user(user: SimUser) -> dict[str, Any]:
    return {
        "id": user.id,
        "screen_name": user.screen_name,
        "profile_image_url": f"/static/avatar/{user.id}.jpg",
        "followers_count": display_followers(user.followers),
        "verified": user.verified,
        "verified_type": user.verified_type,
        "gender": "f" if user.id % 2 else "m",
    }


class _Handler(BaseHTTPRequestHandler):
    sim: PlatformSimulator
    server_version = "PlatformSimulator/1.0"

    def do_GET(self) -> None:  # noqa: N802 - the http.server naming
        # The client may have given up (e.g. its timeout fired during a "slow" fault).
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.sim._handle(self)

    def reply(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self.reply_raw(
            status, json.dumps(body, ensure_ascii=False).encode(), "application/json; charset=utf-8", headers
        )

    def reply_raw(
        self, status: int, raw: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        gzipped = "gzip" in (self.headers.get("Accept-Encoding") or "")
        if gzipped:
            raw = gzip.compress(raw)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet in tests
        pass
