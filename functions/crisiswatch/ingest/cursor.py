"""Where a watch's fetching has reached on one platform, and what it already queued. Pure.

    cursor = store.get(watch_id, platform) or FetchCursor()
    since = cursor.since(overlap, default=job.since)
    queue = cursor.to_queue(fetched_posts, since)          # new posts, and known ones worth a refresh
    store.save(watch_id, platform, cursor.after(queue, overlap), now)

Each run pages back past the newest post already queued (the high-water mark) by an overlap, so
that posts the platform indexes late are still found. Without memory of the overlap, every run
queued its posts again: 90% of what the scorer received were posts it had stored. The cursor
remembers the overlap window's queued keys (with their creation time and the reposts + comments
they had), so a run queues only

- posts it has not queued before, and
- known posts whose reposts + comments grew by at least ``REFRESH_MIN_GROWTH`` and
  ``REFRESH_MIN_RATIO`` since they were last queued: the hot posts whose growth detection counts
  as velocity (the scorer adds what they gained to the current bucket). Growth below that waits
  for a later poll; it is not lost, since the scorer counts it against the last stored counters.

``brings_nothing`` tells the fetcher when to stop paging: a page whose posts are all known (or
older than the window) past the high-water mark covers ground an earlier run read.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from crisiswatch.vocabulary import Post

REFRESH_MIN_GROWTH = 10  # reposts + comments: a post gaining fewer between polls is not hot
REFRESH_MIN_RATIO = 0.1  # ... and at least this share of what it had (100 -> 110, 1,000 -> 1,100)
# A post's time as a platform shows it can come back later than first read: Weibo shows an age of
# 1-23 hours as "N小时前", rounded down, so a post first read to the minute may, an hour on, read up
# to an hour newer, back inside the window. The cursor keeps keys this much longer than the overlap
# (at most DRIFT_KEYS_MAX of them beyond it, newest first: a quiet watch's posts are few, and a
# busy watch's fetch stops paging long before it reaches hour-old posts).
TIME_DRIFT = timedelta(hours=1)
DRIFT_KEYS_MAX = 200
SEEN_MAX_BYTES = 300_000  # the stored keys, within DynamoDB's 400 KB item
# The stored form: per post, 8 bytes of its key's BLAKE2b digest, its creation time (epoch seconds)
# and its reposts + comments (each an unsigned 32-bit number), 16 bytes where the key as JSON took
# 40-60: a quiet watch's cursor fits one write unit (1 KB: about 55 posts). Two keys of one cursor
# sharing a digest (a chance of about n^2 / 2^65 for n keys, 1 in 10^11 for 20,000) would keep the
# second post from being queued until it grows; see docs/scale.md.
_ENTRY = struct.Struct(">8sII")
_UINT32_MAX = 2**32 - 1


def seen_key(post_key: str) -> bytes:
    """What the cursor remembers of a post key: 8 bytes of its BLAKE2b digest."""
    return hashlib.blake2b(post_key.encode("utf-8", errors="surrogatepass"), digest_size=8).digest()


def engagement_of(post: Post) -> int:
    return post.engagement.reposts + post.engagement.comments


@dataclass(frozen=True)
class Seen:
    """A post the cursor queued: its creation time (epoch seconds) and its reposts + comments then."""

    created: int
    engagement: int


@dataclass(frozen=True)
class FetchCursor:
    high_water: datetime | None = None  # the newest creation time queued
    # The overlap window's queued posts, by `seen_key` of their post keys.
    seen: dict[bytes, Seen] = field(default_factory=dict)
    version: int = 0  # the store's optimistic lock: a save expects the version it read

    def since(self, overlap: timedelta, default: datetime | None = None) -> datetime | None:
        """Page back to here: the high-water mark minus the overlap (first run: ``default``)."""
        return self.high_water - overlap if self.high_water else default

    def wants(self, post: Post, since: datetime | None) -> bool:
        """Queue this post? New in the window, or known and hot."""
        if since is not None and post.created_at < since:
            return False  # queued by an earlier run while it was in that run's window
        known = self.known(post.key)
        if known is None:
            return True
        grown = engagement_of(post) - known.engagement
        return grown >= REFRESH_MIN_GROWTH and grown >= REFRESH_MIN_RATIO * known.engagement

    def known(self, post_key: str) -> Seen | None:
        """What the cursor remembers of this post: when it was created and what it had when queued."""
        return self.seen.get(seen_key(post_key))

    def to_queue(self, posts: Iterable[Post], since: datetime | None) -> list[Post]:
        return [post for post in posts if self.wants(post, since)]

    def brings_nothing(self, kept: list[Post], reached: datetime, since: datetime | None) -> bool:
        """A page that reached back to ``reached`` (its oldest post), at or past the high-water
        mark, and whose matching posts (``kept``) hold nothing to queue: paging on would read what
        earlier runs read. (A post the platform indexed so late that a whole page of known posts
        came before it is not found: docs/ingest.md, "Fetch cursors".)"""
        if self.high_water is None or reached > self.high_water:
            return False
        return not any(self.wants(post, since) for post in kept)

    def after(self, queued: Iterable[Post], overlap: timedelta) -> FetchCursor:
        """The cursor once ``queued`` is on the queue: the mark moved to the newest, the window's
        keys kept (with what they had when queued), older ones forgotten."""
        queued = list(queued)
        if not queued:
            return self
        high_water = max([p.created_at for p in queued] + ([self.high_water] if self.high_water else []))
        seen = dict(self.seen)
        for post in queued:
            seen[seen_key(post.key)] = Seen(int(post.created_at.timestamp()), engagement_of(post))
        return FetchCursor(high_water, _window(seen, high_water - overlap), self.version)

    def merged(self, newer: FetchCursor, overlap: timedelta) -> FetchCursor:
        """This run's cursor over one another run saved meanwhile (``newer``): both runs' keys, the
        later mark, and the newer version to save over."""
        marks = [m for m in (self.high_water, newer.high_water) if m is not None]
        if not marks:
            return FetchCursor(version=newer.version)
        high_water = max(marks)
        seen = newer.seen | {key: s for key, s in self.seen.items() if key not in newer.seen}
        return FetchCursor(high_water, _window(seen, high_water - overlap), newer.version)

    # -- the stored form: packed entries, newest first (`_ENTRY`) ------------------------------

    def encode_seen(self, max_bytes: int = SEEN_MAX_BYTES) -> bytes:
        """The keys as stored, newest first, cut to ``max_bytes`` (a DynamoDB item stops at 400 KB;
        the keys left out are queued again if they come back: duplicates, never a loss)."""
        entries = sorted(self.seen.items(), key=lambda kv: (-kv[1].created, kv[0]))
        kept = entries[: max_bytes // _ENTRY.size]
        return b"".join(_ENTRY.pack(key, _uint32(s.created), _uint32(s.engagement)) for key, s in kept)

    @staticmethod
    def decode_seen(stored: bytes | str) -> dict[bytes, Seen]:
        """The stored keys; an unreadable value is read as none (its posts are queued again). A
        text is the form before digests (JSON ``[[key, created, engagement], ...]``), read too."""
        if isinstance(stored, str):
            try:
                return {
                    seen_key(str(key)): Seen(int(created), int(engagement))
                    for key, created, engagement in json.loads(stored)
                }
            except (ValueError, TypeError):
                return {}
        if len(stored) % _ENTRY.size:
            return {}
        return {key: Seen(created, engagement) for key, created, engagement in _ENTRY.iter_unpack(stored)}


def _uint32(value: int) -> int:
    return min(max(value, 0), _UINT32_MAX)


def _window(seen: dict[bytes, Seen], start: datetime) -> dict[bytes, Seen]:
    """The keys worth keeping for a window from ``start``: all from there on, and the newest
    DRIFT_KEYS_MAX of the TIME_DRIFT before it."""
    floor = int(start.astimezone(UTC).timestamp())
    drift_floor = floor - int(TIME_DRIFT.total_seconds())
    kept = {key: s for key, s in seen.items() if s.created >= floor}
    drifting = sorted(
        ((key, s) for key, s in seen.items() if drift_floor <= s.created < floor),
        key=lambda kv: -kv[1].created,
    )
    return kept | dict(drifting[:DRIFT_KEYS_MAX])
