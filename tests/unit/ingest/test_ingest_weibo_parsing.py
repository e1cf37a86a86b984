"""Reading Weibo mobile-search JSON: text, counters, authors, reposts, broken cards, wrong shapes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from crisiswatch.ingest.errors import FetchError, MalformedResponse
from crisiswatch.ingest.weibo import WeiboAdapter, html_to_text, parse_count, parse_search_page
from crisiswatch.vocabulary import Watch

Builder = Callable[..., dict[str, Any]]

EMOTICON = (
    '<span class="url-icon"><img alt=[怒] src="https://h5.sinaimg.cn/m/emoticon/icon/default/d_nu.png" '
    'style="width:1em; height:1em;" /></span>'
)


# ------------------------------------------------------------------------------------------------
# HTML -> text
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("吃出虫子了" + EMOTICON + EMOTICON.replace("[怒]", "[吐]"), "吃出虫子了[怒][吐]"),
        ('<span class="url-icon"><img alt="[泪]" src="x.png" /></span>好慌', "[泪]好慌"),
        ("<a href='/n/都市消费观察'>@都市消费观察</a> 求曝光", "@都市消费观察 求曝光"),
        ("第一行<br />第二行<br/>第三行", "第一行\n第二行\n第三行"),
        (
            '<a  href="https://m.weibo.cn/search?containerid=231522type%3D1%26q%3D%23鲜味坊食品安全%23" '
            'data-hide=""><span class="surl-text">#鲜味坊食品安全#</span></a>',
            "#鲜味坊食品安全#",
        ),
        ("转发微博//<a href='/n/小王'>@小王</a>:太恶心了", "转发微博//@小王:太恶心了"),
        ("鱼 &amp; 肉 &lt;好吃&gt;", "鱼 & 肉 <好吃>"),
        ('记者探访发现...<a href="/status/4999">全文</a>', "记者探访发现..."),
        ("  多余的\u200b  空格 ", "多余的 空格"),
        # a location link: its icon has no alt, its name stays
        (
            "<a href='x'><span class='url-icon'><img src='loc.png'></span><span>上海·外滩</span></a>",
            "上海·外滩",
        ),
        ("", ""),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


# ------------------------------------------------------------------------------------------------
# Counters
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "count"),
    [
        (None, 0),
        ("", 0),
        (0, 0),
        (42, 42),
        (7.0, 7),
        ("42", 42),
        ("1,024", 1024),
        ("1万+", 10_000),
        ("100万+", 1_000_000),
        ("1.2万", 12_000),
        ("35.6万", 356_000),
        ("3亿", 300_000_000),
        ("1.5亿", 150_000_000),
        ("999+", 999),
    ],
)
def test_parse_count(value: Any, count: int) -> None:
    assert parse_count(value) == count


@pytest.mark.parametrize("value", [-1, "-3", "很多", "1千", True, [1], "万"])
def test_unreadable_counts_raise(value: Any) -> None:
    with pytest.raises(ValueError):
        parse_count(value)


# ------------------------------------------------------------------------------------------------
# Posts
# ------------------------------------------------------------------------------------------------


def test_a_plain_post(make_mblog: Builder, make_page: Builder, watch: Watch, now: datetime) -> None:
    mblog = make_mblog(
        "在鲜味坊吃出虫子了" + EMOTICON,
        id="4999000000000001",
        created_at="5分钟前",
        reposts_count="1万+",
        comments_count="3",
        attitudes_count=250,
        user={
            "id": 2701234567,
            "screen_name": "都市消费观察",
            "followers_count": "123万",
            "verified": True,
            "verified_type": 3,
        },
    )
    page = parse_search_page(make_page(mblog), watch, fetched_at=now, now=now)
    assert page.has_more and page.skipped == []
    [post] = page.posts
    assert post.key == "weibo#4999000000000001"
    assert post.url == "https://m.weibo.cn/detail/4999000000000001"
    assert post.text == "在鲜味坊吃出虫子了[怒]"
    assert post.created_at == now - timedelta(minutes=5)
    assert post.fetched_at == now
    assert post.watch_id == "xianweifang"
    assert (post.engagement.reposts, post.engagement.comments, post.engagement.likes) == (10_000, 3, 250)
    assert post.author.id == "2701234567"
    assert post.author.name == "都市消费观察"
    assert post.author.followers == 1_230_000
    assert post.author.verified_type == 3
    assert post.repost_of is None


@pytest.mark.parametrize(
    ("user", "followers", "verified_type"),
    [
        ({"id": 1, "followers_count": 12}, 12, -1),
        ({"id": 1, "followers_count": "1.2万", "verified": True, "verified_type": 0}, 12_000, 0),
        ({"id": 1, "followers_count": "3亿", "verified": True, "verified_type": 1}, 300_000_000, 1),
        ({"id": 1, "followers_count": 5000, "verified": False, "verified_type": 220}, 5000, 220),
        ({"id": "1", "followers_count": None}, 0, -1),
    ],
)
def test_authors(
    make_mblog: Builder,
    make_page: Builder,
    watch: Watch,
    now: datetime,
    user: dict[str, Any],
    followers: int,
    verified_type: int,
) -> None:
    [post] = parse_search_page(make_page(make_mblog(user=user)), watch, now, now).posts
    assert (post.author.id, post.author.followers, post.author.verified_type) == (
        "1",
        followers,
        verified_type,
    )


def test_a_repost_links_to_its_original_and_brings_it_along(
    make_mblog: Builder, make_page: Builder, watch: Watch, now: datetime
) -> None:
    original = make_mblog("鲜味坊吃出虫子", id="100", created_at="10分钟前")
    repost = make_mblog("转发微博//<a href='/n/小王'>@小王</a>:恶心", id="200", retweeted_status=original)
    posts = parse_search_page(make_page(repost), watch, now, now).posts
    assert [p.post_id for p in posts] == ["100", "200"]  # the original first
    assert posts[1].repost_of == "weibo#100"
    assert posts[1].text == "转发微博//@小王:恶心"
    assert posts[0].repost_of is None and posts[0].text == "鲜味坊吃出虫子"


def test_a_repost_of_a_deleted_original_is_kept(
    make_mblog: Builder, make_page: Builder, watch: Watch, now: datetime
) -> None:
    deleted = {
        "id": "100",
        "text": "抱歉，此微博已被作者删除。查看帮助：<a href='x'>网页链接</a>",
        "user": None,
    }
    repost = make_mblog("鲜味坊这条怎么删了", id="200", retweeted_status=deleted)
    page = parse_search_page(make_page(repost), watch, now, now)
    assert [p.post_id for p in page.posts] == ["200"]
    assert page.posts[0].repost_of == "weibo#100"
    assert page.skipped == []


def test_grouped_cards_and_other_card_types(
    make_mblog: Builder, make_page: Builder, watch: Watch, now: datetime
) -> None:
    payload = make_page(make_mblog(id="1"), make_mblog(id="2"), grouped=True)
    payload["data"]["cards"].append({"card_type": 17, "group": [{"title_sub": "热搜"}]})
    page = parse_search_page(payload, watch, now, now)
    assert [p.post_id for p in page.posts] == ["1", "2"]
    assert page.skipped == []


def test_a_broken_card_is_skipped_with_a_reason_and_the_rest_kept(
    make_mblog: Builder, make_page: Builder, watch: Watch, now: datetime
) -> None:
    payload = make_page(
        make_mblog(id="1"),
        make_mblog(id="2", created_at="上周"),
        make_mblog(id="3", reposts_count="很多"),
        {**make_mblog(id="4"), "user": None},
        {"text": "no id", "created_at": "刚刚", "user": {"id": 1}},
        make_mblog(id="6"),
    )
    payload["data"]["cards"] += ["not a card", {"card_type": 11, "card_group": "oops"}]
    page = parse_search_page(payload, watch, now, now)
    assert [p.post_id for p in page.posts] == ["1", "6"]
    reasons = "\n".join(page.skipped)
    assert len(page.skipped) == 6, reasons
    assert "mblog 2" in reasons and "created_at" in reasons and "上周" in reasons
    assert "mblog 3" in reasons and "reposts_count" in reasons
    assert "mblog 4" in reasons and "no user" in reasons
    assert "neither id nor mid" in reasons
    assert "not an object" in reasons and "card_group is not a list" in reasons


def test_mid_is_used_when_id_is_missing(
    make_mblog: Builder, make_page: Builder, watch: Watch, now: datetime
) -> None:
    mblog = make_mblog()
    mblog["mid"] = mblog.pop("id")
    [post] = parse_search_page(make_page(mblog), watch, now, now).posts
    assert post.post_id == mblog["mid"]


def test_integer_ids_are_read_as_strings(
    make_mblog: Builder, make_page: Builder, watch: Watch, now: datetime
) -> None:
    [post] = parse_search_page(make_page(make_mblog(id=4999)), watch, now, now).posts
    assert post.post_id == "4999"


# ------------------------------------------------------------------------------------------------
# Pages
# ------------------------------------------------------------------------------------------------


def test_end_of_results(watch: Watch, now: datetime) -> None:
    page = parse_search_page({"ok": 0, "msg": "这里还没有内容", "data": {"cards": []}}, watch, now, now)
    assert page.posts == [] and page.has_more is False


def test_last_page_has_no_next_page(
    make_mblog: Builder, make_page: Builder, watch: Watch, now: datetime
) -> None:
    assert parse_search_page(make_page(make_mblog(), next_page=None), watch, now, now).has_more is False
    assert parse_search_page(make_page(make_mblog(), next_page=3), watch, now, now).has_more is True
    no_info = make_page(make_mblog())
    del no_info["data"]["cardlistInfo"]
    assert parse_search_page(no_info, watch, now, now).has_more is True
    empty = make_page()
    assert parse_search_page(empty, watch, now, now).has_more is False  # no posts at all: stop


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        ({"ok": 1, "data": "oops"}, "data"),
        ({"ok": 1, "data": {"cards": "oops"}}, "data.cards"),
        ({"data": {"cards": []}}, "ok"),
        ([1, 2, 3], "payload: Input should be a valid dictionary"),
        ("这里还没有内容", "payload: Input should be a valid dictionary"),
        ({"ok": 1}, "without data"),
    ],
)
def test_wrong_shapes_raise_malformed_response(watch: Watch, now: datetime, payload: Any, why: str) -> None:
    with pytest.raises(MalformedResponse, match="weibo search") as info:
        parse_search_page(payload, watch, now, now)
    assert why in str(info.value)


def test_a_refusal_is_a_fetch_error_not_a_malformed_response(watch: Watch, now: datetime) -> None:
    with pytest.raises(FetchError, match="ok=-100") as info:
        parse_search_page(
            {"ok": -100, "url": "https://passport.weibo.cn/signin", "msg": "请先登录"}, watch, now, now
        )
    assert not isinstance(info.value, MalformedResponse)


def test_search_url_encodes_the_container_as_one_value() -> None:
    url = WeiboAdapter().search_url("http://127.0.0.1:8080/", "鲜味坊", 2)
    assert url == (
        "http://127.0.0.1:8080/api/container/getIndex?containerid=100103type%3D61%26q%3D"
        "%E9%B2%9C%E5%91%B3%E5%9D%8A%26t%3D&page_type=searchall&page=2"
    )
