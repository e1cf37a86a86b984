"""Recorded Weibo cascades (THU CED, flattened as in ``../shared/data/streams/ced``) as what the
simulator serves: each source post and repost becomes a Weibo mblog, visible once simulated time
passes its ``time_epoch``.

    events = select_events(read_events("events.csv.gz"), limit=20)
    replay = ReplayScenario.build(events, read_posts("posts.csv.gz", events))
    with PlatformSimulator(replay, clock=lambda: replay.now_at(sim.current_tick)) as sim:
        sim.advance(replay.next_tick(sim.current_tick) - sim.current_tick)

Files (gzip CSV, read with ``csv`` as a stream): ``events.csv.gz`` has one row per event (the source
post, its author's followers, the final counts); ``posts.csv.gz`` one row per post, the rows of an
event together and in time order (``kind`` source | repost, ``parent`` = the reposted repost's mid
for depth >= 2). ``read_posts`` keeps only the selected events' rows and stops reading once the last
of them is behind it.

The simulated clock starts at the first selected post. Tick ``t`` (2 simulated minutes, like the
scenario's) ends at ``start + (t + 1) * 120``; a post is visible from the tick its ``time_epoch``
falls in, and its age at tick ``t`` is exactly ``now_at(t) - time_epoch``, so ``created_at``
("N分钟前") is relative to the *simulated* now. Events are merged by absolute time.

What the recording lacks is filled in plainly: Weibo ids from the base62 mids (Weibo's own
mid-to-id mapping); screen names from the uids; reposts have no follower counts (0); an empty
repost text is Weibo's "转发微博"; a repost of a repost carries ``//@parent:parent's text`` (at most
three deep) and points at the source as ``retweeted_status``, as Weibo does. A source post's
reposts, comments and likes grow with the share of its recorded reposts visible so far, up to the
final counts of the events file.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import logging
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from .scenario import TICK_SECONDS, SimPost, SimUser, render_html

CHINA_TZ = timezone(timedelta(hours=8))
EVENT_COLUMNS = (
    "event_id",
    "label",
    "source_mid",
    "author_uid",
    "time_epoch",
    "time_cst",
    "text",
    "reposts",
    "comments",
    "likes",
    "pics",
    "has_url",
    "source_client",
    "user_followers",
    "user_friends",
    "user_messages",
    "user_verified",
    "user_verified_type",
    "user_gender",
    "user_location",
    "user_created_epoch",
    "n_repost_records",
    "n_repost_records_with_text",
    "first_repost_offset_s",
    "last_repost_offset_s",
    "max_depth",
)
POST_COLUMNS = (
    "event_id",
    "label",
    "kind",
    "mid",
    "parent",
    "depth",
    "uid",
    "time_epoch",
    "time_cst",
    "offset_s",
    "text",
)
EMPTY_REPOST = "转发微博"  # what Weibo shows for a repost without a text of its own
MAX_CHAIN = 3  # //@ levels kept in a repost's text
_BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Words too common in rumours to stand for a topic when keywords are derived.
STOP_NOUNS = frozenset(
    {
        "微博",
        "网友",
        "转发",
        "大家",
        "朋友",
        "消息",
        "时候",
        "现在",
        "今天",
        "昨天",
        "明天",
        "东西",
        "事情",
        "问题",
        "情况",
        "人们",
        "人民",
        "视频",
        "图片",
        "原文",
        "全文",
        "地址",
        "链接",
        "网页",
        "信息",
        "记者",
        "男子",
        "女子",
        "孩子",
        "有人",
        "地方",
        "事件",
        "评论",
    }
)


@dataclass(frozen=True)
class CedEvent:
    """One row of ``events.csv.gz``: the source post, its author and the final counts."""

    event_id: str
    label: str
    source_mid: str
    author_uid: str
    time_epoch: int
    text: str
    reposts: int
    comments: int
    likes: int
    user_followers: int
    user_verified: bool
    user_verified_type: int
    n_repost_records: int

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.time_epoch, CHINA_TZ)


@dataclass(frozen=True)
class CedPost:
    """One row of ``posts.csv.gz``."""

    event_id: str
    kind: str  # source | repost
    mid: str
    parent: str
    depth: int
    uid: str
    time_epoch: int
    offset_s: int
    text: str
    # Optional columns after CED's (real search results carry every reposter's; CED drops them):
    # None is unknown, not zero.
    followers: int | None = None
    verified_type: int | None = None


OPTIONAL_POST_COLUMNS = ("user_followers", "user_verified_type")


def _optional_int(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(float(value))
    except ValueError:
        return None


def _int(value: str, default: int = 0) -> int:
    try:
        return int(float(value))
    except ValueError:
        return default


def _rows(path: str | Path, columns: Sequence[str], optional: Sequence[str] = ()) -> Iterator[list[str]]:
    """The data rows of a gzip CSV, checked to have ``columns`` (in any order), as lists in
    ``columns`` order, then the ``optional`` columns ("" where the file has none)."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        missing = [c for c in columns if header is None or c not in header]
        if missing:
            raise ValueError(f"{path}: not in the CED format, missing columns {', '.join(missing)}")
        index = [header.index(c) for c in columns]  # type: ignore[union-attr]
        extra = [header.index(c) if c in header else None for c in optional]  # type: ignore[union-attr]
        for row in reader:
            if len(row) == len(header):  # type: ignore[arg-type]
                yield [row[i] for i in index] + ["" if i is None else row[i] for i in extra]


def read_events(path: str | Path) -> list[CedEvent]:
    """Every event of ``events.csv.gz`` (3,387 rows: small), in file order."""
    cols = EVENT_COLUMNS
    events = []
    for row in _rows(path, cols):
        r = dict(zip(cols, row, strict=True))
        events.append(
            CedEvent(
                event_id=r["event_id"],
                label=r["label"],
                source_mid=r["source_mid"],
                author_uid=r["author_uid"],
                time_epoch=_int(r["time_epoch"]),
                text=r["text"],
                reposts=_int(r["reposts"]),
                comments=_int(r["comments"]),
                likes=_int(r["likes"]),
                user_followers=_int(r["user_followers"]),
                user_verified=r["user_verified"].strip().lower() == "true",
                user_verified_type=_int(r["user_verified_type"], -1),
                n_repost_records=_int(r["n_repost_records"]),
            )
        )
    return events


def parse_moment(value: str) -> datetime:
    """An ISO date or date-time; China time when it names no zone."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA_TZ)


def select_events(
    events: Iterable[CedEvent],
    *,
    event_ids: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
) -> list[CedEvent]:
    """The events to replay, earliest source post first: those named (all when none are), whose
    source post is at or after ``since`` and before ``until``, the first ``limit`` of them."""
    wanted = set(event_ids) if event_ids else None
    chosen = [
        e
        for e in events
        if (wanted is None or e.event_id in wanted)
        and (since is None or e.time_epoch >= since.timestamp())
        and (until is None or e.time_epoch < until.timestamp())
    ]
    if wanted is not None:
        unknown = wanted - {e.event_id for e in chosen}
        if unknown and since is None and until is None:
            raise ValueError(f"unknown event ids: {', '.join(sorted(unknown))}")
    chosen.sort(key=lambda e: (e.time_epoch, e.event_id))
    return chosen[:limit] if limit is not None else chosen


def read_posts(
    path: str | Path, events: Iterable[CedEvent], *, hours: float | None = None
) -> Iterator[CedPost]:
    """The selected events' rows of ``posts.csv.gz``, streamed; ``hours``: only each cascade's
    first hours. The file keeps an event's rows together, so reading stops after the last one."""
    remaining = {e.event_id for e in events}
    limit = None if hours is None else hours * 3600
    current = None
    for event_id, kind, mid, parent, depth, uid, time_epoch, offset_s, text, followers, verified in _rows(
        path,
        ("event_id", "kind", "mid", "parent", "depth", "uid", "time_epoch", "offset_s", "text"),
        OPTIONAL_POST_COLUMNS,
    ):
        if event_id != current:
            remaining.discard(current)  # type: ignore[arg-type]
            if not remaining:
                return
            current = event_id
        if event_id not in remaining:
            continue
        offset = _int(offset_s)
        if limit is not None and offset > limit:
            continue
        yield CedPost(
            event_id,
            kind,
            mid,
            parent,
            _int(depth),
            uid,
            _int(time_epoch),
            offset,
            text,
            _optional_int(followers),
            _optional_int(verified),
        )


def mid_to_id(mid: str) -> str:
    """Weibo's numeric id for a base62 mid ("yBmepBtUB" -> "3488..."): groups of four characters
    from the right, each a base62 number written as seven digits. A numeric mid is kept; anything
    else gets a stable number of its own."""
    if mid.isdigit():
        return mid
    if mid and all(c in _BASE62 for c in mid):
        groups = [mid[max(0, end - 4) : end] for end in range(len(mid), 0, -4)][::-1]
        numbers = []
        for group in groups:
            n = 0
            for c in group:
                n = n * 62 + _BASE62.index(c)
            numbers.append(n)
        return str(numbers[0]) + "".join(f"{n:07d}" for n in numbers[1:])
    return str(9_000_000_000_000_000 + int(hashlib.blake2b(mid.encode(), digest_size=6).hexdigest(), 16))


def _user_id(uid: str) -> int:
    if uid.isdigit():
        return int(uid)
    return 1_000_000_000 + int(hashlib.blake2b(uid.encode(), digest_size=6).hexdigest(), 16) % 9_000_000_000


def _screen_name(uid: str) -> str:
    return f"用户{uid}" if uid.isdigit() else uid


@dataclass(frozen=True)
class ReplayPost(SimPost):
    """A recorded post, served as a scenario post. ``counts_at`` follows its recorded reposts."""

    event_id: str = ""
    time_epoch: int = 0
    final: tuple[int, int, int] = (0, 0, 0)  # reposts, comments, likes at the end of the recording
    known_followers: bool = True  # False: the recording lacks them (served as 0)
    repost_ticks: tuple[int, ...] = ()  # the ticks its recorded reposts appear in, sorted
    records: int = 0  # how many repost records the recording has in all

    def counts_at(self, tick: int) -> tuple[int, int, int]:
        if not self.records:
            return self.final
        share = min(1.0, bisect_right(self.repost_ticks, tick) / self.records)
        return tuple(int(n * share) for n in self.final)  # type: ignore[return-value]


@dataclass
class ReplayScenario:
    """Selected cascades merged by absolute time, as an item source for ``PlatformSimulator``:
    Weibo posts only (the other platforms serve nothing in a replay)."""

    start: int  # epoch seconds: the first post's time; tick 0 is [start, start + 120)
    posts: list[ReplayPost]  # oldest first
    events: list[CedEvent]
    by_id: dict[str, ReplayPost] = field(repr=False, default_factory=dict)
    _ticks: list[int] = field(repr=False, default_factory=list)
    _matching: dict[str, tuple[list[ReplayPost], list[int]]] = field(repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.posts}
        self._ticks = [p.tick for p in self.posts]

    @classmethod
    def build(cls, events: Sequence[CedEvent], posts: Iterable[CedPost]) -> ReplayScenario:
        if not events:
            raise ValueError("no events selected")
        by_event: dict[str, list[CedPost]] = {e.event_id: [] for e in events}
        for post in posts:
            if post.kind == "repost" and post.event_id in by_event:
                by_event[post.event_id].append(post)
        start = min(
            [e.time_epoch for e in events] + [p.time_epoch for rows in by_event.values() for p in rows]
        )
        built: list[ReplayPost] = []
        for event in events:
            built.extend(_event_posts(event, by_event[event.event_id], start))
        built.sort(key=lambda p: (p.time_epoch, p.kind != "source", int(p.id)))
        return cls(start=start, posts=built, events=list(events))

    # -- the simulated clock --------------------------------------------------------------------
    def tick_of(self, epoch: int) -> int:
        return (epoch - self.start) // TICK_SECONDS

    def now_at(self, tick: int) -> int:
        """The simulated time (epoch seconds) once ``tick`` is visible: the end of that tick."""
        return self.start + (tick + 1) * TICK_SECONDS

    @property
    def last_tick(self) -> int:
        return self._ticks[-1] if self._ticks else -1

    def next_tick(self, current: int) -> int | None:
        """The first tick after ``current`` in which a post appears (None: the recording is over)."""
        i = bisect_right(self._ticks, current)
        return self._ticks[i] if i < len(self._ticks) else None

    # -- what the simulator serves --------------------------------------------------------------
    def visible_count(self, current: int) -> int:
        return bisect_right(self._ticks, current)

    def visible_posts(self, current: int) -> list[ReplayPost]:
        """The posts visible once ``current`` is, newest first (ties: the higher id first)."""
        return self.posts[: self.visible_count(current)][::-1]

    def visible_matching(
        self, key: str, matches: Callable[[ReplayPost], bool], current: int
    ) -> list[ReplayPost]:
        """``visible_posts(current)`` that ``matches``, without a scan: the posts matching ``key``
        (the caller's name for ``matches``) are found once, and a search reads a prefix of them."""
        found = self._matching.get(key)
        if found is None:
            posts = [p for p in self.posts if matches(p)]
            found = self._matching[key] = (posts, [p.tick for p in posts])
        posts, ticks = found
        return posts[: bisect_right(ticks, current)][::-1]

    def new_at(self, tick: int) -> list[ReplayPost]:
        return self.posts[bisect_right(self._ticks, tick - 1) : self.visible_count(tick)]

    # -- which topic to watch -------------------------------------------------------------------
    def frequent_terms(self, n: int = 3) -> list[str]:
        """``n`` nouns (jieba) of two or more characters that the most source posts use; ties go to
        the term whose events have the most posts."""
        import jieba
        import jieba.posseg  # only here: loading jieba's dictionary takes a second

        jieba.setLogLevel(logging.WARNING)

        size = Counter(p.event_id for p in self.posts)
        events_with: Counter[str] = Counter()
        posts_with: Counter[str] = Counter()
        for event in self.events:
            terms = {
                pair.word
                for pair in jieba.posseg.lcut(event.text)
                if pair.flag.startswith("n") and len(pair.word) >= 2 and pair.word not in STOP_NOUNS
            }
            terms = {t for t in terms if not t.isascii()}
            for term in terms:
                events_with[term] += 1
                posts_with[term] += size[event.event_id]
        ranked = sorted(events_with, key=lambda t: (-events_with[t], -posts_with[t], t))
        return ranked[:n]


def _event_posts(event: CedEvent, reposts: list[CedPost], start: int) -> list[ReplayPost]:
    source_id = mid_to_id(event.source_mid)
    repost_ticks = tuple(sorted((p.time_epoch - start) // TICK_SECONDS for p in reposts))
    posts = [
        _post(
            source_id,
            event,
            event.time_epoch,
            start,
            SimUser(
                id=_user_id(event.author_uid),
                screen_name=_screen_name(event.author_uid),
                followers=max(0, event.user_followers),
                verified=event.user_verified,
                verified_type=event.user_verified_type if event.user_verified else -1,
            ),
            event.text,
            "source",
            final=(event.reposts, event.comments, event.likes),
            repost_ticks=repost_ticks,
            records=max(event.n_repost_records, len(reposts)),
        )
    ]
    full_text: dict[str, tuple[str, str]] = {}  # mid -> (screen name, text as served)
    for row in sorted(reposts, key=lambda p: p.time_epoch):  # parents before their reposts
        name = _screen_name(row.uid)
        text = row.text.strip() or EMPTY_REPOST
        if row.parent and row.parent in full_text:
            parent_name, parent_text = full_text[row.parent]
            chained = f"{text}//@{parent_name}:{parent_text}"
            cut = _nth(chained, "//@", MAX_CHAIN + 1)
            text = chained if cut < 0 else chained[:cut]
        full_text[row.mid] = (name, text)
        user = SimUser(
            id=_user_id(row.uid),
            screen_name=name,
            followers=row.followers or 0,
            verified=(row.verified_type or -1) >= 0,
            verified_type=row.verified_type if row.verified_type is not None else -1,
        )
        posts.append(
            _post(
                mid_to_id(row.mid),
                event,
                row.time_epoch,
                start,
                user,
                text,
                "repost",
                source_id,
                known_followers=row.followers is not None,
            )
        )
    return posts


def _nth(text: str, needle: str, n: int) -> int:
    at = -1
    for _ in range(n):
        at = text.find(needle, at + 1)
        if at < 0:
            return -1
    return at


def _post(
    post_id: str,
    event: CedEvent,
    epoch: int,
    start: int,
    user: SimUser,
    text: str,
    kind: str,
    repost_of: str | None = None,
    *,
    final: tuple[int, int, int] = (0, 0, 0),
    repost_ticks: tuple[int, ...] = (),
    records: int = 0,
    known_followers: bool = True,
) -> ReplayPost:
    tick = (epoch - start) // TICK_SECONDS
    return ReplayPost(
        id=post_id,
        tick=tick,
        offset_seconds=start + (tick + 1) * TICK_SECONDS - epoch,  # 1..120 s before the tick's end
        user=user,
        text=text,
        html=render_html(text),
        kind=kind,
        about_brand=False,  # a recording has no brand labels
        repost_of=repost_of,
        event_id=event.event_id,
        time_epoch=epoch,
        final=final,
        repost_ticks=repost_ticks,
        records=records,
        known_followers=known_followers,
    )


def load_replay(
    events_path: str | Path,
    posts_path: str | Path,
    *,
    event_ids: Iterable[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int | None = None,
    hours: float | None = None,
) -> ReplayScenario:
    """Select events, read their posts and merge them by time (see ``select_events``, ``read_posts``)."""
    events = select_events(
        read_events(events_path), event_ids=event_ids, since=since, until=until, limit=limit
    )
    if not events:
        raise ValueError("no event matches the selection")
    return ReplayScenario.build(events, read_posts(posts_path, events, hours=hours))
