"""How the simulator writes the scenario's items in each platform's format (besides Weibo's, in server.py).

Each function takes the search hits (newest first) and returns the decoded body: a dict for the JSON
formats, bytes for the feeds. Paging follows each platform: Bilibili and Xiaohongshu count pages
from 1, Douyin (through the provider) sends an offset cursor. ``repeat`` prepends the last
``repeat`` items of the previous page (what a real platform does when new items arrive between two
page requests): duplicates across pages, nothing lost.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape
from typing import Any
from urllib.parse import quote
from xml.sax.saxutils import escape as xml_escape

from .channels import SimItem

CHINA_TZ = timezone(timedelta(hours=8))
NEWS_HOST = "https://news.sim.local"


def _window(hits: Sequence[SimItem], start: int, size: int, repeat: int) -> list[SimItem]:
    return list(hits[max(0, start - repeat) : start + size])


def _created(item: SimItem, current: int, now: float) -> float:
    return now - item.age_seconds(current)


def display_count(n: int) -> str:
    """How Xiaohongshu shows a counter: "856", "1.2万"."""
    return f"{n / 10_000:.1f}".removesuffix(".0") + "万" if n >= 10_000 else str(n)


# --------------------------------------------------------------------------------------------------
# Bilibili: /x/web-interface/search/type?search_type=video&keyword=&page=&order=pubdate
# --------------------------------------------------------------------------------------------------


def _highlight(text: str, keyword: str) -> str:
    html = escape(text, quote=False)
    if not keyword.strip():
        return html
    pattern = re.compile(re.escape(escape(keyword, quote=False)), re.IGNORECASE)
    return pattern.sub(lambda m: f'<em class="keyword">{m.group(0)}</em>', html)


def bilibili_page(
    hits: Sequence[SimItem], keyword: str, page: int, size: int, current: int, now: float, repeat: int = 0
) -> dict[str, Any]:
    start = (page - 1) * size
    chunk = _window(hits, start, size, repeat) if page >= 1 else []
    num_pages = -(-len(hits) // size)
    result = []
    for item in chunk:
        views, likes, comments, shares = item.counts_at(current)
        result.append(
            {
                "type": "video",
                "id": item.aid,
                "author": item.user.screen_name,
                "mid": item.user.id,
                "typeid": "76",
                "typename": "美食制作",
                "arcurl": f"http://www.bilibili.com/video/av{item.aid}",
                "aid": item.aid,
                "bvid": item.id,
                "title": _highlight(item.title, keyword),
                "description": item.body,
                "arcrank": "0",
                "pic": f"//i0.hdslb.com/bfs/archive/{item.aid}.jpg",
                "play": views,
                "video_review": comments * 3,
                "favorites": shares,
                "tag": "美食,探店,吃货",
                "review": comments,
                "pubdate": int(_created(item, current, now)),
                "senddate": int(_created(item, current, now)) + 30,
                "duration": f"{3 + item.aid % 9}:{item.aid % 60:02d}",
                "like": likes,
                "danmaku": comments * 3,
            }
        )
    return {
        "code": 0,
        "message": "0",
        "ttl": 1,
        "data": {
            "seid": str(1_000_000 + len(hits)),
            "page": page,
            "pagesize": size,
            "numResults": len(hits),
            "numPages": num_pages,
            "result": result,
        },
    }


# --------------------------------------------------------------------------------------------------
# News: RSS 2.0 (/rss/search?q=) and Atom (/atom/search?q=)
# --------------------------------------------------------------------------------------------------


def article_url(item: SimItem) -> str:
    return f"{NEWS_HOST}/article/{item.id}.html"


def _outlet_url(item: SimItem) -> str:
    slug = hashlib.sha256(item.user.screen_name.encode()).hexdigest()[:8]
    return f"https://{slug}.news.sim.local"


def _body_html(body: str) -> str:
    return "".join(f"<p>{escape(line, quote=False)}</p>" for line in body.split("\n") if line.strip())


def rss(hits: Sequence[SimItem], keyword: str, current: int, now: float, base_url: str) -> bytes:
    built = format_datetime(datetime.fromtimestamp(now, CHINA_TZ))
    items = []
    for item in hits:
        url = article_url(item)
        guid = f'<guid isPermaLink="true">{url}</guid>' if item.has_guid else ""
        published = format_datetime(datetime.fromtimestamp(_created(item, current, now), CHINA_TZ))
        items.append(
            f"<item><title>{xml_escape(item.title)}</title><link>{url}</link>{guid}"
            f"<pubDate>{published}</pubDate>"
            f"<description>{xml_escape(_body_html(item.body))}</description>"
            f'<source url="{_outlet_url(item)}">{xml_escape(item.user.screen_name)}</source></item>'
        )
    q = quote(keyword, safe="")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>“{xml_escape(keyword)}” - 新闻搜索</title><link>{base_url}/news/search?q={q}</link>"
        f"<description>新闻搜索结果</description><language>zh-cn</language>"
        f"<lastBuildDate>{built}</lastBuildDate>" + "".join(items) + "</channel></rss>\n"
    ).encode()


def atom(hits: Sequence[SimItem], keyword: str, current: int, now: float, base_url: str) -> bytes:
    def iso(ts: float) -> str:
        return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")

    entries = []
    for item in hits:
        url = article_url(item)
        created = _created(item, current, now)
        entries.append(
            f'<entry><title type="text">{xml_escape(item.title)}</title><id>{url}</id>'
            f'<link rel="alternate" href="{url}"/><published>{iso(created)}</published>'
            f"<updated>{iso(created)}</updated><author><name>{xml_escape(item.user.screen_name)}</name></author>"
            f'<summary type="html">{xml_escape(_body_html(item.body))}</summary></entry>'
        )
    q = quote(keyword, safe="")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>“{xml_escape(keyword)}” - 新闻搜索</title><id>{base_url}/atom/search?q={q}</id>"
        f'<link rel="self" href="{base_url}/atom/search?q={q}"/><updated>{iso(now)}</updated>'
        + "".join(entries)
        + "</feed>\n"
    ).encode()


# --------------------------------------------------------------------------------------------------
# Douyin through a data provider: /douyin/v1/search/video?keyword=&cursor=&count=&sort_type=2
# --------------------------------------------------------------------------------------------------


def douyin_page(
    hits: Sequence[SimItem], cursor: int, size: int, current: int, now: float, repeat: int = 0
) -> dict[str, Any]:
    chunk = _window(hits, cursor, size, repeat)
    end = cursor + size
    aweme_list = []
    for item in chunk:
        views, likes, comments, shares = item.counts_at(current)
        user = item.user
        aweme_list.append(
            {
                "aweme_id": item.id,
                "desc": item.body,
                "create_time": int(_created(item, current, now)),
                "aweme_type": 0,
                "author": {
                    "uid": str(user.id),
                    "short_id": str(user.id % 1_000_000_000),
                    "nickname": user.screen_name,
                    "follower_count": user.followers,
                    "custom_verify": "美食自媒体" if user.verified else "",
                },
                "statistics": {
                    "digg_count": likes,
                    "comment_count": comments,
                    "share_count": shares,
                    "play_count": views,
                    "collect_count": shares // 2,
                },
                "share_url": f"https://www.iesdouyin.com/share/video/{item.id}/",
            }
        )
    more = end < len(hits)
    return {
        "code": 0,
        "message": "success",
        "data": {"aweme_list": aweme_list or None, "has_more": 1 if more else 0, "cursor": end},
    }


# --------------------------------------------------------------------------------------------------
# Xiaohongshu through a data provider: /xiaohongshu/v1/search/notes?keyword=&page=&page_size=
# --------------------------------------------------------------------------------------------------


def xiaohongshu_page(
    hits: Sequence[SimItem], keyword: str, page: int, size: int, current: int, now: float, repeat: int = 0
) -> dict[str, Any]:
    start = (page - 1) * size
    chunk = _window(hits, start, size, repeat) if page >= 1 else []
    items: list[dict[str, Any]] = []
    for item in chunk:
        _, likes, comments, shares = item.counts_at(current)
        items.append(
            {
                "id": item.id,
                "model_type": "note",
                "xsec_token": "AB" + item.id[:12],
                "note_card": {
                    "type": "normal",
                    "display_title": item.title,
                    "title": item.title,
                    "desc": item.body,
                    "time": int(_created(item, current, now) * 1000),
                    "user": {
                        "user_id": f"{item.user.id:024x}",
                        "nickname": item.user.screen_name,
                        "red_official_verified": item.user.verified,
                    },
                    "interact_info": {
                        "liked": False,
                        "liked_count": display_count(likes),
                        "comment_count": display_count(comments),
                        "collected_count": display_count(shares * 2),
                        "share_count": display_count(shares),
                    },
                },
            }
        )
    if page == 1 and items:
        # Not a note: the search box's related queries, mixed into the first page as on the site.
        items.insert(
            min(2, len(items)),
            {"id": f"hq{len(hits)}", "model_type": "hot_query", "hot_query": {"queries": [keyword + "最新"]}},
        )
    return {
        "success": True,
        "msg": "成功",
        "code": 0,
        "data": {"items": items, "has_more": start + size < len(hits)},
    }
