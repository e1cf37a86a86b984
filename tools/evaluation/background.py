"""The "ordinary chatter" the detection evaluation samples its background posts from: a gzip CSV in
the CED posts layout (``infra/local/simulator/cascades.py``), built from two kinds of real text.

    summary = build_background(ced / "events.csv.gz", ced / "posts.csv.gz", sentiment, out)
    posts = read_background(out)  # text, uid, followers, verified_type, source

or ``crisiswatch eval background --events E.csv.gz --posts P.csv.gz --sentiment-dir DIR --out B.csv.gz``.

What it is made of:

1. CED's small cascades: the events of ``events.csv.gz`` with fewer than ``max_cascade_posts``
   rows in ``posts.csv.gz`` (source included), their source post and every repost with a text of
   its own (a bare repost says nothing). The rows keep their CED columns; ``event_id`` becomes
   ``bg-ced-<event_id>``. A source post carries its author's followers and verified type from the
   events file, the verified type read as the replay serves it (``-1`` unless ``user_verified``);
   a repost's are unknown (empty), as the recording has none.
2. Ordinary complaints and remarks: reviews of ``waimai_10k.csv`` (food delivery) and
   ``online_shopping_10_cats.csv`` (products), negative and positive alike, at most
   ``reviews_per_file`` from each, drawn uniformly (so in each file's own proportion of negative
   ones) among the non-empty texts with a generator seeded by ``seed`` and the file's name, and cut
   to 280 characters. Each is a one-post event ``bg-review-<id>`` with no time (``time_epoch`` 0: the
   evaluation times background posts itself), a base62 mid and a uid (10 digits from 8,000,000,000,
   none of CED's) hashed from the review's id, followers drawn from the id too (lognormal, median
   150, sigma 1.5, clipped to 1..50,000: small accounts) and verified type -1.

Only ``seed`` picks which reviews; everything about a review follows from its id, and the same
inputs and seed give the same bytes.

The mix with the defaults (cascades of fewer than 200 posts, 3,000 reviews per file, seed 7) on
``../shared/data``, 84,390 rows, what docs/detection.md's figures were measured with:

- CED, 78,390 rows (92.9%): 993 of the 3,387 events, their 993 source posts and 77,397 reposts with
  words of their own (50,879 bare ones left out). Mostly what a brand's ordinary Weibo is: small
  stories that a few dozen people pass on.
- Reviews, 6,000 rows (7.1%), 3,469 of them (58%) negative: 3,000 food-delivery reviews, 1,969
  (65.6%) negative, and 3,000 product reviews, 1,500 (50%) negative: the ordinary complaints.

With fewer than 50 posts, only 41 events qualify (CED's cascades are mostly far bigger: the 10th
percentile is 112 rows), and the reviews would be 94% of the chatter.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import math
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from types import ModuleType
from typing import Any

# The CED posts layout (``cascades.POST_COLUMNS``, a test holds them equal) and the two optional
# columns after it.
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
OPTIONAL_COLUMNS = ("user_followers", "user_verified_type")
BACKGROUND_COLUMNS = (*POST_COLUMNS, *OPTIONAL_COLUMNS)
REVIEW_FILES = ("waimai_10k.csv", "online_shopping_10_cats.csv")
REVIEW_COLUMNS = ("id", "label", "text")
MAX_REVIEW_CHARS = 280
CED_PREFIX = "bg-ced-"
REVIEW_PREFIX = "bg-review-"
REVIEW_UID_BASE = 8_000_000_000  # CED's numeric uids stay below 6.1e9
FOLLOWERS_MEDIAN = 150
FOLLOWERS_SIGMA = 1.5
FOLLOWERS_RANGE = (1, 50_000)
_KIND, _TEXT = POST_COLUMNS.index("kind"), POST_COLUMNS.index("text")


@dataclass(frozen=True, slots=True)
class BackgroundPost:
    """One post the evaluation may sample: ``followers`` / ``verified_type`` None when unknown."""

    text: str
    uid: str
    followers: int | None
    verified_type: int | None
    source: str  # ced | review


@dataclass(frozen=True)
class ReviewSample:
    """What one review file gave: ``available`` non-empty reviews, ``rows`` taken, ``negative`` of them."""

    file: str
    available: int
    rows: int
    negative: int


@dataclass(frozen=True)
class BackgroundSummary:
    """How many rows each source gave."""

    ced_events: int  # small cascades taken
    ced_events_too_large: int
    ced_sources: int
    ced_reposts: int  # with a text of their own
    ced_reposts_without_text: int  # left out
    reviews: tuple[ReviewSample, ...]

    @property
    def ced_rows(self) -> int:
        return self.ced_sources + self.ced_reposts

    @property
    def review_rows(self) -> int:
        return sum(r.rows for r in self.reviews)

    @property
    def rows(self) -> int:
        return self.ced_rows + self.review_rows

    @property
    def review_negative_share(self) -> float:
        return _share(sum(r.negative for r in self.reviews), self.review_rows)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "ced": {
                "events": self.ced_events,
                "events_too_large": self.ced_events_too_large,
                "sources": self.ced_sources,
                "reposts_with_text": self.ced_reposts,
                "reposts_without_text_left_out": self.ced_reposts_without_text,
                "rows": self.ced_rows,
                "share": _share(self.ced_rows, self.rows),
            },
            "reviews": {
                "files": {
                    r.file: {
                        "available": r.available,
                        "rows": r.rows,
                        "negative": r.negative,
                        "negative_share": _share(r.negative, r.rows),
                    }
                    for r in self.reviews
                },
                "rows": self.review_rows,
                "share": _share(self.review_rows, self.rows),
                "negative_share": self.review_negative_share,
            },
        }


def _ced() -> ModuleType:
    """The CED reader (``_rows``: its column check) and alphabet, imported when first needed: the
    simulator package loads its HTTP server, which every ``crisiswatch`` command would pay for."""
    from infra.local.simulator import cascades

    return cascades


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _optional_int(value: str | None) -> int | None:
    """An int, or None for an empty (unknown) or unreadable value."""
    if value is None or not value.strip():
        return None
    try:
        return int(float(value))
    except (ValueError, OverflowError):  # not a number, or inf
        return None


# -- building -------------------------------------------------------------------------------------


def build_background(
    ced_events: Path,
    ced_posts: Path,
    sentiment_dir: Path,
    out: Path,
    *,
    max_cascade_posts: int = 200,
    reviews_per_file: int = 3000,
    seed: int = 7,
) -> BackgroundSummary:
    """Write the background posts file ``out`` (gzip CSV, see the module docstring) and say what is
    in it. Raises ValueError for an input missing a column it needs."""
    if max_cascade_posts < 1 or reviews_per_file < 0:
        raise ValueError("max_cascade_posts must be at least 1 and reviews_per_file at least 0")
    authors = _authors(ced_events)
    cascades, too_large = _small_cascades(ced_posts, set(authors), max_cascade_posts)
    samples = [_sample_reviews(sentiment_dir / name, reviews_per_file, seed) for name in REVIEW_FILES]

    sources = reposts = bare = 0
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    try:
        with _gzip_csv_writer(partial) as writer:
            writer.writerow(BACKGROUND_COLUMNS)
            for event_id, rows in cascades.items():
                for row in rows:
                    if row[_KIND] == "source":
                        sources += 1
                        followers, verified_type = authors[event_id]
                    elif row[_TEXT].strip():
                        reposts += 1
                        followers = verified_type = ""
                    else:
                        bare += 1
                        continue
                    writer.writerow([CED_PREFIX + event_id, *row[1:], followers, verified_type])
            for _, rows in samples:
                for review_id, label, text in rows:
                    writer.writerow(_review_row(review_id, label, text))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, out)
    return BackgroundSummary(
        ced_events=len(cascades),
        ced_events_too_large=too_large,
        ced_sources=sources,
        ced_reposts=reposts,
        ced_reposts_without_text=bare,
        reviews=tuple(summary for summary, _ in samples),
    )


def _authors(path: Path) -> dict[str, tuple[str, str]]:
    """event id -> (followers, verified type) of its source post's author, as written to the
    background ("" when unknown; the verified type -1 unless the author is verified, as the
    replay serves it)."""
    authors = {}
    for event_id, followers, verified, verified_type in _ced()._rows(
        path, ("event_id", "user_followers", "user_verified", "user_verified_type")
    ):
        n_followers = _optional_int(followers)
        n_type = _optional_int(verified_type)
        if n_type is not None and verified.strip().lower() != "true":
            n_type = -1
        authors[event_id] = (
            "" if n_followers is None else str(max(0, n_followers)),
            "" if n_type is None else str(n_type),
        )
    return authors


def _small_cascades(path: Path, events: set[str], max_posts: int) -> tuple[dict[str, list[list[str]]], int]:
    """The rows (``POST_COLUMNS`` order, file order) of the ``events`` that have fewer than
    ``max_posts`` rows in the posts file, and how many have more. Holds at most ``max_posts - 1``
    rows per event, whatever the order of the file."""
    kept: dict[str, list[list[str]]] = {}
    too_large: set[str] = set()
    for row in _ced()._rows(path, POST_COLUMNS):
        event_id = row[0]
        if event_id not in events or event_id in too_large:
            continue
        rows = kept.setdefault(event_id, [])
        rows.append(row)
        if len(rows) >= max_posts:
            too_large.add(event_id)
            del kept[event_id]
    return kept, len(too_large)


def _sample_reviews(path: Path, cap: int, seed: int) -> tuple[ReviewSample, list[tuple[str, str, str]]]:
    """At most ``cap`` of the file's non-empty reviews as (id, label, text cut to 280 characters),
    drawn uniformly with a generator seeded by ``seed`` and the file's name, in file order."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REVIEW_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: not a review file, missing columns {', '.join(missing)}")
        reviews = [
            (row["id"], row["label"], text[:MAX_REVIEW_CHARS])
            for row in reader
            if (text := (row["text"] or "").strip())
        ]
    rng = random.Random(f"{seed}/{path.name}")
    chosen = [reviews[i] for i in sorted(rng.sample(range(len(reviews)), min(cap, len(reviews))))]
    negative = sum(1 for _, label, _ in chosen if label.strip() == "0")
    return ReviewSample(path.name, len(reviews), len(chosen), negative), chosen


def _digest(kind: str, review_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(f"{kind}:{review_id}".encode(), digest_size=8).digest(), "big")


def review_mid(review_id: str) -> str:
    """A 9-character base62 mid, as Weibo's are, hashed from the review's id."""
    alphabet = _ced()._BASE62
    n = _digest("mid", review_id) % 62**9
    chars = []
    for _ in range(9):
        n, digit = divmod(n, 62)
        chars.append(alphabet[digit])
    return "".join(reversed(chars))


def review_uid(review_id: str) -> str:
    """A 10-digit uid from 8,000,000,000 (above every CED uid), hashed from the review's id."""
    return str(REVIEW_UID_BASE + _digest("uid", review_id) % 1_000_000_000)


def review_followers(review_id: str) -> int:
    """A small account's followers, hashed from the review's id: lognormal, median 150, sigma 1.5,
    clipped to 1..50,000."""
    u = (_digest("followers", review_id) + 0.5) / 2**64  # uniform in (0, 1)
    z = NormalDist().inv_cdf(u)
    low, high = FOLLOWERS_RANGE
    return min(high, max(low, round(FOLLOWERS_MEDIAN * math.exp(FOLLOWERS_SIGMA * z))))


def _review_row(review_id: str, label: str, text: str) -> list[str]:
    polarity = "negative" if label.strip() == "0" else "positive"
    # event_id, label, kind, mid, parent, depth, uid, time_epoch, time_cst, offset_s, text, + optional
    return [
        REVIEW_PREFIX + review_id,
        polarity,
        "source",
        review_mid(review_id),
        "",
        "0",
        review_uid(review_id),
        "0",
        "",
        "0",
        text,
        str(review_followers(review_id)),
        "-1",
    ]


@contextmanager
def _gzip_csv_writer(path: Path) -> Iterator[Any]:
    """A csv writer onto a gzip file whose bytes depend on the rows alone (no name, mtime 0)."""
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed,
        io.TextIOWrapper(packed, encoding="utf-8", newline="") as text,
    ):
        yield csv.writer(text)


# -- reading --------------------------------------------------------------------------------------


def _header(path: Path) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle), [])


def _source(event_id: str) -> str:
    """``ced`` or ``review`` from a background event id (``bg-<source>-...``); a plain CED file's
    events are ``ced``."""
    if event_id.startswith("bg-"):
        source, _, rest = event_id[3:].partition("-")
        if source and rest:
            return source
    return "ced"


def iter_background(path: Path) -> Iterator[BackgroundPost]:
    """The posts of a file in the CED posts layout, with or without the optional columns
    ``user_followers, user_verified_type`` (absent or empty: None), skipping empty texts.
    Raises ValueError when a required column is missing."""
    header = _header(path)
    optional: Sequence[str] = [c for c in OPTIONAL_COLUMNS if c in header]
    columns = (*POST_COLUMNS, *optional)
    at = {c: i for i, c in enumerate(columns)}
    i_event, i_uid, i_text = at["event_id"], at["uid"], at["text"]
    i_followers, i_type = at.get("user_followers"), at.get("user_verified_type")
    for row in _ced()._rows(path, columns):
        text = row[i_text]
        if not text.strip():
            continue
        yield BackgroundPost(
            text=text,
            uid=row[i_uid],
            followers=None if i_followers is None else _optional_int(row[i_followers]),
            verified_type=None if i_type is None else _optional_int(row[i_type]),
            source=_source(row[i_event]),
        )


def read_background(path: Path) -> list[BackgroundPost]:
    """Every post of ``path`` worth sampling (see ``iter_background``), in file order."""
    return list(iter_background(path))


# -- command line ---------------------------------------------------------------------------------


def cmd_background(args: argparse.Namespace) -> int:
    sentiment_dir = Path(args.sentiment_dir)
    inputs = [Path(args.events), Path(args.posts), *(sentiment_dir / name for name in REVIEW_FILES)]
    missing = [str(path) for path in inputs if not path.is_file()]
    if missing:
        sys.stderr.write(f"no such file: {', '.join(missing)}\n")
        return 2
    started = time.perf_counter()
    summary = build_background(
        Path(args.events),
        Path(args.posts),
        sentiment_dir,
        Path(args.out),
        max_cascade_posts=args.max_cascade_posts,
        reviews_per_file=args.reviews_per_file,
        seed=args.seed,
    )
    report = {"out": str(args.out), **summary.as_dict(), "seconds": round(time.perf_counter() - started, 2)}
    sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    return 0


def register(eval_subparsers: Any) -> None:
    """Add ``background`` to the ``eval`` subparsers."""
    parser = eval_subparsers.add_parser(
        "background",
        help="build the ordinary-chatter posts file the detection evaluation samples from",
        description="CED's small cascades plus food-delivery and product reviews, in the CED posts "
        "layout with the authors' followers and verified type (see tools/evaluation/background.py).",
    )
    parser.add_argument("--events", required=True, metavar="E.csv.gz", help="the CED events file")
    parser.add_argument("--posts", required=True, metavar="P.csv.gz", help="the CED posts file")
    parser.add_argument(
        "--sentiment-dir",
        required=True,
        metavar="DIR",
        help=f"the folder holding {' and '.join(REVIEW_FILES)}",
    )
    parser.add_argument("--out", required=True, metavar="B.csv.gz", help="the background file to write")
    parser.add_argument(
        "--max-cascade-posts",
        type=int,
        default=200,
        metavar="N",
        help="take the CED events with fewer than N posts (default 200)",
    )
    parser.add_argument(
        "--reviews-per-file",
        type=int,
        default=3000,
        metavar="N",
        help="at most N reviews from each review file (default 3000)",
    )
    parser.add_argument("--seed", type=int, default=7, help="picks the reviews (default 7)")
    parser.set_defaults(func=cmd_background)
