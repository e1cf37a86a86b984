"""The background ("ordinary chatter") posts file of the detection evaluation: built from tiny CED
and review files written here, read back, and (``shared_data``) built from ../shared/data."""

from __future__ import annotations

import csv
import gzip
import json
import re
import statistics
from pathlib import Path

import pytest

from infra.local.simulator import cascades
from tests import ced_fixture as fx
from tools.cli import build_parser
from tools.evaluation.background import (
    BACKGROUND_COLUMNS,
    MAX_REVIEW_CHARS,
    POST_COLUMNS,
    REVIEW_FILES,
    BackgroundPost,
    build_background,
    read_background,
    review_followers,
    review_mid,
    review_uid,
)

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

# Three events: SMALL (source, two reposts with text, one bare, one blank) has 5 rows; BIG has 6;
# ALONE (no follower count in the events file) has only its source.
SMALL, BIG, ALONE = "0_yBsmall01_1001", "1_yBbig0001_1002", "2_yBalone01_1003"
EVENTS = [
    {"event_id": SMALL, "user_followers": "3200", "user_verified": "True", "user_verified_type": "3"},
    {"event_id": BIG, "user_followers": "90", "user_verified": "False", "user_verified_type": "-1"},
    {"event_id": ALONE, "user_followers": "", "user_verified": "False", "user_verified_type": "220"},
]
T0 = 1347334462


def _post(event_id, kind, mid, uid, offset, text, parent="", depth=None):
    return {
        "event_id": event_id,
        "label": "rumor",
        "kind": kind,
        "mid": mid,
        "parent": parent,
        "depth": 0 if kind == "source" else depth or 1,
        "uid": uid,
        "time_epoch": T0 + offset,
        "time_cst": "2012-09-11T11:34:22+08:00",
        "offset_s": offset,
        "text": text,
    }


POSTS = [
    _post(SMALL, "source", "yBsmall01", "1001", 0, "小区门口新开了一家面馆"),
    _post(SMALL, "repost", "yBsmall02", "2001", 60, "去过，还行"),
    _post(SMALL, "repost", "yBsmall03", "2002", 90, ""),
    _post(SMALL, "repost", "yBsmall04", "walker", 120, "排队的人好多", parent="yBsmall03", depth=2),
    _post(SMALL, "repost", "yBsmall05", "2004", 150, "  "),
    *[
        _post(BIG, "source" if i == 0 else "repost", f"yBbig000{i}", f"30{i}", i, f"第{i}条")
        for i in range(6)
    ],
    _post(ALONE, "source", "yBalone01", "1003", 0, "今天下雨了"),
    _post("9_notlisted_9", "source", "yBnolist1", "9009", 0, "不在事件表里"),
]
WAIMAI = [
    ("wa0", "1", "很快，好吃，味道足，量大"),
    ("wa1", "0", "送餐太慢了，等了两个小时"),
    ("wa2", "0", "   "),
    ("wa3", "0", "菜是凉的" * 100),  # 400 characters: cut to 280
    ("wa4", "1", "态度好"),
    ("wa5", "0", "再也不点了"),
]
SHOPPING = [(f"on{i}", str(i % 2), f"第{i}件商品，{'好评' if i % 2 else '差评'}") for i in range(30)]


def _write_gzip_csv(path: Path, columns, rows) -> Path:
    with gzip.open(path, "wt", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _read_rows(path: Path) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def inputs(tmp_path):
    """events.csv.gz, posts.csv.gz and a sentiment folder with the two review files."""
    ced = tmp_path / "ced"
    ced.mkdir()
    events = _write_gzip_csv(ced / "events.csv.gz", fx.EVENT_COLUMNS, EVENTS)
    posts = _write_gzip_csv(ced / "posts.csv.gz", fx.POST_COLUMNS, POSTS)
    sentiment = tmp_path / "sentiment"
    sentiment.mkdir()
    for name, rows, extra in (
        ("waimai_10k.csv", WAIMAI, []),
        ("online_shopping_10_cats.csv", SHOPPING, ["手机"]),
    ):
        with open(sentiment / name, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "label", "text", "category"][: 3 + len(extra)])
            writer.writerows([*row, *extra] for row in rows)
    return events, posts, sentiment


def _build(inputs, out, **kwargs):
    events, posts, sentiment = inputs
    kwargs.setdefault("max_cascade_posts", 6)
    return build_background(events, posts, sentiment, out, **kwargs)


def test_the_layout_is_ceds_posts_layout_and_two_optional_columns():
    assert POST_COLUMNS == cascades.POST_COLUMNS == tuple(fx.POST_COLUMNS)
    assert (*POST_COLUMNS, "user_followers", "user_verified_type") == BACKGROUND_COLUMNS


def test_small_cascades_keep_sources_and_reposts_with_text(inputs, tmp_path):
    out = tmp_path / "bg.csv.gz"
    summary = _build(inputs, out, reviews_per_file=0)
    rows = _read_rows(out)
    assert list(rows[0]) == list(BACKGROUND_COLUMNS)
    # BIG has 6 rows, not fewer than 6; the event missing from the events file is not taken.
    assert [(r["event_id"], r["mid"]) for r in rows] == [
        (f"bg-ced-{SMALL}", "yBsmall01"),
        (f"bg-ced-{SMALL}", "yBsmall02"),
        (f"bg-ced-{SMALL}", "yBsmall04"),
        (f"bg-ced-{ALONE}", "yBalone01"),
    ]
    assert (summary.ced_events, summary.ced_events_too_large) == (2, 1)
    assert (summary.ced_sources, summary.ced_reposts, summary.ced_reposts_without_text) == (2, 2, 2)
    assert (summary.review_rows, summary.rows) == (0, 4)
    # The CED columns are kept as they were.
    walker = rows[2]
    original = next(p for p in POSTS if p["mid"] == "yBsmall04")
    assert {c: walker[c] for c in POST_COLUMNS[1:]} == {c: str(original[c]) for c in POST_COLUMNS[1:]}


def test_the_threshold_is_a_parameter(inputs, tmp_path):
    assert _build(inputs, tmp_path / "a.csv.gz", max_cascade_posts=7, reviews_per_file=0).ced_events == 3
    assert _build(inputs, tmp_path / "b.csv.gz", max_cascade_posts=2, reviews_per_file=0).ced_events == 1


def test_source_posts_carry_their_authors_followers_and_reposts_none(inputs, tmp_path):
    out = tmp_path / "bg.csv.gz"
    _build(inputs, out, reviews_per_file=0)
    by_mid = {r["mid"]: (r["user_followers"], r["user_verified_type"]) for r in _read_rows(out)}
    assert by_mid["yBsmall01"] == ("3200", "3")
    assert by_mid["yBsmall02"] == ("", "")
    # An unknown follower count stays unknown; an unverified author's type is -1, as the replay has it.
    assert by_mid["yBalone01"] == ("", "-1")


def test_reviews_are_capped_sampled_by_seed_and_cut(inputs, tmp_path):
    summary = _build(inputs, tmp_path / "a.csv.gz", reviews_per_file=4, seed=7)
    again = _build(inputs, tmp_path / "b.csv.gz", reviews_per_file=4, seed=7)
    other = _build(inputs, tmp_path / "c.csv.gz", reviews_per_file=4, seed=8)
    assert (tmp_path / "a.csv.gz").read_bytes() == (tmp_path / "b.csv.gz").read_bytes()
    assert summary == again

    waimai, shopping = summary.reviews
    assert (waimai.file, waimai.available, waimai.rows) == ("waimai_10k.csv", 5, 4)  # the blank one skipped
    assert (shopping.file, shopping.available, shopping.rows) == ("online_shopping_10_cats.csv", 30, 4)
    reviews = [r for r in _read_rows(tmp_path / "a.csv.gz") if r["event_id"].startswith("bg-review-")]
    assert len(reviews) == summary.review_rows == 8
    negative = sum(r["label"] == "negative" for r in reviews)
    assert negative == waimai.negative + shopping.negative
    assert summary.review_negative_share == round(negative / 8, 4)

    def ids(path):
        return [r["event_id"] for r in _read_rows(path) if r["event_id"].startswith("bg-review-on")]

    assert ids(tmp_path / "a.csv.gz") != ids(tmp_path / "c.csv.gz")  # another seed, other reviews
    assert other.reviews[0].available == 5

    everything = _build(inputs, tmp_path / "d.csv.gz", reviews_per_file=100)
    assert [r.rows for r in everything.reviews] == [5, 30]
    texts = {r["event_id"]: r["text"] for r in _read_rows(tmp_path / "d.csv.gz")}
    assert texts["bg-review-wa3"] == ("菜是凉的" * 100)[:MAX_REVIEW_CHARS]
    assert "bg-review-wa2" not in texts


def test_a_review_is_a_one_post_event_with_a_small_account(inputs, tmp_path):
    out = tmp_path / "bg.csv.gz"
    _build(inputs, out, reviews_per_file=100)
    row = next(r for r in _read_rows(out) if r["event_id"] == "bg-review-wa1")
    assert row == {
        "event_id": "bg-review-wa1",
        "label": "negative",
        "kind": "source",
        "mid": review_mid("wa1"),
        "parent": "",
        "depth": "0",
        "uid": review_uid("wa1"),
        "time_epoch": "0",
        "time_cst": "",
        "offset_s": "0",
        "text": "送餐太慢了，等了两个小时",
        "user_followers": str(review_followers("wa1")),
        "user_verified_type": "-1",
    }
    assert re.fullmatch(r"[0-9a-zA-Z]{9}", row["mid"]) and cascades.mid_to_id(row["mid"]).isdigit()
    assert re.fullmatch(r"8\d{9}", row["uid"])


def test_review_followers_look_like_small_accounts():
    followers = [review_followers(f"wa{i}") for i in range(4000)]
    assert 120 <= statistics.median(followers) <= 190
    assert min(followers) >= 1 and max(followers) <= 50_000
    assert followers == [review_followers(f"wa{i}") for i in range(4000)]


def test_the_optional_columns_are_read_back(inputs, tmp_path):
    out = tmp_path / "bg.csv.gz"
    _build(inputs, out, reviews_per_file=1)
    posts = read_background(out)
    assert posts[:4] == [
        BackgroundPost("小区门口新开了一家面馆", "1001", 3200, 3, "ced"),
        BackgroundPost("去过，还行", "2001", None, None, "ced"),
        BackgroundPost("排队的人好多", "walker", None, None, "ced"),
        BackgroundPost("今天下雨了", "1003", None, -1, "ced"),
    ]
    assert [p.source for p in posts[4:]] == ["review", "review"]
    assert all(p.verified_type == -1 and p.followers >= 1 for p in posts[4:])


def test_a_plain_ced_posts_file_is_read_without_followers(inputs):
    _, posts_file, _ = inputs
    posts = read_background(posts_file)
    assert len(posts) == len(POSTS) - 2  # the bare and the blank repost carry no chatter
    assert posts[0] == BackgroundPost("小区门口新开了一家面馆", "1001", None, None, "ced")
    assert {(p.followers, p.verified_type, p.source) for p in posts} == {(None, None, "ced")}


def test_a_file_missing_a_required_column_is_refused(inputs, tmp_path):
    no_uid = [c for c in fx.POST_COLUMNS if c != "uid"]
    path = _write_gzip_csv(tmp_path / "no_uid.csv.gz", no_uid, [{c: POSTS[0][c] for c in no_uid}])
    with pytest.raises(ValueError, match="missing columns uid"):
        read_background(path)
    events, _, sentiment = inputs
    with pytest.raises(ValueError, match="missing columns uid"):
        build_background(events, path, sentiment, tmp_path / "bg.csv.gz")
    assert not list(tmp_path.glob("bg.csv.gz*"))  # the inputs are read before anything is written

    (sentiment / "waimai_10k.csv").write_text("id,label,review\nwa0,1,好\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing columns text"):
        _build(inputs, tmp_path / "bg.csv.gz")


def test_the_command_builds_and_prints_the_mix(inputs, tmp_path, capsys):
    events, posts, sentiment = inputs
    out = tmp_path / "out" / "bg.csv.gz"
    argv = ["eval", "background", "--events", str(events), "--posts", str(posts)]
    argv += ["--sentiment-dir", str(sentiment), "--out", str(out), "--max-cascade-posts", "6"]
    args = build_parser().parse_args([*argv, "--reviews-per-file", "3", "--seed", "1"])
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 4 + 6 == len(read_background(out))
    assert (report["ced"]["rows"], report["ced"]["share"]) == (4, 0.4)
    assert [f["rows"] for f in report["reviews"]["files"].values()] == [3, 3]
    assert set(report["reviews"]["files"]) == set(REVIEW_FILES)
    assert 0 <= report["reviews"]["negative_share"] <= 1 and report["seconds"] >= 0


def test_the_command_names_a_missing_input(inputs, tmp_path, capsys):
    events, _, sentiment = inputs
    argv = ["eval", "background", "--events", str(events), "--posts", str(tmp_path / "none.csv.gz")]
    args = build_parser().parse_args([*argv, "--sentiment-dir", str(sentiment), "--out", str(tmp_path / "b")])
    assert args.func(args) == 2
    assert "none.csv.gz" in capsys.readouterr().err


@pytest.mark.shared_data
def test_the_background_of_the_shared_data(tmp_path):
    ced, sentiment = SHARED_DATA / "streams" / "ced", SHARED_DATA / "sentiment"
    needed = [ced / "events.csv.gz", ced / "posts.csv.gz", *(sentiment / n for n in REVIEW_FILES)]
    if not all(p.is_file() for p in needed):
        pytest.skip(f"CED and review files not all found under {SHARED_DATA}")
    out = tmp_path / "background.csv.gz"
    summary = build_background(ced / "events.csv.gz", ced / "posts.csv.gz", sentiment, out)
    posts = read_background(out)
    assert len(posts) == summary.rows
    assert 0 < summary.ced_events < summary.ced_events_too_large
    assert sum(p.source == "ced" for p in posts) == summary.ced_rows > summary.ced_events
    assert [r.rows for r in summary.reviews] == [3000, 3000]
    assert 0.3 < summary.review_negative_share < 0.8
    assert all(p.text.strip() and len(p.text) <= MAX_REVIEW_CHARS for p in posts if p.source == "review")
