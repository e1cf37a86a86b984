"""fetch_posts with a fake client: paging, de-duplication, matching, adapters, the since cursor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from crisiswatch.ingest.adapters import ADAPTERS, register_adapter
from crisiswatch.ingest.errors import MalformedResponse, UnsupportedPlatform
from crisiswatch.ingest.fetching import fetch_posts
from crisiswatch.ingest.platform import SearchPage
from crisiswatch.vocabulary import FetchJob, Post, Watch

Builder = Callable[..., dict[str, Any]]
END = {"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}


class FakeClient:
    """Answers by (keyword, page) from a dict; records what was asked."""

    def __init__(self, pages: dict[tuple[str, int], Any]) -> None:
        self.pages = pages
        self.calls: list[tuple[str, int]] = []
        self.headers: list[Mapping[str, str]] = []

    def get_json(self, url: str, *, headers: Mapping[str, str] | None = None) -> Any:
        query = parse_qs(urlsplit(url).query)
        container = unquote(query["containerid"][0])
        keyword = container.split("&q=")[1].removesuffix("&t=")
        page = int(query["page"][0])
        self.calls.append((keyword, page))
        self.headers.append(headers or {})
        return self.pages.get((keyword, page), END)


def test_pages_until_the_platform_has_no_more(
    job: FetchJob, make_mblog: Builder, make_page: Builder, now: datetime
) -> None:
    client = FakeClient(
        {
            ("鲜味坊", 1): make_page(make_mblog("鲜味坊一"), make_mblog("鲜味坊二"), next_page=2),
            ("鲜味坊", 2): make_page(make_mblog("鲜味坊三"), next_page=None),
        }
    )
    result = fetch_posts(job, "http://sim", client, now)
    assert client.calls == [("鲜味坊", 1), ("鲜味坊", 2), ("XWF", 1)]
    assert [p.text for p in result.posts] == ["鲜味坊一", "鲜味坊二", "鲜味坊三"]
    assert (result.pages_fetched, result.matched, result.dropped) == (3, 3, 0)
    assert client.headers[0]["X-Requested-With"] == "XMLHttpRequest"


def test_stops_at_max_pages(job: FetchJob, make_mblog: Builder, make_page: Builder, now: datetime) -> None:
    client = FakeClient(
        {("鲜味坊", n): make_page(make_mblog(f"鲜味坊{n}"), next_page=n + 1) for n in range(1, 9)}
    )
    result = fetch_posts(job, "http://sim", client, now, max_pages=3)
    assert client.calls == [("鲜味坊", 1), ("鲜味坊", 2), ("鲜味坊", 3), ("XWF", 1)]
    assert result.matched == 3


def test_deduplicates_across_keywords_and_pages(
    job: FetchJob, make_mblog: Builder, make_page: Builder, now: datetime
) -> None:
    both = make_mblog("鲜味坊又叫XWF", id="1")
    again = make_mblog("鲜味坊", id="2")
    client = FakeClient(
        {
            ("鲜味坊", 1): make_page(both, again, next_page=2),
            ("鲜味坊", 2): make_page(again, next_page=None),  # new posts pushed it onto the next page
            ("XWF", 1): make_page(both, next_page=None),
        }
    )
    result = fetch_posts(job, "http://sim", client, now)
    assert [p.post_id for p in result.posts] == ["1", "2"]
    assert result.duplicates == 2
    assert result.terms == {"weibo#1": ["鲜味坊", "XWF"], "weibo#2": ["鲜味坊"]}


def test_keeps_only_matching_posts(
    job: FetchJob, make_mblog: Builder, make_page: Builder, now: datetime
) -> None:
    client = FakeClient(
        {
            ("鲜味坊", 1): make_page(
                make_mblog("鲜味坊好吃", id="1"),
                make_mblog("海鲜味道一般", id="2"),  # the search is fuzzy
                make_mblog("鲜味坊小区停水了", id="3"),  # excluded
                make_mblog("ｘｗｆ真香", id="4"),  # the alias, full width
                next_page=None,
            )
        }
    )
    result = fetch_posts(job, "http://sim", client, now)
    assert [p.post_id for p in result.posts] == ["1", "4"]
    assert (result.matched, result.dropped) == (2, 2)


def test_a_repost_of_a_matching_original_is_kept(
    job: FetchJob, make_mblog: Builder, make_page: Builder, now: datetime
) -> None:
    original = make_mblog("鲜味坊吃出虫子", id="1")
    unrelated = make_mblog("海鲜味道一般", id="5")
    client = FakeClient(
        {
            ("鲜味坊", 1): make_page(
                make_mblog("转发微博", id="2", retweeted_status=original),
                make_mblog("转发微博", id="3", retweeted_status=unrelated),
                make_mblog("鲜味坊小区也这样", id="4", retweeted_status=original),  # its own text is excluded
                next_page=None,
            )
        }
    )
    result = fetch_posts(job, "http://sim", client, now)
    assert [p.post_id for p in result.posts] == ["1", "2"]
    assert result.terms["weibo#2"] == ["鲜味坊"]
    assert result.posts[1].repost_of == "weibo#1"


def test_broken_cards_are_reported_not_fatal(
    job: FetchJob, make_mblog: Builder, make_page: Builder, now: datetime
) -> None:
    client = FakeClient(
        {
            ("鲜味坊", 1): make_page(
                make_mblog("鲜味坊", created_at="很久以前"), make_mblog("鲜味坊"), next_page=None
            )
        }
    )
    result = fetch_posts(job, "http://sim", client, now)
    assert result.matched == 1
    assert len(result.skipped) == 1 and result.skipped[0].startswith("鲜味坊 p1 card 1")


def test_a_malformed_page_fails_the_run(
    job: FetchJob, make_mblog: Builder, make_page: Builder, now: datetime
) -> None:
    client = FakeClient(
        {("鲜味坊", 1): make_page(make_mblog("鲜味坊")), ("鲜味坊", 2): {"ok": 1, "data": "oops"}}
    )
    with pytest.raises(MalformedResponse):
        fetch_posts(job, "http://sim", client, now)


def test_since_stops_paging_once_older_posts_are_reached(
    job: FetchJob, make_mblog: Builder, make_page: Builder, now: datetime
) -> None:
    client = FakeClient(
        {
            ("鲜味坊", 1): make_page(
                make_mblog("鲜味坊", created_at="1分钟前"), make_mblog("鲜味坊", created_at="3分钟前")
            ),
            ("鲜味坊", 2): make_page(
                make_mblog("鲜味坊", created_at="6分钟前"), make_mblog("鲜味坊", created_at="9分钟前")
            ),
            ("鲜味坊", 3): make_page(make_mblog("鲜味坊", created_at="12分钟前")),
        }
    )
    result = fetch_posts(job, "http://sim", client, now, max_pages=5, since=now - timedelta(minutes=5))
    assert client.calls[:2] == [("鲜味坊", 1), ("鲜味坊", 2)]
    assert ("鲜味坊", 3) not in client.calls
    assert result.matched == 4  # posts on the boundary page are kept: the store de-duplicates


def test_an_unknown_platform_is_a_clear_error(watch: Watch, now: datetime) -> None:
    job = FetchJob(watch=watch, platform="myspace", scheduled_at=now)
    with pytest.raises(UnsupportedPlatform, match="'myspace'.*registered: .*weibo"):
        fetch_posts(job, "http://sim", FakeClient({}), now)


def test_a_new_platform_is_one_registration(watch: Watch, now: datetime) -> None:
    class EchoAdapter:
        platform = "echo"
        first_page = 0

        def search_url(self, base_url: str, keyword: str, page: int) -> str:
            return f"{base_url}/s?containerid=100103type%3D61%26q%3D{keyword}%26t%3D&page={page}"

        def headers(self, base_url: str, keyword: str) -> dict[str, str]:
            return {}

        def parse_search_page(
            self, payload: Any, watch: Watch, fetched_at: datetime, now: datetime
        ) -> SearchPage:
            post = Post(
                platform="echo",
                post_id="1",
                author={"id": "a"},
                text=payload["text"],
                created_at=now,
                fetched_at=fetched_at,
                watch_id=watch.id,
            )
            return SearchPage(posts=[post], has_more=False)

    register_adapter(EchoAdapter())
    try:
        client = FakeClient({("鲜味坊", 0): {"text": "鲜味坊"}, ("XWF", 0): {"text": "xwf"}})
        result = fetch_posts(
            FetchJob(watch=watch, platform="echo", scheduled_at=now), "http://x", client, now
        )
        assert [p.key for p in result.posts] == ["echo#1"]
        assert result.duplicates == 1
    finally:
        ADAPTERS.pop("echo")


@pytest.mark.parametrize("kwargs", [{"max_pages": 0}])
def test_arguments_are_checked(job: FetchJob, now: datetime, kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        fetch_posts(job, "http://sim", FakeClient({}), now, **kwargs)


def test_naive_now_is_refused(job: FetchJob) -> None:
    with pytest.raises(ValueError):
        fetch_posts(job, "http://sim", FakeClient({}), datetime(2026, 11, 21))
