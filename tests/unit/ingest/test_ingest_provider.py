"""Data-provider adapters: the shipped Douyin and Xiaohongshu mappings, broken items, broken mappings."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from crisiswatch.ingest.adapters import ADAPTERS
from crisiswatch.ingest.errors import FetchError, MalformedResponse
from crisiswatch.ingest.fetching import fetch_posts
from crisiswatch.ingest.provider import (
    PROVIDERS_DIR,
    SHIPPED_PROVIDERS,
    ProviderAdapter,
    ProviderMappingError,
    load_mapping,
    load_provider,
    parse_mapping,
)
from crisiswatch.vocabulary import FetchJob, Watch


def aweme(aweme_id: str = "7301", now: datetime | None = None, **fields: Any) -> dict[str, Any]:
    created = (now or datetime(2026, 11, 20, 16, 5, tzinfo=UTC)) - timedelta(minutes=3)
    return {
        "aweme_id": aweme_id,
        "desc": "鲜味坊的酸菜鱼吃出虫子了 #避雷",
        "create_time": int(created.timestamp()),
        "author": {"uid": "88", "nickname": "打工人小林", "follower_count": 35600, "custom_verify": ""},
        "statistics": {"digg_count": 120, "comment_count": 30, "share_count": 7, "play_count": 5000},
        "share_url": f"https://www.iesdouyin.com/share/video/{aweme_id}/",
        **fields,
    }


def douyin_page(*items: dict[str, Any], has_more: int = 1, cursor: int = 20) -> dict[str, Any]:
    return {
        "code": 0,
        "message": "success",
        "data": {"aweme_list": list(items), "has_more": has_more, "cursor": cursor},
    }


def note(note_id: str = "65f0a1", **card: Any) -> dict[str, Any]:
    return {
        "id": note_id,
        "model_type": "note",
        "note_card": {
            "title": "姐妹们避雷！",
            "desc": "鲜味坊拉肚子到半夜",
            "time": 1_763_654_400_123,
            "user": {"user_id": "5f00aa", "nickname": "周末饭团", "red_official_verified": False},
            "interact_info": {
                "liked_count": "1.2万",
                "comment_count": "856",
                "collected_count": "10",
                "share_count": "3",
            },
            **card,
        },
    }


def xhs_page(*items: dict[str, Any], has_more: bool = True) -> dict[str, Any]:
    return {"success": True, "msg": "成功", "data": {"items": list(items), "has_more": has_more}}


@pytest.fixture
def douyin() -> ProviderAdapter:
    return load_provider("douyin")


@pytest.fixture
def xhs() -> ProviderAdapter:
    return load_provider("xiaohongshu")


# ------------------------------------------------------------------------------------------------
# The shipped mappings
# ------------------------------------------------------------------------------------------------


def test_the_shipped_mappings_load_and_are_registered() -> None:
    assert sorted(p.stem for p in PROVIDERS_DIR.glob("*.json")) == sorted(SHIPPED_PROVIDERS)
    for name in SHIPPED_PROVIDERS:
        assert load_mapping(name).platform == name
        assert isinstance(ADAPTERS[name], ProviderAdapter)


def test_a_douyin_item_becomes_a_post(douyin: ProviderAdapter, watch: Watch, now: datetime) -> None:
    item = aweme(
        now=now,
        author={"uid": 88, "nickname": "都市消费观察", "follower_count": "123万", "custom_verify": "媒体"},
    )
    result = douyin.parse_search_page(douyin_page(item), watch, now, now)
    (post,) = result.posts
    assert post.key == "douyin#7301"
    assert post.text == "鲜味坊的酸菜鱼吃出虫子了 #避雷"
    assert post.created_at == now - timedelta(minutes=3)
    assert post.url == "https://www.iesdouyin.com/share/video/7301/"
    assert (post.author.id, post.author.name, post.author.followers, post.author.verified_type) == (
        "88",
        "都市消费观察",
        1_230_000,
        0,
    )
    e = post.engagement
    assert (e.likes, e.comments, e.reposts, e.views) == (120, 30, 7, 5000)
    assert result.has_more and result.next_cursor == "20"


def test_a_xiaohongshu_note_becomes_a_post(xhs: ProviderAdapter, watch: Watch, now: datetime) -> None:
    hot = {"id": "hq1", "model_type": "hot_query", "hot_query": {"queries": ["鲜味坊最新"]}}
    result = xhs.parse_search_page(xhs_page(note(), hot), watch, now, now)
    (post,) = result.posts  # the hot-query box is not a note
    assert post.key == "xiaohongshu#65f0a1"
    assert post.text == "姐妹们避雷！\n鲜味坊拉肚子到半夜"
    assert post.url == "https://www.xiaohongshu.com/explore/65f0a1"
    assert post.created_at == datetime(2025, 11, 20, 16, 0, 0, 123000, tzinfo=UTC)
    assert (post.engagement.likes, post.engagement.comments, post.engagement.reposts) == (12000, 856, 3)
    assert (post.author.id, post.author.followers, post.author.verified_type) == ("5f00aa", 0, -1)
    assert result.has_more and result.next_cursor is None


def test_text_from_title_and_body_in_every_combination(
    xhs: ProviderAdapter, watch: Watch, now: datetime
) -> None:
    cases = [note("a", title=None), note("b", desc=""), note("c", desc="姐妹们避雷！")]
    posts = xhs.parse_search_page(xhs_page(*cases), watch, now, now).posts
    assert [p.text for p in posts] == ["鲜味坊拉肚子到半夜", "姐妹们避雷！", "姐妹们避雷！"]


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"aweme_id": None}, "post_id: missing"),
        ({"aweme_id": ""}, "post_id: missing"),
        ({"create_time": None}, "created_at: epoch time is missing"),
        ({"create_time": 1_763_654_400_000}, "created_at: epoch time out of range"),
        ({"statistics": {"digg_count": "很多"}}, "engagement.likes: unreadable count"),
        ({"statistics": {"digg_count": -3}}, "engagement.likes: count is negative"),
        ({"author": None}, "author.id: missing"),
        ({"desc": {"text": "x"}}, "text: not a string"),
    ],
)
def test_a_broken_item_is_skipped_naming_the_field(
    douyin: ProviderAdapter, watch: Watch, now: datetime, broken: dict, reason: str
) -> None:
    result = douyin.parse_search_page(
        douyin_page(aweme("1", now), aweme("2", now) | broken, aweme("3", now)), watch, now, now
    )
    assert [p.post_id for p in result.posts] == ["1", "3"]
    (why,) = result.skipped
    assert why.startswith("item 1") and reason in why


def test_an_item_that_is_not_an_object(douyin: ProviderAdapter, watch: Watch, now: datetime) -> None:
    result = douyin.parse_search_page(douyin_page("oops", aweme("1", now)), watch, now, now)
    assert result.skipped == ["item 0: not an object"] and len(result.posts) == 1


def test_the_end_of_the_results(
    douyin: ProviderAdapter, xhs: ProviderAdapter, watch: Watch, now: datetime
) -> None:
    last = douyin.parse_search_page(douyin_page(aweme("1", now), has_more=0), watch, now, now)
    assert not last.has_more and last.next_cursor is None
    null = douyin_page()
    null["data"]["aweme_list"] = None  # what providers send past the end
    assert douyin.parse_search_page(null, watch, now, now) == douyin.parse_search_page(
        douyin_page(has_more=0), watch, now, now
    )
    assert not douyin.parse_search_page(null, watch, now, now).has_more
    assert not xhs.parse_search_page(xhs_page(has_more=True), watch, now, now).has_more  # no items: stop


def test_has_more_without_a_cursor_stops_paging(douyin: ProviderAdapter, watch: Watch, now: datetime) -> None:
    payload = douyin_page(aweme("1", now))
    del payload["data"]["cursor"]
    result = douyin.parse_search_page(payload, watch, now, now)
    assert not result.has_more and len(result.posts) == 1
    assert result.skipped == ["has_more without data.cursor: paging stopped"]


@pytest.mark.parametrize(
    ("adapter_name", "payload"),
    [
        ("douyin", {"code": 10004, "message": "quota exceeded", "data": None}),
        ("douyin", {"code": "0", "data": {}}),  # "0" is not 0
        ("xiaohongshu", {"success": False, "code": 300013, "msg": "访问频次异常"}),
        ("xiaohongshu", {"success": 1, "data": {"items": []}}),  # 1 is not true
    ],
)
def test_a_refusal_is_a_fetch_error(adapter_name: str, payload: Any, watch: Watch, now: datetime) -> None:
    with pytest.raises(FetchError, match=f"{adapter_name} provider refused") as info:
        load_provider(adapter_name).parse_search_page(payload, watch, now, now)
    assert not isinstance(info.value, MalformedResponse)


@pytest.mark.parametrize(
    ("payload", "match"),
    [
        ({"ok": 1, "data": "oops"}, "no status at 'code'"),
        ([], "no status"),
        ("x", "no status"),
        ({"code": 0, "data": {"aweme_list": {"a": 1}}}, "items at 'data.aweme_list' is not a list"),
    ],
)
def test_a_wrong_shape_is_a_malformed_response(
    douyin: ProviderAdapter, watch: Watch, now: datetime, payload: Any, match: str
) -> None:
    with pytest.raises(MalformedResponse, match=match):
        douyin.parse_search_page(payload, watch, now, now)


# ------------------------------------------------------------------------------------------------
# Requests, credentials, paging through fetch_posts
# ------------------------------------------------------------------------------------------------


def test_request_urls(douyin: ProviderAdapter, xhs: ProviderAdapter) -> None:
    first = urlsplit(douyin.search_url("http://p.example/", "鲜味坊 XWF", 1))
    assert first.path == "/douyin/v1/search/video"
    assert parse_qs(first.query) == {
        "keyword": ["鲜味坊 XWF"],
        "cursor": ["0"],
        "count": ["20"],
        "sort_type": ["2"],
    }
    assert "cursor=40" in douyin.search_url("http://p.example", "k", 3, cursor="40")
    assert "page=3&page_size=20" in xhs.search_url("http://p.example", "k", 3)


def test_credentials_go_in_the_auth_header(douyin: ProviderAdapter) -> None:
    assert "X-Api-Key" not in douyin.headers("http://p", "k")
    with_key = douyin.with_credentials("s3cret")
    assert with_key.headers("http://p", "k") == {"Accept": "application/json", "X-Api-Key": "s3cret"}
    assert with_key.platform == "douyin" and douyin.headers("http://p", "k").get("X-Api-Key") is None


class CursorClient:
    """Serves Douyin pages by cursor; records the cursors asked for."""

    def __init__(self, now: datetime, total: int, size: int = 3) -> None:
        self.items = [aweme(str(9000 - i), now - timedelta(minutes=i)) for i in range(total)]
        self.size = size
        self.calls: list[tuple[str, str]] = []

    def get_json(self, url: str, *, headers: Mapping[str, str] | None = None) -> Any:
        query = parse_qs(urlsplit(url).query)
        cursor = int(query["cursor"][0])
        self.calls.append((query["keyword"][0], query["cursor"][0]))
        chunk = self.items[cursor : cursor + self.size]
        end = cursor + len(chunk)
        return douyin_page(*chunk, has_more=int(end < len(self.items)), cursor=end)


def test_fetch_posts_follows_the_cursor(watch: Watch, now: datetime) -> None:
    client = CursorClient(now, total=7)
    job = FetchJob(watch=watch, platform="douyin", scheduled_at=now)
    result = fetch_posts(job, "http://p", client, now, max_pages=10)
    assert client.calls == [
        ("鲜味坊", "0"),
        ("鲜味坊", "3"),
        ("鲜味坊", "6"),
        ("XWF", "0"),
        ("XWF", "3"),
        ("XWF", "6"),
    ]
    assert result.matched == 7 and result.duplicates == 7 and result.pages_fetched == 6


def test_fetch_posts_stops_at_since_on_a_cursor_platform(watch: Watch, now: datetime) -> None:
    client = CursorClient(now, total=9)
    job = FetchJob(watch=watch, platform="douyin", scheduled_at=now)
    fetch_posts(job, "http://p", client, now, since=now - timedelta(minutes=6))
    # page 1 ends 5 minutes back (still after since), page 2 ends 8 minutes back: no page 3
    assert [c for k, c in client.calls if k == "鲜味坊"] == ["0", "3"]


# ------------------------------------------------------------------------------------------------
# Broken mappings: a clear error naming the field
# ------------------------------------------------------------------------------------------------


@pytest.fixture
def raw_mapping() -> dict[str, Any]:
    return json.loads((PROVIDERS_DIR / "douyin.json").read_text(encoding="utf-8"))


def _break(raw: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    broken = copy.deepcopy(raw)
    *parents, last = path.split(".")
    node = broken
    for name in parents:
        node = node[name]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return broken


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("post.author.id", "author.[", r"post\.author\.id: invalid JMESPath expression 'author\.\['"),
        ("response.items", "", r"response\.items: empty JMESPath expression"),
        ("post.post_id", KeyError, r"post\.post_id: Field required"),
        ("post.created_at_format", "epoch_us", r"post\.created_at_format: Input should be 'epoch_s'"),
        (
            "post.author.nickname",
            "author.nickname",
            r"post\.author\.nickname: Extra inputs are not permitted",
        ),
        (
            "request.path",
            "/search?q={keyword}&cursor={cursor}&x={token}",
            r"unknown placeholder\(s\) \['token'\]",
        ),
        ("request.path", "/search?cursor={cursor}", r"path: needs \{keyword\}"),
        ("request.path", "/search?q={keyword}", r"paging 'cursor' needs \{cursor\}"),
        ("request.path", "search?q={keyword}&c={cursor}", r"must start with '/'"),
        ("response.next_cursor", KeyError, r"response\.next_cursor: needed with request\.paging 'cursor'"),
        ("response.ok_status", [], r"response\.ok_status: List should have at least 1 item"),
        ("post.url_template", "https://x/{id}", r"url_template: only \{post_id\} is known"),
        ("platform", "Douyin!", r"platform: String should match pattern"),
    ],
)
def test_a_broken_mapping_names_the_field(
    raw_mapping: dict[str, Any], path: str, value: Any, message: str
) -> None:
    with pytest.raises(ProviderMappingError, match=r"^douyin\.json: .*" + message):
        parse_mapping(_break(raw_mapping, path, value), "douyin.json")


def test_mapping_files_are_checked_at_load(tmp_path: Path, raw_mapping: dict[str, Any]) -> None:
    with pytest.raises(ProviderMappingError, match="no shipped provider mapping 'kuaishou'"):
        load_provider("kuaishou")
    bad_json = tmp_path / "kuaishou.json"
    bad_json.write_text("{not json", encoding="utf-8")
    with pytest.raises(ProviderMappingError, match="kuaishou.json: not JSON"):
        load_provider(bad_json)
    with pytest.raises(ProviderMappingError, match="cannot read"):
        load_provider(tmp_path / "missing.json")
    good = tmp_path / "kuaishou.json"
    good.write_text(json.dumps(raw_mapping | {"platform": "kuaishou"}), encoding="utf-8")
    assert load_provider(str(good)).platform == "kuaishou"


def test_credentials_need_an_auth_header(raw_mapping: dict[str, Any]) -> None:
    adapter = ProviderAdapter(parse_mapping(_break(raw_mapping, "request.auth_header", None)))
    with pytest.raises(ProviderMappingError, match="names no request.auth_header"):
        adapter.with_credentials("key")


@pytest.mark.parametrize(
    ("value", "offset", "expected"),
    [
        ("2026-11-20T23:00:00+08:00", 8, datetime(2026, 11, 20, 15, 0, tzinfo=UTC)),
        ("2026-11-20 23:00:00", 8, datetime(2026, 11, 20, 15, 0, tzinfo=UTC)),  # naive: China time
        ("2026-11-20T15:00:00Z", 8, datetime(2026, 11, 20, 15, 0, tzinfo=UTC)),
        ("2026-11-20 15:00:00", 0, datetime(2026, 11, 20, 15, 0, tzinfo=UTC)),
    ],
)
def test_iso_times(
    raw_mapping: dict[str, Any], watch: Watch, now: datetime, value: str, offset: int, expected: datetime
) -> None:
    raw = _break(raw_mapping, "post.created_at_format", "iso8601")
    raw["post"]["naive_utc_offset_hours"] = offset
    adapter = ProviderAdapter(parse_mapping(raw))
    (post,) = adapter.parse_search_page(
        douyin_page(aweme(create_time=value), has_more=0), watch, now, now
    ).posts
    assert post.created_at == expected


def test_an_unreadable_iso_time_is_skipped(raw_mapping: dict[str, Any], watch: Watch, now: datetime) -> None:
    adapter = ProviderAdapter(parse_mapping(_break(raw_mapping, "post.created_at_format", "iso8601")))
    result = adapter.parse_search_page(douyin_page(aweme(create_time="昨天"), has_more=0), watch, now, now)
    assert result.posts == [] and "created_at: not an ISO 8601 time" in result.skipped[0]
