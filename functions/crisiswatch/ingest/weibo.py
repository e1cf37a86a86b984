"""Weibo mobile search (m.weibo.cn, real-time ordering): the request we send and how we read the answer.

Request::

    GET {base_url}/api/container/getIndex?containerid=100103type%3D61%26q%3D{keyword}%26t%3D
        &page_type=searchall&page={n}

``containerid`` is ``100103type=61&q=<keyword>&t=`` url-encoded as one value; ``type=61`` is the
real-time ("实时") tab, newest first. Pages count from 1.

Answer (only the fields we read; everything else is ignored)::

    {"ok": 1, "data": {"cardlistInfo": {"page": 2, "total": 120},
                       "cards": [{"card_type": 9, "mblog": {...}},
                                 {"card_type": 11, "card_group": [{"card_type": 9, "mblog": {...}}]}]}}

and at the end of the results ``{"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}``.
``cardlistInfo.page`` is the *next* page number; null (or absent ``ok: 1``) means this was the last.
Cards of other types (notices, hot-search boxes, user cards) are not posts and are passed over.

The JSON is validated with pydantic models at this edge. A payload of the wrong shape raises
``MalformedResponse``; one card that cannot be read is skipped with a reason and the page is kept.
See docs/ingest.md for the field-by-field reading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

from pydantic import Field, ValidationError

from crisiswatch.ingest.bounds import first_items
from crisiswatch.ingest.errors import FetchError, MalformedResponse, excerpt
from crisiswatch.ingest.fields import (
    CHINA_TZ,
    Count,
    IdString,
    Lenient,
    describe,
    html_to_text,
    id_string,
    json_excerpt,
    parse_count,
)
from crisiswatch.ingest.platform import SearchPage
from crisiswatch.limits import PLATFORM_ITEMS_PER_PAGE_MAX
from crisiswatch.vocabulary import Author, Engagement, Post, Watch

PLATFORM = "weibo"
POST_URL = "https://m.weibo.cn/detail/{id}"
PAGE_SIZE = 10  # what the mobile search returns per page

# Re-exported: they lived here before the other adapters needed them too.
__all__ = ["CHINA_TZ", "WeiboAdapter", "html_to_text", "parse_count", "parse_created_at", "parse_search_page"]


# --------------------------------------------------------------------------------------------------
# created_at
# --------------------------------------------------------------------------------------------------

_MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, start=1)}
_RE_SECONDS = re.compile(r"(\d{1,9})\s*秒前")
_RE_MINUTES = re.compile(r"(\d{1,9})\s*分钟前")
_RE_HOURS = re.compile(r"(\d{1,9})\s*小时前")
_RE_DAY_WORD = re.compile(r"(今天|昨天|前天)\s*(\d{1,2}):(\d{2})")
_RE_MONTH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2}))?")
_RE_FULL_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
# "Sat Nov 21 10:00:00 +0800 2026"; parsed by hand so the process locale cannot matter.
_RE_CTIME = re.compile(
    r"[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+([+-])(\d{2}):?(\d{2})\s+(\d{4})"
)
_DAYS_BACK = {"今天": 0, "昨天": 1, "前天": 2}


def parse_created_at(value: str, now: datetime) -> datetime:
    """Weibo's ``created_at`` as an aware UTC datetime, reading relative forms against ``now``.

    Accepted: "刚刚", "N秒前", "N分钟前", "N小时前", "今天 HH:MM", "昨天 HH:MM", "前天 HH:MM",
    "MM-DD" (this year, or last year if that would be in the future), "MM-DD HH:MM",
    "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]" and "Sat Nov 21 10:00:00 +0800 2026". Calendar words and
    dates without a zone are China time (UTC+8), whatever ``now``'s zone. A result later than
    ``now`` (clock skew) is clamped to ``now``. Anything else raises ``ValueError``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValueError(f"created_at is empty or not a string: {value!r}")
    try:
        result = _parse_created_at(text, now)
    except OverflowError:
        raise ValueError(f"created_at out of range: {text!r}") from None
    return min(result, now).astimezone(UTC)


def _parse_created_at(text: str, now: datetime) -> datetime:
    local_now = now.astimezone(CHINA_TZ)
    if text == "刚刚":
        return now
    for pattern, unit in ((_RE_SECONDS, "seconds"), (_RE_MINUTES, "minutes"), (_RE_HOURS, "hours")):
        if m := pattern.fullmatch(text):
            return now - timedelta(**{unit: int(m.group(1))})
    if m := _RE_DAY_WORD.fullmatch(text):
        day = local_now.date() - timedelta(days=_DAYS_BACK[m.group(1)])
        return _china(day.year, day.month, day.day, int(m.group(2)), int(m.group(3)))
    if m := _RE_MONTH_DAY.fullmatch(text):
        month, day = int(m.group(1)), int(m.group(2))
        hour, minute = int(m.group(3) or 0), int(m.group(4) or 0)
        # The most recent year in which that date exists and is not in the future (Feb 29 included).
        for year in range(local_now.year, local_now.year - 9, -1):
            try:
                candidate = _china(year, month, day, hour, minute)
            except ValueError:
                if _valid_in_leap_year(month, day, hour, minute):
                    continue
                raise
            if candidate <= now:
                return candidate
        raise ValueError(f"created_at has no recent matching date: {text!r}")
    if m := _RE_FULL_DATE.fullmatch(text):
        y, mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
        return _china(y, mo, d, h, mi, s)
    if m := _RE_CTIME.fullmatch(text):
        month = _MONTHS.get(m.group(1).title())
        if month is None:
            raise ValueError(f"created_at has an unknown month: {text!r}")
        offset = timedelta(hours=int(m.group(7)), minutes=int(m.group(8)))
        zone = timezone(offset if m.group(6) == "+" else -offset)
        return datetime(
            int(m.group(9)),
            month,
            int(m.group(2)),
            int(m.group(3)),
            int(m.group(4)),
            int(m.group(5)),
            tzinfo=zone,
        )
    raise ValueError(f"unrecognised created_at: {excerpt(text, 40)!r}")


def _china(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CHINA_TZ)


def _valid_in_leap_year(month: int, day: int, hour: int, minute: int) -> bool:
    try:
        _china(2024, month, day, hour, minute)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------------------------------
# The JSON, validated at the edge
# --------------------------------------------------------------------------------------------------


class WeiboUser(Lenient):
    id: IdString
    screen_name: str = ""
    followers_count: Count = 0
    verified: bool = False
    verified_type: int = -1


class Mblog(Lenient):
    id: IdString | None = None
    mid: IdString | None = None
    text: str = ""
    created_at: str
    reposts_count: Count = 0
    comments_count: Count = 0
    attitudes_count: Count = 0
    isLongText: bool = False
    user: WeiboUser | None = None
    # Kept raw: a deleted original ("抱歉，此微博已被作者删除") has no user, and must not break the repost.
    retweeted_status: dict[str, Any] | None = None

    @property
    def post_id(self) -> str:
        post_id = self.id or self.mid
        if not post_id:
            raise ValueError("mblog has neither id nor mid")
        return post_id


class CardlistInfo(Lenient):
    page: int | None = None
    total: int | None = None


class SearchData(Lenient):
    cardlistInfo: CardlistInfo | None = None
    cards: list[Any] = Field(default_factory=list)


class SearchResponse(Lenient):
    ok: int
    msg: str = ""
    data: SearchData | None = None


# --------------------------------------------------------------------------------------------------
# Payload -> posts
# --------------------------------------------------------------------------------------------------


def post_key(post_id: str) -> str:
    return f"{PLATFORM}#{post_id}"


def to_post(mblog: Mblog, watch: Watch, fetched_at: datetime, now: datetime) -> Post:
    """One mblog as a Post. Raises ValueError (or pydantic's ValidationError) when it cannot be."""
    if mblog.user is None:
        raise ValueError("mblog has no user (deleted or hidden)")
    post_id = mblog.post_id
    repost_of = None
    if mblog.retweeted_status is not None:
        original_id = id_string(mblog.retweeted_status.get("id") or mblog.retweeted_status.get("mid"))
        if not isinstance(original_id, str) or not original_id:
            raise ValueError("retweeted_status has no id")
        repost_of = post_key(original_id)
    user = mblog.user
    return Post(
        platform=PLATFORM,
        post_id=post_id,
        url=POST_URL.format(id=post_id),
        author=Author(
            id=user.id,
            name=user.screen_name,
            followers=user.followers_count,
            verified_type=user.verified_type,
        ),
        text=html_to_text(mblog.text),
        created_at=parse_created_at(mblog.created_at, now),
        engagement=Engagement(
            reposts=mblog.reposts_count, comments=mblog.comments_count, likes=mblog.attitudes_count
        ),
        repost_of=repost_of,
        fetched_at=fetched_at,
        watch_id=watch.id,
    )


@dataclass
class _PageBuilder:
    watch: Watch
    fetched_at: datetime
    now: datetime

    def __post_init__(self) -> None:
        self.posts: list[Post] = []
        self.skipped: list[str] = []
        self.mblogs_seen = 0
        self._originals: dict[str, Post | None] = {}  # key -> the original, read once per page
        self.room = PLATFORM_ITEMS_PER_PAGE_MAX  # cards still read on this page, those in groups included
        self.items_over_limit = 0

    def cards(self, cards: list[Any], prefix: str = "") -> None:
        """A page's cards, or a group's: at most `room` in all, the rest counted as over the limit."""
        kept, over = first_items(cards, self.room)
        self.room -= len(kept)
        self.items_over_limit += over
        for i, card in enumerate(kept):
            self.card(card, f"{prefix}{i}")

    def card(self, card: Any, where: str) -> None:
        if not isinstance(card, dict):
            self.skipped.append(f"card {where}: not an object")
            return
        card_type = card.get("card_type")
        if card_type == 11 or "card_group" in card:
            group = card.get("card_group")
            if not isinstance(group, list):
                self.skipped.append(f"card {where}: card_group is not a list")
                return
            self.cards(group, f"{where}.")
        elif "mblog" in card:
            self.mblog(card["mblog"], where)
        # any other card type (notices, hot-search boxes, user cards) is not a post

    def mblog(self, raw: Any, where: str) -> None:
        self.mblogs_seen += 1
        ident = raw.get("id") or raw.get("mid") if isinstance(raw, dict) else None
        label = f"card {where}" + (f" (mblog {ident})" if ident else "")
        try:
            mblog = Mblog.model_validate(raw)
            post = to_post(mblog, self.watch, self.fetched_at, self.now)
        except (ValidationError, ValueError) as e:
            self.skipped.append(f"{label}: {describe(e, 'mblog')}")
            return
        if mblog.retweeted_status is not None:
            # The original travels inside the repost: keep it too when it is readable (a deleted
            # original is not, and that is no reason to lose the repost).
            original = self._original(post.repost_of, mblog.retweeted_status)
            if original is not None:
                self.posts.append(original)
        self.posts.append(post)

    def _original(self, key: str | None, raw: dict) -> Post | None:
        """The embedded original; the same one in several reposts of a page is read once."""
        if key in self._originals:
            return self._originals[key]
        try:
            original = to_post(Mblog.model_validate(raw), self.watch, self.fetched_at, self.now)
        except (ValidationError, ValueError):
            original = None
        if key is not None:
            self._originals[key] = original
        return original


def parse_search_page(payload: Any, watch: Watch, fetched_at: datetime, now: datetime) -> SearchPage:
    """One page of the mobile real-time search as posts of ``watch``.

    Posts come in page order (newest first); a repost's original, when it is embedded and readable,
    comes just before the repost. Raises ``MalformedResponse`` when the payload is not of the
    search shape, ``FetchError`` when Weibo refused the request (``ok`` not 0 or 1).
    """
    try:
        response = SearchResponse.model_validate(payload)
    except ValidationError as e:
        raise MalformedResponse(
            f"weibo search: unexpected shape ({describe(e, 'payload')}); "
            f"payload starts with {json_excerpt(payload)!r}"
        ) from None
    if response.ok == 0:
        # "这里还没有内容": past the last page (or nothing found at all).
        return SearchPage(posts=[], has_more=False)
    if response.ok != 1:
        raise FetchError(f"weibo search refused: ok={response.ok} msg={excerpt(response.msg, 60)!r}")
    if response.data is None:
        raise MalformedResponse(
            f"weibo search: ok=1 without data; payload starts with {json_excerpt(payload)!r}"
        )
    builder = _PageBuilder(watch, fetched_at, now)
    builder.cards(response.data.cards)
    info = response.data.cardlistInfo
    next_page_known = info is not None and "page" in info.model_fields_set
    has_more = builder.mblogs_seen > 0 and (info.page is not None if next_page_known and info else True)
    return SearchPage(
        posts=builder.posts,
        has_more=has_more,
        skipped=builder.skipped,
        items_over_limit=builder.items_over_limit,
    )


# --------------------------------------------------------------------------------------------------
# The adapter
# --------------------------------------------------------------------------------------------------


def container_id(keyword: str) -> str:
    """The real-time search container: ``100103type=61&q=<keyword>&t=``."""
    return f"100103type=61&q={keyword}&t="


class WeiboAdapter:
    platform = PLATFORM
    first_page = 1

    def search_url(self, base_url: str, keyword: str, page: int) -> str:
        cid = quote(container_id(keyword), safe="")
        return (
            f"{base_url.rstrip('/')}/api/container/getIndex?containerid={cid}&page_type=searchall&page={page}"
        )

    def headers(self, base_url: str, keyword: str) -> dict[str, str]:
        # What the m.weibo.cn web app sends with its XHRs.
        cid = quote(container_id(keyword), safe="")
        return {
            "Referer": f"{base_url.rstrip('/')}/search?containerid={cid}",
            "X-Requested-With": "XMLHttpRequest",
            "MWeibo-Pwa": "1",
        }

    def parse_search_page(
        self, payload: Any, watch: Watch, fetched_at: datetime, now: datetime
    ) -> SearchPage:
        return parse_search_page(payload, watch, fetched_at, now)
