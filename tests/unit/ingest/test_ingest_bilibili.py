"""Reading Bilibili's video search JSON: text, counts, paging, broken items, refusals, wrong shapes."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from crisiswatch.ingest.bilibili import BilibiliAdapter, parse_search_page
from crisiswatch.ingest.errors import FetchError, MalformedResponse
from crisiswatch.ingest.fetching import fetch_posts
from crisiswatch.vocabulary import FetchJob, Watch
from tests.unit.ingest.conftest import NOW

Builder = Callable[..., dict[str, Any]]


@pytest.fixture
def make_video(now: datetime) -> Builder:
    numbers = itertools.count(170_001)

    def make(title: str = '<em class="keyword">鲜味坊</em>探店', **fields: Any) -> dict[str, Any]:
        aid = next(numbers)
        return {
            "type": "video",
            "id": aid,
            "aid": aid,
            "bvid": f"BV1xx411c{aid}",
            "title": title,
            "description": "招牌红烧肉 &amp; 鲜虾馄饨",
            "author": "吃货小王",
            "mid": 123456,
            "play": 1024,
            "like": 88,
            "review": 12,
            "video_review": 40,
            "favorites": 5,
            "pubdate": int((now - timedelta(minutes=5)).timestamp()),
            "arcurl": f"http://www.bilibili.com/video/av{aid}",
            **fields,
        }

    return make


def page(*videos: dict[str, Any], number: int = 1, pages: int = 3) -> dict[str, Any]:
    return {
        "code": 0,
        "message": "0",
        "ttl": 1,
        "data": {"page": number, "numPages": pages, "pagesize": 20, "result": list(videos)},
    }


def test_a_video_becomes_a_post(make_video: Builder, watch: Watch, now: datetime) -> None:
    video = make_video(title='【避雷】<em class="keyword">鲜味坊</em>吃出虫子 &amp; 拉肚子')
    result = parse_search_page(page(video), watch, now, now)
    (post,) = result.posts
    assert post.key == f"bilibili#{video['bvid']}"
    assert post.text == "【避雷】鲜味坊吃出虫子 & 拉肚子\n招牌红烧肉 & 鲜虾馄饨"
    assert post.url == video["arcurl"]
    assert (post.author.id, post.author.name, post.author.followers) == ("123456", "吃货小王", 0)
    assert (post.engagement.views, post.engagement.likes, post.engagement.comments) == (1024, 88, 12)
    assert post.created_at == now - timedelta(minutes=5)
    assert result.has_more and result.skipped == []


@pytest.mark.parametrize(
    ("fields", "check"),
    [
        ({"description": "-"}, lambda p: p.text == "鲜味坊探店"),  # "no description"
        ({"description": ""}, lambda p: p.text == "鲜味坊探店"),
        ({"arcurl": ""}, lambda p: p.url.startswith("https://www.bilibili.com/video/BV")),
        ({"play": "--", "like": "1.2万"}, lambda p: (p.engagement.views, p.engagement.likes) == (0, 12000)),
        ({"pubdate": 4_000_000_000}, lambda p: p.created_at == NOW),  # future: clamped to now
        ({"mid": "987"}, lambda p: p.author.id == "987"),
    ],
)
def test_field_variants(make_video: Builder, watch: Watch, now: datetime, fields: dict, check: Any) -> None:
    (post,) = parse_search_page(page(make_video(**fields)), watch, now, now).posts
    assert check(post)


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"bvid": None}, "bvid"),
        ({"bvid": ""}, "bvid"),
        ({"mid": None}, "mid"),
        ({"pubdate": None}, "epoch time is missing"),
        ({"pubdate": 1_763_654_400_000}, "out of range"),  # milliseconds where seconds belong
        ({"play": -1}, "play"),
        ({"like": "很多"}, "like"),
    ],
)
def test_a_broken_video_is_skipped_with_a_reason(
    make_video: Builder, watch: Watch, now: datetime, broken: dict, reason: str
) -> None:
    good = make_video()
    result = parse_search_page(page(good, make_video(**broken), good | {"bvid": "BV2"}), watch, now, now)
    assert [p.post_id for p in result.posts] == [good["bvid"], "BV2"]
    (why,) = result.skipped
    assert why.startswith("result 1") and reason in why


def test_non_video_results_and_non_objects(make_video: Builder, watch: Watch, now: datetime) -> None:
    result = parse_search_page(
        page({"type": "ketang", "title": "课程"}, "oops", make_video()), watch, now, now
    )
    assert len(result.posts) == 1
    assert result.skipped == ["result 1: not an object"]


def test_paging_ends_on_the_last_page_or_an_empty_one(
    make_video: Builder, watch: Watch, now: datetime
) -> None:
    assert parse_search_page(page(make_video(), number=2, pages=3), watch, now, now).has_more
    assert not parse_search_page(page(make_video(), number=3, pages=3), watch, now, now).has_more
    assert not parse_search_page(page(number=1, pages=0), watch, now, now).has_more
    empty = page(number=4, pages=3)
    empty["data"]["result"] = None
    assert parse_search_page(empty, watch, now, now).posts == []


@pytest.mark.parametrize(("code", "meaning"), [(-412, "blocked"), (-799, "too frequent"), (-400, "refused")])
def test_a_refusal_is_a_fetch_error(watch: Watch, now: datetime, code: int, meaning: str) -> None:
    with pytest.raises(FetchError, match=meaning) as info:
        parse_search_page({"code": code, "message": "请求被拦截", "ttl": 1}, watch, now, now)
    assert not isinstance(info.value, MalformedResponse)
    assert str(code) in str(info.value)


@pytest.mark.parametrize(
    "payload",
    [{"ok": 1, "data": "oops"}, [], "x", {"code": 0, "data": "oops"}, {"code": 0}, {"code": "zero"}],
)
def test_a_wrong_shape_is_a_malformed_response(watch: Watch, now: datetime, payload: Any) -> None:
    with pytest.raises(MalformedResponse, match="bilibili search"):
        parse_search_page(payload, watch, now, now)


def test_request_url_and_headers() -> None:
    adapter = BilibiliAdapter(headers={"Cookie": "buvid3=abc"})
    url = adapter.search_url("http://127.0.0.1:8080/", "鲜味坊 XWF", 2)
    parts = urlsplit(url)
    assert parts.path == "/x/web-interface/search/type"
    assert parse_qs(parts.query) == {
        "search_type": ["video"],
        "keyword": ["鲜味坊 XWF"],
        "page": ["2"],
        "order": ["pubdate"],
    }
    assert "%20" in url and "+" not in url
    headers = adapter.headers("http://x", "鲜味坊")
    assert headers["Referer"].startswith("https://search.bilibili.com/all?keyword=%E9%B2%9C")
    assert headers["Cookie"] == "buvid3=abc"


class FakeClient:
    def __init__(self, pages: dict[tuple[str, int], Any]) -> None:
        self.pages = pages
        self.calls: list[tuple[str, int]] = []

    def get_json(self, url: str, *, headers: Mapping[str, str] | None = None) -> Any:
        query = parse_qs(urlsplit(url).query)
        key = (query["keyword"][0], int(query["page"][0]))
        self.calls.append(key)
        return self.pages.get(key, page(number=key[1], pages=0))


def test_fetch_posts_pages_and_stops_at_since(make_video: Builder, watch: Watch, now: datetime) -> None:
    old = int((now - timedelta(hours=3)).timestamp())
    client = FakeClient(
        {
            ("鲜味坊", 1): page(make_video(), make_video(), number=1, pages=5),
            ("鲜味坊", 2): page(make_video(pubdate=old), number=2, pages=5),
            ("鲜味坊", 3): page(make_video(), number=3, pages=5),
        }
    )
    job = FetchJob(watch=watch, platform="bilibili", scheduled_at=now)
    result = fetch_posts(job, "http://sim", client, now, since=now - timedelta(hours=1))
    assert client.calls == [("鲜味坊", 1), ("鲜味坊", 2), ("XWF", 1)]
    assert result.matched == 3 and {p.platform for p in result.posts} == {"bilibili"}
