"""What every platform adapter provides, and what one page of search results looks like.

Adding a platform means writing one module with an adapter object that satisfies
``PlatformAdapter`` and registering it (see ``crisiswatch.ingest.register_adapter``); the paging,
de-duplication and matching loop in ``crisiswatch.ingest.fetch_posts`` stays as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from crisiswatch.models import Post, Watch


@dataclass(frozen=True)
class SearchPage:
    """One page of a platform's search results, normalized.

    ``posts`` may contain the same post twice (a post and a repost of it both carry the original)
    and posts the watch does not match: the caller de-duplicates and matches. ``skipped`` holds one
    human-readable reason per item that could not be read (the rest of the page is kept).
    """

    posts: list[Post]
    has_more: bool
    skipped: list[str] = field(default_factory=list)


class PlatformAdapter(Protocol):
    """Speaks one platform's search API."""

    platform: str
    first_page: int

    def search_url(self, base_url: str, keyword: str, page: int) -> str: ...

    def headers(self, base_url: str, keyword: str) -> dict[str, str]: ...

    def parse_search_page(
        self, payload: Any, watch: Watch, fetched_at: datetime, now: datetime
    ) -> SearchPage: ...
