"""News feeds: RSS 2.0 and Atom search feeds, read with feedparser. The platform is "news".

The job's base URL is a feed URL template with ``{keyword}``, e.g.
``https://news.example.com/rss/search?q={keyword}&hl=zh-CN`` (the keyword is url-encoded into
it). A base URL without ``{keyword}`` is a host, and ``/rss/search?q={keyword}`` is appended (the
form the local simulator serves). A feed has no pages: one request per keyword, ``has_more`` False.

Entries become posts: ``post_id`` is the entry's id (RSS ``guid``, Atom ``id``) or a hash of its
link; ``text`` is the title and the summary (HTML stripped); ``created_at`` is ``published`` or
``updated`` (the fetch time when the entry has neither); ``url`` the link; the author is the entry's
author, else its ``<source>``, else the feed's title. Engagement is unknown (zeros).

A body that is not a feed (HTML, JSON, a truncated document) raises ``MalformedResponse``: feedparser
sets its ``bozo`` flag; with no entries, or when the document stops before its closing root tag
(a truncated answer whose missing entries we must not silently drop), we refuse the page and the
job is retried. Other bozo complaints (a wrong charset declaration, an undefined entity) with
entries are read leniently, as feed readers do.
"""

from __future__ import annotations

import hashlib
import time
import xml.sax
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import feedparser

from crisiswatch.ingest.bounds import first_items
from crisiswatch.ingest.errors import MalformedResponse, excerpt
from crisiswatch.ingest.fields import html_to_text, join_text
from crisiswatch.ingest.platform import SearchPage
from crisiswatch.vocabulary import Author, Engagement, Post, Watch

PLATFORM = "news"
DEFAULT_PATH = "/rss/search?q={keyword}"
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
MAX_ID_LENGTH = 128
_CLOSING_TAGS = (b"</rss>", b"</feed>", b"</rdf:RDF>")
_ENTITY_DECLARATION = b"<!ENTITY"


def feed_url(base_url: str, keyword: str) -> str:
    """The feed to read for ``keyword``: the template with the keyword url-encoded, or the default
    search path on a bare host."""
    template = base_url if "{keyword}" in base_url else base_url.rstrip("/") + DEFAULT_PATH
    return template.replace("{keyword}", quote(keyword, safe=""))


def parse_feed(body: bytes) -> Any:
    """feedparser's reading of ``body``, or ``MalformedResponse`` when it is not a usable feed."""
    if not isinstance(body, bytes | bytearray):
        raise MalformedResponse(f"news feed: expected the raw body (bytes), got {type(body).__name__}")
    if _ENTITY_DECLARATION in body:
        # What defusedxml refuses too: entity declarations are how a tiny body expands into
        # millions of characters ("billion laughs": 848 bytes cost 1.4 s in expat before its
        # amplification limit stopped it). Feeds use the predefined entities and character
        # references only. (External entities are never fetched: xml.sax's default.)
        raise MalformedResponse(f"news feed: declares XML entities (refused); starts with {excerpt(body)!r}")
    # Bytes, never str: feedparser would take a str for a URL or a file name. No sanitizing:
    # html_to_text reads every HTML field as text anyway (tags and scripts dropped), and
    # feedparser's sanitizer is quadratic on repeated "<!--" in a summary (40,000 chars: 0.5 s).
    parsed = feedparser.parse(bytes(body), sanitize_html=False, resolve_relative_uris=False)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if not parsed.entries:
        if problem is not None or not parsed.get("version"):
            why = _describe(problem) if problem is not None else "no RSS or Atom root element"
            raise MalformedResponse(f"news feed: not a readable feed ({why}); starts with {excerpt(body)!r}")
        return parsed  # a well-formed feed with no entries: nothing found
    if isinstance(problem, xml.sax.SAXException) and not body.rstrip().endswith(_CLOSING_TAGS):
        raise MalformedResponse(
            f"news feed: truncated ({_describe(problem)}); {len(parsed.entries)} entries before the cut"
        )
    return parsed


def _describe(problem: Any) -> str:
    return excerpt(f"{type(problem).__name__}: {problem}", 100)


def _text(detail: Any, value: str) -> str:
    kind = (detail or {}).get("type", "text/html") if isinstance(detail, dict) else "text/html"
    return html_to_text(value) if "html" in kind else " ".join(value.split())


def _time(struct: time.struct_time | None) -> datetime | None:
    if not struct:
        return None
    return datetime(*struct[:6], tzinfo=UTC)  # feedparser normalizes to UTC


def entry_id(entry: Any) -> str:
    """The entry's own id, or a hash of its link; ValueError when it has neither."""
    ident = (entry.get("id") or "").strip()
    link = (entry.get("link") or "").strip()
    basis = ident or link
    if not basis:
        raise ValueError("entry has neither id/guid nor link")
    if ident and len(ident) <= MAX_ID_LENGTH:
        return ident
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def to_post(entry: Any, feed: Any, watch: Watch, fetched_at: datetime, now: datetime) -> Post:
    """One entry as a Post. Raises ValueError when it cannot be."""
    post_id = entry_id(entry)
    title = _text(entry.get("title_detail"), entry.get("title") or "")
    summary_value = entry.get("summary") or ""
    summary_detail = entry.get("summary_detail")
    if not summary_value and entry.get("content"):
        summary_value = entry.content[0].get("value") or ""
        summary_detail = entry.content[0]
    text = join_text(title, _text(summary_detail, summary_value))
    if not text:
        raise ValueError("entry has neither title nor summary")
    source = entry.get("source") or {}
    link = (entry.get("link") or "").strip()
    author = (
        (entry.get("author") or "").strip()
        or (source.get("title") or "").strip()
        or (feed.get("title") or "").strip()
        or (urlsplit(link).hostname or "")
    )
    created = _time(entry.get("published_parsed")) or _time(entry.get("updated_parsed")) or now
    return Post(
        platform=PLATFORM,
        post_id=post_id,
        url=link,
        author=Author(id=author, name=author),
        text=text,
        created_at=min(created, now),
        engagement=Engagement(),
        fetched_at=fetched_at,
        watch_id=watch.id,
    )


def parse_search_page(body: Any, watch: Watch, fetched_at: datetime, now: datetime) -> SearchPage:
    """A feed's entries as posts of ``watch``, in feed order; entries that cannot be read are
    skipped with a reason. Raises ``MalformedResponse`` for a body that is not a usable feed."""
    parsed = parse_feed(body)
    posts: list[Post] = []
    skipped: list[str] = []
    entries, over = first_items(parsed.entries)
    for i, entry in enumerate(entries):
        try:
            posts.append(to_post(entry, parsed.feed, watch, fetched_at, now))
        except ValueError as e:
            ident = entry.get("id") or entry.get("link")
            label = f"entry {i}" + (f" ({excerpt(ident, 40)})" if ident else "")
            skipped.append(f"{label}: {e}")
    return SearchPage(posts=posts, has_more=False, skipped=skipped, items_over_limit=over)


class FeedAdapter:
    """RSS/Atom search feeds. ``body = "bytes"``: ``fetch_posts`` hands us the raw body."""

    platform = PLATFORM
    first_page = 1
    body = "bytes"

    def __init__(self, headers: Mapping[str, str] | None = None) -> None:
        self.extra_headers = dict(headers or {})

    def search_url(self, base_url: str, keyword: str, page: int) -> str:
        return feed_url(base_url, keyword)

    def headers(self, base_url: str, keyword: str) -> dict[str, str]:
        return {"Accept": FEED_ACCEPT, **self.extra_headers}

    def parse_search_page(
        self, payload: Any, watch: Watch, fetched_at: datetime, now: datetime
    ) -> SearchPage:
        return parse_search_page(payload, watch, fetched_at, now)
