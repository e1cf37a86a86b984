"""The pipeline's limits where posts enter (issue 11, item 1): the Post model cuts text, clamps
counts and refuses over-long identifiers for every adapter and the push; each adapter reads at most
PLATFORM_ITEMS_PER_PAGE_MAX items of a page; what was cut or dropped is logged and counted."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from pydantic import ValidationError

from crisiswatch.ingest import bilibili, feeds, weibo
from crisiswatch.ingest.bounds import (
    COUNTS_CLAMPED,
    PAGE_ITEMS_DROPPED,
    TEXTS_CUT,
    bounded_counts,
    first_items,
)
from crisiswatch.ingest.fetching import POSTS_FETCHED, fetch_posts
from crisiswatch.ingest.provider import load_provider
from crisiswatch.limits import (
    COUNTER_MAX,
    PLATFORM_ITEMS_PER_PAGE_MAX,
    POST_ID_MAX_CHARS,
    POST_TEXT_MAX_CHARS,
)
from crisiswatch.vocabulary import Author, Engagement, FetchJob, Post
from tests.builders import post
from tests.unit.ingest.conftest import NOW
from tests.unit.ingest.test_ingest_provider import aweme, douyin_page

OVER = PLATFORM_ITEMS_PER_PAGE_MAX + 50


# -- the Post model ---------------------------------------------------------------------------------


def test_a_long_text_is_cut_and_its_original_length_kept():
    long = post(text="鲜味坊" + "虫" * (2 * POST_TEXT_MAX_CHARS))
    assert len(long.text) == POST_TEXT_MAX_CHARS and long.text.startswith("鲜味坊虫")
    assert long.text_length == 3 + 2 * POST_TEXT_MAX_CHARS
    assert long.bounded == ["text"]
    whole = post(text="鲜" * POST_TEXT_MAX_CHARS)
    assert (whole.text_length, whole.bounded) == (None, [])


def test_the_cut_survives_the_queue_and_a_stored_post_without_text_length_loads():
    long = post(text="虫" * (POST_TEXT_MAX_CHARS + 1))
    assert Post.model_validate_json(long.model_dump_json()) == long  # cut once: the length stays
    stored = json.loads(post().model_dump_json())
    del stored["text_length"]  # written before the limit existed
    assert Post.model_validate(stored).text_length is None


@pytest.mark.parametrize("count", [10**40, COUNTER_MAX + 1, 1e40, float(2**70)])
def test_counts_over_the_maximum_are_clamped(count):
    clamped = post(
        author=Author(id="u1", followers=count),
        engagement=Engagement(reposts=count, comments=1, likes=count, views=count),
    )
    assert clamped.author.followers == clamped.engagement.likes == COUNTER_MAX
    assert clamped.engagement.comments == 1
    assert clamped.bounded == [
        "author.followers",
        "engagement.reposts",
        "engagement.likes",
        "engagement.views",
    ]


def test_counts_within_the_range_are_kept_and_negative_ones_refused():
    assert post(author=Author(id="u1", followers=COUNTER_MAX - 1)).bounded == []
    assert Author(id="u1", followers=None).followers is None  # unknown stays unknown
    assert Post.model_validate_json(post().model_dump_json().replace('"views":0', '"views":1e40')).bounded
    for bad in ({"followers": -1}, {"followers": float("inf")}, {"verified_type": 10**40}):
        with pytest.raises(ValidationError):
            Author(id="u1", **bad)


@pytest.mark.parametrize(
    "field", [{"post_id": "9" * (POST_ID_MAX_CHARS + 1)}, {"repost_of": "w" * 300}, {"url": "h" * 3000}]
)
def test_over_long_identifiers_are_refused(field):
    with pytest.raises(ValidationError):
        post(**field)
    with pytest.raises(ValidationError):
        Author(id="1" * (POST_ID_MAX_CHARS + 1))


def test_bounded_counts_log_once_per_kind_with_the_keys(caplog):
    posts = [
        post("1", text="虫" * (POST_TEXT_MAX_CHARS + 9)),
        post("2", author=Author(id="u", followers=10**20)),
    ]
    with caplog.at_level(logging.WARNING):
        counts = bounded_counts([*posts, post("3")], watch_id="xianweifang", platform="weibo")
    assert counts == {TEXTS_CUT: 1, COUNTS_CLAMPED: 1}
    cut, clamped = caplog.records
    assert (cut.getMessage(), clamped.getMessage()) == ("post text cut", "post counts clamped")
    assert (cut.post_keys, cut.watch_id, clamped.fields) == (["weibo#1"], "xianweifang", ["author.followers"])
    assert "POST_TEXT_MAX_CHARS" in cut.reason and "COUNTER_MAX" in clamped.reason


# -- pages --------------------------------------------------------------------------------------


def test_first_items():
    assert first_items(list(range(5)), 3) == ([0, 1, 2], 2)
    assert first_items([1], 3) == ([1], 0)


def _weibo_page(make_mblog, n, grouped=False):
    cards = [{"card_type": 9, "mblog": make_mblog(f"鲜味坊 {i}")} for i in range(n)]
    if grouped:  # one group holding them all: the limit counts the cards inside groups too
        cards = [{"card_type": 11, "card_group": cards}]
    return {"ok": 1, "data": {"cardlistInfo": {"page": 2}, "cards": cards}}


@pytest.mark.parametrize("grouped", [False, True])
def test_weibo_reads_at_most_the_limit_of_cards(make_mblog, watch, grouped):
    page = weibo.parse_search_page(_weibo_page(make_mblog, OVER, grouped), watch, NOW, NOW)
    read = PLATFORM_ITEMS_PER_PAGE_MAX - (1 if grouped else 0)  # the group card is one of them
    assert (len(page.posts), page.items_over_limit) == (read, OVER - read)
    assert page.has_more  # the platform's paging is not changed by what we did not read


def test_bilibili_reads_at_most_the_limit_of_results(watch):
    videos = [
        {"type": "video", "bvid": f"BV{i}", "title": "鲜味坊", "author": "a", "mid": 1, "pubdate": 1763654400}
        for i in range(OVER)
    ]
    payload = {"code": 0, "data": {"page": 1, "numPages": 3, "result": videos}}
    page = bilibili.parse_search_page(payload, watch, NOW, NOW)
    assert (len(page.posts), page.items_over_limit) == (PLATFORM_ITEMS_PER_PAGE_MAX, 50)


def test_a_feed_is_read_to_the_limit_of_entries(watch):
    items = "".join(f"<item><guid>n-{i}</guid><title>鲜味坊 {i}</title></item>" for i in range(OVER))
    body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
    page = feeds.parse_search_page(body.encode(), watch, NOW, NOW)
    assert (len(page.posts), page.items_over_limit) == (PLATFORM_ITEMS_PER_PAGE_MAX, 50)


def test_a_provider_page_is_read_to_the_limit_of_items(watch):
    payload = douyin_page(*[aweme(str(7300 + i), NOW) for i in range(OVER)])
    page = load_provider("douyin").parse_search_page(payload, watch, NOW, NOW)
    assert (len(page.posts), page.items_over_limit) == (PLATFORM_ITEMS_PER_PAGE_MAX, 50)


class _OnePage:
    def __init__(self, payload):
        self.payload = payload

    def get_json(self, url, *, headers=None):
        payload, self.payload = self.payload, {"ok": 0, "msg": "这里还没有内容"}
        return payload


def test_fetch_posts_counts_what_the_limits_dropped_and_cut(make_mblog, watch, caplog):
    page = _weibo_page(make_mblog, OVER)
    page["data"]["cards"][0]["mblog"]["text"] = "鲜味坊" * POST_TEXT_MAX_CHARS
    page["data"]["cards"][1]["mblog"]["user"]["followers_count"] = 10**30
    job = FetchJob(
        watch=watch.model_copy(update={"keywords": ["鲜味坊"]}), platform="weibo", scheduled_at=NOW
    )
    with caplog.at_level(logging.WARNING):
        result = fetch_posts(job, "http://weibo.test", _OnePage(page), NOW, since=NOW - timedelta(days=1))
    assert result.items_over_limit == 50 and len(result.posts) == PLATFORM_ITEMS_PER_PAGE_MAX
    # What was cut or clamped is counted where posts are queued (Fetcher.run, the push).
    assert result.counts == {POSTS_FETCHED: PLATFORM_ITEMS_PER_PAGE_MAX, PAGE_ITEMS_DROPPED: 50}  # no zeros
    (dropped,) = [r for r in caplog.records if r.getMessage() == "page items dropped"]
    assert (dropped.count, dropped.page, dropped.watch_id) == (50, 1, "xianweifang")
    assert "PLATFORM_ITEMS_PER_PAGE_MAX" in dropped.reason
    assert bounded_counts(result.posts) == {TEXTS_CUT: 1, COUNTS_CLAMPED: 1}


def test_what_no_queue_can_carry_is_replaced_in_text_and_refused_in_ids(make_mblog, watch):
    # Half an emoji, as a platform cutting by UTF-16 units sends it; U+FFFF, which SQS refuses.
    page = {
        "ok": 1,
        "data": {"cards": [{"card_type": 9, "mblog": make_mblog("鲜味坊\ud83d|\ud83d\ude00|\uffff")}]},
    }
    (read,) = weibo.parse_search_page(page, watch, NOW, NOW).posts
    assert read.text == "鲜味坊\ufffd|😀|\ufffd"  # the split pair is one character again
    assert json.loads(read.model_dump_json())["text"] == read.text  # and it serializes for the queue
    assert post(author=Author(id="u1", name="吃货\ud800小王")).author.name == "吃货\ufffd小王"
    for bad in ("1\ud800", "1\uffff"):
        with pytest.raises(ValidationError):
            post(post_id=bad)
