"""The fetch cursor: what a run queues, where it stops paging, what it remembers."""

from __future__ import annotations

from datetime import timedelta

from crisiswatch.ingest.cursor import DRIFT_KEYS_MAX, REFRESH_MIN_GROWTH, FetchCursor, Seen, seen_key
from crisiswatch.vocabulary import Engagement
from tests.builders import NOW, post

OVERLAP = timedelta(minutes=10)


def at(minutes_ago: float, post_id: str, reposts: int = 0):
    return post(
        post_id, created_at=NOW - timedelta(minutes=minutes_ago), engagement=Engagement(reposts=reposts)
    )


def keys(*post_keys: str) -> set[bytes]:
    return {seen_key(key) for key in post_keys}


def test_the_first_run_queues_everything_in_its_lookback():
    cursor = FetchCursor()
    assert cursor.since(OVERLAP, default=NOW - timedelta(hours=1)) == NOW - timedelta(hours=1)
    posts = [at(1, "a"), at(30, "b"), at(90, "c")]
    assert [p.post_id for p in cursor.to_queue(posts, NOW - timedelta(hours=1))] == ["a", "b"]


def test_a_run_queues_only_what_the_overlap_window_did_not_queue_before():
    cursor = FetchCursor().after([at(4, "a"), at(8, "b")], OVERLAP)
    since = cursor.since(OVERLAP)
    assert since == NOW - timedelta(minutes=14)
    again = [at(1, "new"), at(4, "a"), at(8, "b"), at(12, "late")]  # "late": indexed late, in the window
    assert [p.post_id for p in cursor.to_queue(again, since)] == ["new", "late"]


def test_a_quiet_period_queues_nothing_and_keeps_the_mark():
    cursor = FetchCursor().after([at(4, "a")], OVERLAP)
    assert cursor.to_queue([at(4, "a")], cursor.since(OVERLAP)) == []
    assert cursor.after([], OVERLAP) is cursor  # nothing to save


def test_a_known_post_is_queued_again_only_when_it_grew_enough():
    cursor = FetchCursor().after([at(4, "small", reposts=5), at(4, "big", reposts=1000)], OVERLAP)
    since = cursor.since(OVERLAP)
    slow = [at(4, "small", reposts=5 + REFRESH_MIN_GROWTH - 1), at(4, "big", reposts=1050)]
    assert cursor.to_queue(slow, since) == []  # +9: not hot; +50 on 1,000: under 10%
    hot = [at(4, "small", reposts=5 + REFRESH_MIN_GROWTH), at(4, "big", reposts=1100)]
    assert [p.post_id for p in cursor.to_queue(hot, since)] == ["small", "big"]
    refreshed = cursor.after(hot, OVERLAP)
    assert refreshed.known("weibo#big").engagement == 1100  # growth from here on is measured from 1,100


def test_the_window_keeps_an_hour_more_for_times_that_drift_then_forgets():
    cursor = (
        FetchCursor().after([at(30, "recent-past"), at(90, "old")], OVERLAP).after([at(2, "new")], OVERLAP)
    )
    assert set(cursor.seen) == keys("weibo#new", "weibo#recent-past")  # 30 min: within overlap + drift
    assert cursor.high_water == NOW - timedelta(minutes=2)
    # Weibo read it to the minute 30 minutes ago; an hour on it reads "1小时前": newer than it was.
    assert cursor.to_queue([at(5, "recent-past")], cursor.since(OVERLAP)) == []


def test_beyond_the_overlap_only_the_newest_keys_are_kept():
    many = [at(15 + i * 0.1, f"p{i}") for i in range(DRIFT_KEYS_MAX + 50)]
    cursor = FetchCursor().after([*many, at(1, "new")], OVERLAP)
    assert len(cursor.seen) == DRIFT_KEYS_MAX + 1 and cursor.known("weibo#p0")
    assert cursor.known(f"weibo#p{DRIFT_KEYS_MAX + 49}") is None


def test_the_mark_never_moves_back():
    cursor = FetchCursor().after([at(2, "a")], OVERLAP).after([at(9, "late")], OVERLAP)
    assert cursor.high_water == NOW - timedelta(minutes=2)
    assert set(cursor.seen) == keys("weibo#a", "weibo#late")


def test_paging_stops_at_a_page_of_known_posts_past_the_mark():
    cursor = FetchCursor().after([at(3, "a"), at(5, "b")], OVERLAP)
    since = cursor.since(OVERLAP)
    newer_than_mark = NOW - timedelta(minutes=1)
    assert not cursor.brings_nothing([], newer_than_mark, since)  # new ground: read on
    assert cursor.brings_nothing([at(3, "a"), at(5, "b")], NOW - timedelta(minutes=5), since)
    assert not cursor.brings_nothing([at(3, "a"), at(6, "c")], NOW - timedelta(minutes=6), since)
    assert not FetchCursor().brings_nothing([], NOW, None)  # no cursor yet: page to the lookback


def test_a_merge_keeps_both_runs_keys_the_later_mark_and_the_newer_version():
    ours = FetchCursor(version=1).after([at(6, "ours")], OVERLAP)
    theirs = FetchCursor(version=2).after([at(2, "theirs")], OVERLAP)
    merged = ours.merged(theirs, OVERLAP)
    assert merged.high_water == NOW - timedelta(minutes=2)
    assert set(merged.seen) == keys("weibo#ours", "weibo#theirs") and merged.version == 2


def test_the_stored_form_round_trips():
    cursor = FetchCursor().after([at(3, "a", reposts=7), at(5, "b")], OVERLAP)
    assert FetchCursor.decode_seen(cursor.encode_seen()) == cursor.seen
    assert FetchCursor.decode_seen("") == {} and FetchCursor.decode_seen("[[1]]") == {}  # unreadable: none
    assert FetchCursor.decode_seen(b"\x00" * 15) == {}
    assert cursor.known("weibo#a") == Seen(int((NOW - timedelta(minutes=3)).timestamp()), 7)


def test_any_character_in_a_key_round_trips():
    odd = post("12\u2028 34\n5\x85", created_at=NOW - timedelta(minutes=1))
    cursor = FetchCursor().after([odd, at(2, "plain")], OVERLAP)
    assert FetchCursor.decode_seen(cursor.encode_seen()) == cursor.seen


def test_the_stored_keys_are_cut_to_fit_an_item_newest_first():
    cursor = FetchCursor().after([at(i * 0.01, f"{i:0200d}") for i in range(50)], OVERLAP)
    stored = FetchCursor.decode_seen(cursor.encode_seen(max_bytes=500))
    assert 0 < len(stored) < 50 and len(cursor.encode_seen(max_bytes=500)) <= 500
    assert seen_key(f"weibo#{0:0200d}") in stored  # the newest kept


def test_the_stored_form_is_16_bytes_a_post_whatever_its_key():
    long_keys = FetchCursor().after([at(1, "x" * 200), at(2, "y" * 200)], OVERLAP)
    assert len(long_keys.encode_seen()) == 32


def test_keys_stored_before_digests_are_read():
    created = int((NOW - timedelta(minutes=3)).timestamp())
    old = FetchCursor.decode_seen(f'[["weibo#a", {created}, 7], ["weibo#\u2028b", {created}, 0]]')
    cursor = FetchCursor(high_water=NOW, seen=old)
    assert cursor.known("weibo#a") == Seen(created, 7) and cursor.known("weibo#\u2028b") == Seen(created, 0)


def test_counts_past_32_bits_are_clamped_in_the_stored_form():
    huge = FetchCursor().after([at(1, "viral", reposts=2**40)], OVERLAP)
    assert FetchCursor.decode_seen(huge.encode_seen())[seen_key("weibo#viral")].engagement == 2**32 - 1
