"""Bilibili web search, video results newest first: the request we send and how we read the answer.

Request::

    GET {base_url}/x/web-interface/search/type?search_type=video&keyword={keyword}&page={n}&order=pubdate

Pages count from 1 (20 videos a page on the real site). Answer (only the fields we read)::

    {"code": 0, "message": "0",
     "data": {"page": 1, "numPages": 3,
              "result": [{"bvid": "BV1xx411c7mD", "aid": 170001, "title": "<em class=\\"keyword\\">鲜味坊</em>探店",
                          "description": "...", "author": "...", "mid": 12345,
                          "play": 1024, "like": 88, "review": 12, "favorites": 5,
                          "pubdate": 1763654400, "arcurl": "http://www.bilibili.com/video/av170001"}]}}

``code`` 0 is success; anything else is a refusal (-412 request blocked by the anti-crawler, -799
requests too frequent, -400 bad request) and raises ``FetchError``: the job fails and the queue
tries again later. The real API wants a ``buvid3`` cookie from a visit to the home page; pass it
with ``BilibiliAdapter(headers={"Cookie": ...})``. See docs/ingest.md for the field-by-field reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from pydantic import BeforeValidator, Field, ValidationError

from crisiswatch.ingest.bounds import first_items
from crisiswatch.ingest.errors import FetchError, MalformedResponse, excerpt
from crisiswatch.ingest.fields import (
    IdString,
    Lenient,
    describe,
    from_epoch,
    html_to_text,
    join_text,
    json_excerpt,
    parse_count,
)
from crisiswatch.ingest.platform import SearchPage
from crisiswatch.vocabulary import Author, Engagement, Post, Watch

PLATFORM = "bilibili"
SEARCH_PATH = "/x/web-interface/search/type"
VIDEO_URL = "https://www.bilibili.com/video/{bvid}"
# Codes the search answers with instead of results (the HTTP status is 200 for all of them).
REFUSALS = {-412: "request blocked", -799: "requests too frequent", -509: "requests too frequent"}


def _video_count(value: Any) -> int:
    # A count the site does not show is "--".
    return 0 if value == "--" else parse_count(value)


VideoCount = Annotated[int, BeforeValidator(_video_count)]


class Video(Lenient):
    bvid: IdString
    title: str = ""
    description: str = ""
    author: str = ""
    mid: IdString
    play: VideoCount = 0
    like: VideoCount = 0
    review: VideoCount = 0  # comments (``video_review`` is the danmaku count)
    favorites: VideoCount = 0
    pubdate: Any = None
    arcurl: str = ""


class SearchData(Lenient):
    page: int = 1
    numPages: int = 0  # noqa: N815 - Bilibili's name
    result: list[Any] | None = Field(default=None)


class SearchResponse(Lenient):
    code: int
    message: str = ""
    data: SearchData | None = None


def to_post(video: Video, watch: Watch, fetched_at: datetime, now: datetime) -> Post:
    """One video as a Post. Raises ValueError when it cannot be."""
    description = html_to_text(video.description)
    if description == "-":  # what the site shows for "no description"
        description = ""
    return Post(
        platform=PLATFORM,
        post_id=video.bvid,
        url=video.arcurl.strip() or VIDEO_URL.format(bvid=video.bvid),
        author=Author(id=video.mid, name=video.author),
        text=join_text(html_to_text(video.title), description),
        created_at=min(from_epoch(video.pubdate), now),
        engagement=Engagement(views=video.play, likes=video.like, comments=video.review),
        fetched_at=fetched_at,
        watch_id=watch.id,
    )


def parse_search_page(payload: Any, watch: Watch, fetched_at: datetime, now: datetime) -> SearchPage:
    """One page of the video search as posts of ``watch``, in page order (newest first).

    Raises ``MalformedResponse`` when the payload is not of the search shape, ``FetchError`` when
    Bilibili refused the request (``code`` not 0). A video that cannot be read is skipped with a reason.
    """
    try:
        response = SearchResponse.model_validate(payload)
    except ValidationError as e:
        raise MalformedResponse(
            f"bilibili search: unexpected shape ({describe(e, 'payload')}); "
            f"payload starts with {json_excerpt(payload)!r}"
        ) from None
    if response.code != 0:
        meaning = REFUSALS.get(response.code, "refused")
        raise FetchError(
            f"bilibili search {meaning}: code={response.code} message={excerpt(response.message, 60)!r}"
        )
    if response.data is None:
        raise MalformedResponse(
            f"bilibili search: code=0 without data; payload starts with {json_excerpt(payload)!r}"
        )
    posts: list[Post] = []
    skipped: list[str] = []
    results, over = first_items(response.data.result or [])
    for i, raw in enumerate(results):
        ident = raw.get("bvid") if isinstance(raw, dict) else None
        label = f"result {i}" + (f" ({ident})" if ident else "")
        if not isinstance(raw, dict):
            skipped.append(f"{label}: not an object")
            continue
        if raw.get("type", "video") != "video":
            continue  # a bangumi/ad card mixed into the results: not a post
        try:
            posts.append(to_post(Video.model_validate(raw), watch, fetched_at, now))
        except (ValidationError, ValueError) as e:
            skipped.append(f"{label}: {describe(e, 'video')}")
    has_more = bool(results) and response.data.page < response.data.numPages
    return SearchPage(posts=posts, has_more=has_more, skipped=skipped, items_over_limit=over)


class BilibiliAdapter:
    platform = PLATFORM
    first_page = 1

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        # Extra headers for every request, e.g. the buvid3 cookie the real site wants.
        self.extra_headers = dict(headers or {})

    def search_url(self, base_url: str, keyword: str, page: int) -> str:
        query = urlencode(
            {"search_type": "video", "keyword": keyword, "page": page, "order": "pubdate"}, quote_via=quote
        )
        return f"{base_url.rstrip('/')}{SEARCH_PATH}?{query}"

    def headers(self, base_url: str, keyword: str) -> dict[str, str]:
        # What search.bilibili.com sends with its XHRs.
        return {
            "Referer": f"https://search.bilibili.com/all?keyword={quote(keyword, safe='')}",
            "Origin": "https://search.bilibili.com",
            **self.extra_headers,
        }

    def parse_search_page(
        self, payload: Any, watch: Watch, fetched_at: datetime, now: datetime
    ) -> SearchPage:
        return parse_search_page(payload, watch, fetched_at, now)
