"""Reading RSS 2.0 and Atom news feeds: entries, ids, times, authors, broken entries, broken feeds."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from crisiswatch.ingest.errors import MalformedResponse
from crisiswatch.ingest.feeds import FeedAdapter, feed_url, parse_search_page
from crisiswatch.ingest.fetching import fetch_posts
from crisiswatch.vocabulary import FetchJob, Watch


def rss(*items: str, title: str = "新闻搜索") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://news.example/</link><description>d</description>"
        + "".join(items)
        + "</channel></rss>\n"
    ).encode()


def item(
    title: str = "鲜味坊被曝食材变质",
    *,
    link: str | None = "https://news.example/a/1.html",
    guid: str | None = "news-1",
    pub: str | None = "Fri, 20 Nov 2026 23:30:00 +0800",
    description: str | None = "&lt;p&gt;多名网友反映&lt;/p&gt;&lt;p&gt;腹泻 &amp;amp; 呕吐&lt;/p&gt;",
    extra: str = "",
) -> str:
    parts = [f"<title>{title}</title>" if title is not None else ""]
    parts.append(f"<link>{link}</link>" if link else "")
    parts.append(f'<guid isPermaLink="false">{guid}</guid>' if guid else "")
    parts.append(f"<pubDate>{pub}</pubDate>" if pub else "")
    parts.append(f"<description>{description}</description>" if description is not None else "")
    return "<item>" + "".join(parts) + extra + "</item>"


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom News</title><id>urn:feed</id>
<updated>2026-11-20T15:00:00Z</updated>
<entry><title type="html">&lt;b&gt;XWF&lt;/b&gt; &amp;lt;\xe9\x80\x9a\xe6\x8a\xa5&amp;gt;</title><id>urn:uuid:1</id>
<link rel="alternate" href="https://atom.example/1"/><published>2026-11-20T23:00:00+08:00</published>
<updated>2026-11-20T23:30:00+08:00</updated><author><name>\xe8\xae\xb0\xe8\x80\x85</name></author>
<content type="html">&lt;p&gt;a &amp;lt; b&lt;/p&gt;</content></entry>
<entry><title>updated only</title><id>urn:uuid:2</id><link href="https://atom.example/2"/>
<updated>2026-11-20T14:00:00Z</updated><summary>plain &lt; text</summary></entry>
</feed>
"""


def test_an_rss_item_becomes_a_post(watch: Watch, now: datetime) -> None:
    source = '<source url="https://daily.example">都市日报</source>'
    result = parse_search_page(rss(item(extra=source)), watch, now, now)
    (post,) = result.posts
    assert post.key == "news#news-1"
    assert post.text == "鲜味坊被曝食材变质\n多名网友反映\n腹泻 & 呕吐"
    assert post.created_at == datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
    assert post.url == "https://news.example/a/1.html"
    assert (post.author.id, post.author.name) == ("都市日报", "都市日报")
    assert post.engagement.likes == post.engagement.views == 0
    assert not result.has_more and result.skipped == []


def test_atom_entries(watch: Watch, now: datetime) -> None:
    first, second = parse_search_page(ATOM, watch, now, now).posts
    assert first.key == "news#urn:uuid:1"
    assert first.text == "XWF <通报>\na < b"
    assert first.created_at == datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # published before updated
    assert first.author.name == "记者" and first.url == "https://atom.example/1"
    assert second.text == "updated only\nplain < text"
    assert second.created_at == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert second.author.name == "Atom News"  # no entry author: the feed's title


def test_ids_and_authors_fall_back(watch: Watch, now: datetime) -> None:
    long_guid = "x" * 200
    body = rss(
        item(guid=None, link="https://news.example/a/2.html"),
        item(guid=long_guid),
        title="",
    )
    no_guid, long_id = parse_search_page(body, watch, now, now).posts
    assert no_guid.post_id == hashlib.sha256(b"https://news.example/a/2.html").hexdigest()[:32]
    assert long_id.post_id == hashlib.sha256(long_guid.encode()).hexdigest()[:32]
    assert no_guid.author.name == "news.example"  # no author, no source, no feed title: the host


def test_times_missing_or_in_the_future(watch: Watch, now: datetime) -> None:
    body = rss(item(guid="a", pub=None), item(guid="b", pub="Sat, 20 Nov 2027 10:00:00 +0800"))
    missing, future = parse_search_page(body, watch, now, now).posts
    assert missing.created_at == now  # first seen now
    assert future.created_at == now  # clock skew: clamped


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (item(guid=None, link=None), "neither id/guid nor link"),
        (item(title=None, description=None), "neither title nor summary"),
    ],
)
def test_a_broken_entry_is_skipped_with_a_reason(
    watch: Watch, now: datetime, entry: str, reason: str
) -> None:
    result = parse_search_page(rss(item(guid="a"), entry, item(guid="c")), watch, now, now)
    assert [p.post_id for p in result.posts] == ["a", "c"]
    (why,) = result.skipped
    assert why.startswith("entry 1") and reason in why


def test_an_empty_feed_is_an_empty_page(watch: Watch, now: datetime) -> None:
    result = parse_search_page(rss(), watch, now, now)
    assert result.posts == [] and not result.has_more


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (rss(item(), item(guid="2"))[:-60], "truncated"),
        (rss(item())[:40], "not a readable feed"),
        (b'{"ok": 1, "data": "oops"}', "not a readable feed"),
        (b"<html><body><h1>403 Forbidden</h1></body></html>", "no RSS or Atom root element"),
        (b"", "not a readable feed"),
        ("<rss/>", "expected the raw body"),
    ],
)
def test_a_broken_feed_is_a_malformed_response(watch: Watch, now: datetime, body: Any, match: str) -> None:
    with pytest.raises(MalformedResponse, match=match) as info:
        parse_search_page(body, watch, now, now)
    assert len(str(info.value)) < 300


def test_a_complete_feed_with_a_minor_flaw_is_read_leniently(watch: Watch, now: datetime) -> None:
    # An undefined entity makes the XML not well-formed, but nothing is cut off: read what is there.
    body = rss(item(title="鲜味坊&nbsp;通报"), item(guid="2"))
    assert len(parse_search_page(body, watch, now, now).posts) == 2


@pytest.mark.parametrize(
    ("base", "url"),
    [
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/rss/search?q=%E9%B2%9C%E5%91%B3%E5%9D%8A%20X%26Y"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000/rss/search?q=%E9%B2%9C%E5%91%B3%E5%9D%8A%20X%26Y"),
        (
            "https://news.example/search?format=atom&q={keyword}&hl=zh-CN",
            "https://news.example/search?format=atom&q=%E9%B2%9C%E5%91%B3%E5%9D%8A%20X%26Y&hl=zh-CN",
        ),
    ],
)
def test_feed_urls(base: str, url: str) -> None:
    assert feed_url(base, "鲜味坊 X&Y") == url
    assert FeedAdapter().search_url(base, "鲜味坊 X&Y", 1) == url


class BytesClient:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.urls: list[str] = []
        self.headers: list[Mapping[str, str]] = []

    def get_bytes(self, url: str, *, headers: Mapping[str, str] | None = None) -> bytes:
        self.urls.append(url)
        self.headers.append(headers or {})
        return self.body

    def get_json(self, url: str, *, headers: Mapping[str, str] | None = None) -> Any:
        raise AssertionError("a feed is not JSON")


def test_fetch_posts_reads_one_feed_per_keyword(watch: Watch, now: datetime) -> None:
    body = rss(
        item("鲜味坊被曝食材变质", guid="1", pub="Fri, 20 Nov 2026 23:30:00 +0800"),
        item("XWF 回应", guid="2", pub="Fri, 20 Nov 2026 23:20:00 +0800"),
        item("鲜味坊小区停水", guid="3"),
    )
    client = BytesClient(body)
    job = FetchJob(watch=watch, platform="news", scheduled_at=now)
    result = fetch_posts(job, "http://sim", client, now, max_pages=5, since=now - timedelta(days=1))
    assert client.urls == [
        "http://sim/rss/search?q=%E9%B2%9C%E5%91%B3%E5%9D%8A",
        "http://sim/rss/search?q=XWF",
    ]
    assert client.headers[0]["Accept"].startswith("application/rss+xml")
    assert [p.key for p in result.posts] == ["news#1", "news#2"]
    assert (result.pages_fetched, result.dropped, result.duplicates) == (2, 1, 3)
