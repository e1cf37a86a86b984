"""Replay: reading recorded CED cascades, selecting and merging them, and what the simulator serves
from them over simulated time (no sockets: ``PlatformSimulator.search`` is called directly)."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest

from crisiswatch.ingest.weibo import parse_created_at
from infra.local.drivers.replay import Pacer
from infra.local.simulator import PlatformSimulator
from infra.local.simulator import cascades as ced
from infra.local.simulator.cascades import (
    EMPTY_REPOST,
    ReplayScenario,
    load_replay,
    mid_to_id,
    parse_moment,
    read_events,
    read_posts,
    select_events,
)
from tests import ced_fixture as fx


@pytest.fixture
def files(tmp_path):
    return fx.write_ced(tmp_path / "ced")


def test_events_are_read_with_their_types(files):
    events = {e.event_id: e for e in read_events(files[0])}
    a = events[fx.A]
    assert (a.label, a.time_epoch, a.user_followers, a.user_verified, a.user_verified_type) == (
        "rumor",
        fx.T0,
        120_000,
        True,
        3,
    )
    assert (a.reposts, a.comments, a.likes, a.n_repost_records) == (48, 32, 80, 16)
    assert a.time.isoformat() == "2012-09-11T11:34:22+08:00"


def test_a_file_without_the_ced_columns_is_refused(tmp_path):
    path = tmp_path / "other.csv.gz"
    with gzip.open(path, "wt") as handle:
        handle.write("id,text\n1,hello\n")
    with pytest.raises(ValueError, match="missing columns"):
        read_events(path)


def test_selection_is_earliest_first_by_ids_and_time(files):
    events = read_events(files[0])
    assert [e.event_id for e in select_events(events, limit=2)] == [fx.A, fx.B]
    assert [e.event_id for e in select_events(events, event_ids=[fx.C, fx.A])] == [fx.A, fx.C]
    later = select_events(events, since=parse_moment("2012-09-12"))
    assert [e.event_id for e in later] == [fx.C]
    assert [e.event_id for e in select_events(events, until=parse_moment("2012-09-11T11:35:00"))] == [fx.A]
    with pytest.raises(ValueError, match="unknown event ids"):
        select_events(events, event_ids=["nope"])


def test_posts_of_the_selected_events_only_and_reading_stops_after_them(files, monkeypatch):
    events = select_events(read_events(files[0]), event_ids=[fx.A])
    consumed = []
    real_rows = ced._rows

    def counting(path, columns, optional=()):
        for row in real_rows(path, columns, optional):
            consumed.append(row[0])
            yield row

    monkeypatch.setattr(ced, "_rows", counting)
    rows = list(read_posts(files[1], events))
    assert {r.event_id for r in rows} == {fx.A}
    assert len(rows) == 1 + len(fx.ANGRY) + 2
    assert consumed.count(fx.B) == 1 and fx.C not in consumed  # stopped at B's first row


def test_hours_keeps_each_cascades_first_hours(files):
    events = read_events(files[0])
    rows = list(read_posts(files[1], events, hours=24))
    assert "后续呢" not in {r.text for r in rows}  # 30 h after A
    assert "一个小时了还没回应？" in {r.text for r in rows}


def test_weibo_ids_from_mids():
    assert mid_to_id("z0JH2lOMb") == "3501756485200075"  # a published pair
    assert mid_to_id("3501756485200075") == "3501756485200075"
    assert mid_to_id("bad-mid!").isdigit() and mid_to_id("bad-mid!") == mid_to_id("bad-mid!")


@pytest.fixture
def replay(files) -> ReplayScenario:
    return load_replay(*files, hours=24)


def test_events_are_merged_by_absolute_time(replay):
    times = [p.time_epoch for p in replay.posts]
    assert times == sorted(times)
    # A's source, its repost at +30 s, B's source at +100 s, A's repost at +110 s
    assert [p.event_id for p in replay.posts[:4]] == [fx.A, fx.A, fx.B, fx.A]
    assert replay.start == fx.T0
    assert replay.posts[-1].event_id == fx.C


def test_posts_become_what_weibo_shows(replay):
    source = replay.by_id[mid_to_id("yBmepBtUB")]
    assert (source.user.followers, source.user.verified_type, source.repost_of) == (120_000, 3, None)
    reposts = [p for p in replay.posts if p.event_id == fx.A and p.kind == "repost"]
    assert all(p.repost_of == source.id and p.user.followers == 0 for p in reposts)
    assert EMPTY_REPOST in {p.text for p in reposts}
    chained = next(p for p in reposts if "//@" in p.text)
    assert chained.text == "老鼠？！吓死了[泪]//@fan0:太恶心了[吐]"
    assert "<img alt=[泪]" in chained.html


def test_visibility_and_ages_follow_simulated_time(replay):
    assert replay.tick_of(fx.T0) == 0 and replay.now_at(0) == fx.T0 + 120
    assert replay.visible_count(0) == 4  # the first two minutes: +0, +30, +100 (B), +110 s
    assert replay.next_tick(0) == 1
    last_of_day = replay.tick_of(fx.T0 + 3700)
    assert replay.next_tick(last_of_day) == replay.tick_of(fx.T0 + 10 * 86400)  # the idle days skipped
    for tick in (0, 5, last_of_day):
        for post in replay.visible_posts(tick):
            assert post.age_seconds(tick) == replay.now_at(tick) - post.time_epoch >= 0
    newest_first = [p.time_epoch for p in replay.visible_posts(5)]
    assert newest_first == sorted(newest_first, reverse=True)
    assert sum(len(replay.new_at(t)) for t in range(last_of_day + 1)) == replay.visible_count(last_of_day)


def test_the_simulator_serves_the_visible_posts_as_weibo_search_results(replay):
    clock = {"now": 0.0}
    sim = PlatformSimulator(replay, clock=lambda: clock["now"])
    assert sim.items["bilibili"] == ()
    assert sim.search("鲜味坊", 1)["ok"] == 0  # nothing visible yet
    sim.advance(6)  # tick 5: 12 minutes in
    clock["now"] = replay.now_at(5)
    body = sim.search("鲜味坊", 1)
    mblogs = [
        c.get("mblog") or c["card_group"][0]["mblog"] for c in body["data"]["cards"] if c["card_type"] != 58
    ]
    visible = {p.id for p in replay.visible_posts(5)}
    assert {m["id"] for m in mblogs} <= visible
    assert body["data"]["cardlistInfo"]["total"] == len(visible)  # A's and B's posts all hit
    now = datetime.fromtimestamp(replay.now_at(5), UTC)
    for m in mblogs:
        post = replay.by_id[m["id"]]
        parsed = parse_created_at(m["created_at"], now)
        assert now - parsed <= timedelta(seconds=now.timestamp() - post.time_epoch)
        assert now.timestamp() - post.time_epoch - (now - parsed).total_seconds() < 60
        if post.repost_of:
            assert m["retweeted_status"]["id"] == post.repost_of
    source = replay.by_id[mid_to_id("yBmepBtUB")]
    assert 0 < source.counts_at(5)[0] < source.counts_at(replay.last_tick)[0] <= 48
    assert sim.search("股市", 1)["ok"] == 0  # C is ten days later


def test_keywords_derived_from_the_source_posts(replay):
    terms = replay.frequent_terms()
    assert 1 <= len(terms) <= 3
    assert all(any(t in e.text for e in replay.events) for t in terms)


def test_pacing_sleeps_only_when_ahead():
    now = [0.0]
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        now[0] += seconds

    pacer = Pacer(60, monotonic=lambda: now[0], sleep=sleep)
    pacer.wait(120)  # the first tick starts at once
    now[0] += 0.5  # it took half a second
    pacer.wait(120)  # due at 2 s
    assert slept == [1.5]
    now[0] += 5  # the second tick took 5 s: behind
    pacer.wait(120)
    assert slept == [1.5]
    assert Pacer(0, monotonic=lambda: now[0], sleep=sleep).wait(120) == 0
    with pytest.raises(ValueError):
        Pacer(-1)
