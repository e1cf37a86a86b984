"""What every platform adapter provides, and what one page of search results looks like.

Adding a platform means writing one module with an adapter object that satisfies
``PlatformAdapter`` and registering it (see ``crisiswatch.ingest.adapters.register_adapter``); the paging,
de-duplication and matching loop in ``crisiswatch.ingest.fetching.fetch_posts`` stays as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from crisiswatch.vocabulary import Post, Watch


@dataclass(frozen=True)
class SearchPage:
    """One page of a platform's search results, normalized.

    ``posts`` may contain the same post twice (a post and a repost of it both carry the original)
    and posts the watch does not match: the caller de-duplicates and matches. ``skipped`` holds one
    human-readable reason per item that could not be read (the rest of the page is kept).
    ``next_cursor`` is handed back to ``search_url`` for the next page by cursor-paged platforms.
    ``items_over_limit``: items past PLATFORM_ITEMS_PER_PAGE_MAX that were not read
    (``crisiswatch.ingest.bounds.first_items``); the caller logs and counts them.
    """

    posts: list[Post]
    has_more: bool
    skipped: list[str] = field(default_factory=list)
    # For platforms that page with an opaque cursor instead of page numbers: what to send for the
    # next page (None: page numbers are enough).
    next_cursor: str | None = None
    items_over_limit: int = 0


class PlatformAdapter(Protocol):
    """Speaks one platform's search API.

    Optional, read with ``getattr`` so that simple adapters need not declare them:

    - ``body``: ``"json"`` (the default: the payload is decoded JSON, fetched with
      ``client.get_json``) or ``"bytes"`` (the raw body, fetched with ``client.get_bytes``: XML feeds);
    - ``search_url(..., cursor=...)``: adapters of cursor-paged platforms accept the previous page's
      ``SearchPage.next_cursor`` as a keyword argument (it is only passed when there is one).
    """

    platform: str
    first_page: int

    def search_url(self, base_url: str, keyword: str, page: int) -> str: ...

    def headers(self, base_url: str, keyword: str) -> dict[str, str]: ...

    def parse_search_page(
        self, payload: Any, watch: Watch, fetched_at: datetime, now: datetime
    ) -> SearchPage: ...


def fetch_payload(
    adapter: PlatformAdapter,
    client: Any,
    base_url: str,
    keyword: str,
    page: int,
    *,
    cursor: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """Request one search page the way ``adapter`` wants it: JSON (``client.get_json``) or the raw
    body (``client.get_bytes``), with the cursor of the previous page when there is one."""
    if cursor is None:
        url = adapter.search_url(base_url, keyword, page)
    else:
        url = adapter.search_url(base_url, keyword, page, cursor=cursor)  # type: ignore[call-arg]
    if getattr(adapter, "body", "json") == "bytes":
        return client.get_bytes(url, headers=headers)
    return client.get_json(url, headers=headers)
