"""The pipeline's limits (crisiswatch.limits) where posts enter, seen and counted.

    items, over = first_items(page_items)      # an adapter: the rest of a long page is dropped
    SearchPage(posts, has_more, items_over_limit=over)
    counts = bounded_counts(posts, watch_id=..., platform=...)   # fetch and push: logged, then counted

The Post model does the cutting and clamping itself (crisiswatch.vocabulary.Post, which every adapter
and the push build); this module only makes it visible: one warning per batch with the first post
keys, and counts under the metric names below, which the handlers publish.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from aws_lambda_powertools import Logger

from crisiswatch.constants import SERVICE
from crisiswatch.limits import COUNTER_MAX, PLATFORM_ITEMS_PER_PAGE_MAX, POST_TEXT_MAX_CHARS
from crisiswatch.vocabulary import Post

logger = Logger(service=SERVICE, child=True)

# Metric names: posts whose text was cut, posts with a count clamped, page items dropped past the limit.
TEXTS_CUT, COUNTS_CLAMPED, PAGE_ITEMS_DROPPED = "PostTextsCut", "PostCountsClamped", "PageItemsDropped"
LOGGED_KEYS = 10  # post keys named per warning

T = TypeVar("T")


def first_items(items: Sequence[T], limit: int = PLATFORM_ITEMS_PER_PAGE_MAX) -> tuple[Sequence[T], int]:
    """The items of one page that are read, and how many past `limit` are dropped (the caller
    reports them: SearchPage.items_over_limit)."""
    return items[:limit], max(0, len(items) - limit)


def over_limit_reason(dropped: int, limit: int = PLATFORM_ITEMS_PER_PAGE_MAX) -> str:
    return f"{dropped} items past the first {limit} of the page dropped (PLATFORM_ITEMS_PER_PAGE_MAX)"


def bounded_counts(posts: Iterable[Post], **where: str) -> dict[str, int]:
    """How many of `posts` had their text cut and a count clamped (Post.bounded); each kind
    logged once, with where (watch, platform) and the first post keys."""
    cut, clamped, fields = [], [], set()
    for post in posts:
        bounded = post.bounded
        if "text" in bounded:
            cut.append(post.key)
        if counts := [name for name in bounded if name != "text"]:
            clamped.append(post.key)
            fields.update(counts)
    if cut:
        logger.warning(
            "post text cut",
            reason=f"longer than POST_TEXT_MAX_CHARS ({POST_TEXT_MAX_CHARS})",
            count=len(cut),
            post_keys=cut[:LOGGED_KEYS],
            **where,
        )
    if clamped:
        logger.warning(
            "post counts clamped",
            reason=f"over COUNTER_MAX ({COUNTER_MAX})",
            fields=sorted(fields),
            count=len(clamped),
            post_keys=clamped[:LOGGED_KEYS],
            **where,
        )
    return {TEXTS_CUT: len(cut), COUNTS_CLAMPED: len(clamped)}
