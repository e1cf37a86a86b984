"""The repositories' contract: posts and counters, baselines, incidents, cursors, watches.

Each test runs on the DynamoDB adapters (moto, the template's tables) and on the in-memory ones."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import boto3
import pytest

from crisiswatch import watches as watch_reading
from crisiswatch.aws.items import to_value
from crisiswatch.aws.watches import watch_item
from crisiswatch.constants import Env
from crisiswatch.incidents.baseline import Baseline, fold
from crisiswatch.incidents.policy import WindowStats, counts_of
from crisiswatch.incidents.record import Acknowledgement, Notification, Resolution
from crisiswatch.incidents.surprise import sums_since
from crisiswatch.ingest.cursor import FetchCursor, seen_key
from crisiswatch.ports import (
    IncidentAlreadyOpen,
    IncidentNotFound,
    IncidentResolved,
    ScoredPost,
    StaleIncident,
    UnreadableWatch,
    WatchExists,
    WatchNotFound,
)
from crisiswatch.vocabulary import Engagement, Level
from tests.builders import NOW, counted, incident, post, score, watch

OVERLAP = timedelta(minutes=10)


def save_one(repository, p, s, now, story=""):
    (saved,) = repository.save_all([ScoredPost(p, s, counts_of(p, s), story)], now)
    return saved


class Posts:
    """The repository, saving with the counts the domain derives from each post."""

    def __init__(self, repository):
        self.repository = repository

    def save(self, p, s, now, story=""):
        return save_one(self.repository, p, s, now, story).stored

    def window(self, watch_id, now, hours, story=""):
        """The sum of the buckets of the last `hours` (the domain's own sum)."""
        start = now - timedelta(hours=hours)
        return sums_since(self.repository.buckets(watch_id, start, now, story), [start])[0]

    def __getattr__(self, name):
        return getattr(self.repository, name)


def test_a_post_is_stored_and_counted_once(ports):
    posts = Posts(ports.posts)
    assert posts.save(post("1"), score(negative=0.9, risk=0.8), NOW) is True
    assert posts.save(post("1"), score(negative=0.9, risk=0.8), NOW) is False  # redelivered
    assert posts.save(post("2", text="鲜味坊真好吃"), score(negative=0.1, risk=0.05), NOW) is True

    window = posts.window("xianweifang", NOW, hours=6)
    assert (window.mentions, window.negatives, window.high_risk, window.reach) == (2, 1, 1, 2400)
    assert window.risk_sum == pytest.approx(0.85)
    assert posts.get("weibo#1")["score#xianweifang"]["risk"] == 0.8


def test_a_post_two_watches_match_is_stored_once_and_counted_for_each(ports):
    posts = Posts(ports.posts)
    assert posts.save(post("1"), score(), NOW) is True
    assert posts.save(post("1", watch_id="other-brand"), score(risk=0.2), NOW) is True
    assert posts.save(post("1", watch_id="other-brand"), score(risk=0.2), NOW) is False
    assert posts.window("xianweifang", NOW, 6).mentions == 1
    assert posts.window("other-brand", NOW, 6).mentions == 1
    stored = posts.get("weibo#1")
    assert stored["watch_ids"] == {"xianweifang", "other-brand"}
    assert (stored["score#xianweifang"]["risk"], stored["score#other-brand"]["risk"]) == (0.8, 0.2)


def test_a_stored_post_tells_its_story_in_each_watch_that_counted_it(ports):
    def scored(post_id: str, story: str, watch_id: str = "xianweifang") -> ScoredPost:
        p = post(post_id, watch_id=watch_id)
        return ScoredPost(p, score(), counts_of(p, score()), story)

    ports.posts.save_all([scored(str(i), f"s-{i % 3}") for i in range(150)], NOW)
    ports.posts.save_all([scored("1", "s-theirs", "other-brand"), scored("no-story", "")], NOW)
    keys = [f"weibo#{i}" for i in range(160)] + ["weibo#no-story"]  # more than one read's 100 keys
    assert ports.posts.stories("xianweifang", keys) == {f"weibo#{i}": f"s-{i % 3}" for i in range(150)}
    assert ports.posts.stories("other-brand", ["weibo#1", "weibo#2"]) == {"weibo#1": "s-theirs"}
    assert ports.posts.stories("third-brand", ["weibo#1"]) == {} and ports.posts.stories("x", []) == {}


def test_a_post_seen_again_refreshes_its_engagement_and_keeps_the_previous_poll(ports):
    posts = Posts(ports.posts)
    first = post("1")
    later = NOW + timedelta(minutes=2)
    grown = first.model_copy(update={"engagement": Engagement(reposts=250, comments=40, likes=900)})
    posts.save(first, score(), NOW)

    assert posts.save(grown, score(), later) is False  # not counted again...
    stored = posts.get("weibo#1")  # ...but its counters moved on
    assert stored["post"]["engagement"]["reposts"] == 250
    assert stored["previous_engagement"]["reposts"] == 10
    assert (stored["previous_seen_at"], stored["seen_at"]) == (NOW.isoformat(), later.isoformat())
    assert posts.window("xianweifang", later, 6).mentions == 1


def test_a_batch_stores_its_new_posts_and_counts_each_once_whatever_else_it_holds(ports):
    seen = post("seen", created_at=NOW - timedelta(minutes=20))
    save_one(ports.posts, seen, score(), NOW, "s-1")
    grown = seen.model_copy(update={"engagement": Engagement(reposts=30, comments=3)})
    other = post("new", watch_id="other-brand")
    batch = [
        ScoredPost(post("new"), score(), counts_of(post("new"), score()), "s-1"),
        ScoredPost(grown, score(), counts_of(grown, score()), "s-1"),  # counted before: refreshed
        ScoredPost(post("new"), score(), counts_of(post("new"), score()), "s-1"),  # twice in one batch
        ScoredPost(other, score(), counts_of(other, score()), ""),  # the same post, another watch
    ]
    saved = ports.posts.save_all(batch, NOW)
    assert [(s.stored, s.growth) for s in saved] == [(True, 0), (False, 20), (False, 0), (True, 0)]
    assert counted(ports.posts, "xianweifang", NOW).mentions == 2
    assert counted(ports.posts, "xianweifang", NOW, story="s-1").mentions == 2
    assert counted(ports.posts, "other-brand", NOW).mentions == 1
    assert counted(ports.posts, "xianweifang", NOW).engagement == 13 + 13 + 20  # at first sight, then growth
    assert ports.posts.get("weibo#new")["watch_ids"] == {"xianweifang", "other-brand"}
    assert ports.posts.story_counts("xianweifang", NOW - timedelta(hours=1), NOW) == {"s-1": 2}


def test_a_batch_larger_than_one_transaction_is_stored_whole(ports):
    posts = [post(str(i), created_at=NOW - timedelta(minutes=i % 60)) for i in range(150)]
    batch = [ScoredPost(p, score(), counts_of(p, score()), f"s-{i % 7}") for i, p in enumerate(posts)]
    assert all(s.stored for s in ports.posts.save_all(batch, NOW))
    assert counted(ports.posts, "xianweifang", NOW).mentions == 150
    assert sum(ports.posts.story_counts("xianweifang", NOW - timedelta(hours=2), NOW).values()) == 150
    assert not any(s.stored for s in ports.posts.save_all(batch, NOW))  # redelivered whole
    assert counted(ports.posts, "xianweifang", NOW).mentions == 150


def test_what_a_post_gains_between_polls_is_counted_once_in_the_current_bucket(ports):
    first = post("1", created_at=NOW - timedelta(hours=1))  # 10 reposts, 3 comments
    later = NOW + timedelta(minutes=2)
    grown = first.model_copy(update={"engagement": Engagement(reposts=250, comments=40, likes=900)})
    counted = save_one(ports.posts, first, score(), NOW, "s-1")
    assert (counted.stored, counted.growth) == (True, 0)

    seen = save_one(ports.posts, grown, score(), later, "s-1")
    again = save_one(ports.posts, grown, score(), later, "s-1")  # redelivered

    assert (seen.stored, seen.growth, again.growth) == (False, 240 + 37, 0)
    for story in ("", "s-1"):
        buckets = dict(ports.posts.buckets("xianweifang", NOW - timedelta(hours=2), later, story))
        assert sorted(s.engagement for s in buckets.values()) == [13, 277]  # at first sight, then growth
        assert sum(s.mentions for s in buckets.values()) == 1


def test_a_story_has_its_own_buckets_next_to_its_watch(ports):
    posts = Posts(ports.posts)
    posts.save(post("1"), score(), NOW, story="s-a")
    posts.save(post("2"), score(negative=0.1), NOW, story="s-b")
    posts.save(post("3", created_at=NOW - timedelta(minutes=40)), score(), NOW, story="s-a")
    assert posts.window("xianweifang", NOW, 1).mentions == 3
    assert (
        posts.window("xianweifang", NOW, 1, "s-a").mentions,
        posts.window("xianweifang", NOW, 1, "s-b").negatives,
    ) == (2, 0)
    buckets = ports.posts.buckets("xianweifang", NOW - timedelta(hours=1), NOW, "s-a")
    assert [moment for moment, _ in buckets] == sorted(moment for moment, _ in buckets)  # oldest first
    assert all(moment.minute % 5 == 0 and moment.second == 0 for moment, _ in buckets)
    assert posts.get("weibo#1")["score#xianweifang"]["story"] == "s-a"


def test_buckets_are_read_when_they_overlap_the_range(ports):
    posts = Posts(ports.posts)
    posts.save(post("a", created_at=NOW - timedelta(minutes=12)), score(), NOW)  # bucket 02:15
    posts.save(post("b", created_at=NOW - timedelta(minutes=1)), score(), NOW)  # bucket 02:25
    found = ports.posts.buckets("xianweifang", NOW - timedelta(minutes=14), NOW - timedelta(minutes=3))
    assert [(m.hour, m.minute, s.mentions) for m, s in found] == [(2, 15, 1), (2, 25, 1)]  # both overlap it
    assert ports.posts.buckets("xianweifang", NOW - timedelta(minutes=10), NOW - timedelta(minutes=6)) == []


def test_a_baseline_is_written_only_over_the_one_it_was_folded_from(ports):
    baselines = ports.baselines
    assert baselines.get("xianweifang") is None
    first = fold(None, NOW.replace(minute=0) - timedelta(hours=1), WindowStats(mentions=12, negatives=3))
    assert baselines.put("xianweifang", first, previous=None) is True
    assert baselines.put("xianweifang", first, previous=None) is False  # another scorer was first
    second = fold(first, NOW.replace(minute=0), WindowStats(mentions=8))
    assert baselines.put("xianweifang", second, previous=Baseline().through) is False
    assert baselines.put("xianweifang", second, previous=first.through) is True
    assert baselines.get("xianweifang") == second
    assert baselines.get("other-brand") is None


def test_the_window_covers_only_its_hours(ports):
    posts = Posts(ports.posts)
    posts.save(post("old", created_at=NOW - timedelta(hours=7)), score(), NOW)
    posts.save(post("new", created_at=NOW - timedelta(hours=5)), score(), NOW)
    posts.save(post("future", created_at=NOW + timedelta(hours=2)), score(), NOW)  # clock skew: counted now
    assert posts.window("xianweifang", NOW, hours=6).mentions == 2


def test_one_open_incident_per_story_of_a_watch(ports):
    incidents = ports.incidents
    incidents.create(incident(story_id="s-a"))
    with pytest.raises(IncidentAlreadyOpen):
        incidents.create(incident(incident_id="xianweifang-20261121-0300", story_id="s-a"))
    incidents.create(incident(incident_id="xianweifang-20261121-0300-b", story_id="s-b"))
    assert incidents.open_incident("xianweifang", "s-a").incident_id == incident().incident_id
    assert incidents.open_incident("xianweifang", "s-c") is None
    assert incidents.open_incident("another-watch", "s-a") is None
    assert sorted(i.story_id for i in incidents.open_incidents("xianweifang")) == ["s-a", "s-b"]
    assert incidents.open_incidents("another-watch") == []


def test_a_resolved_incident_frees_its_story_and_keeps_its_reason(ports):
    incidents = ports.incidents
    incidents.create(incident(story_id="s-a"))
    current = incidents.get(incident().incident_id)
    resolution = Resolution(at=NOW + timedelta(hours=7), by="crisiswatch", reason="本话题已平静 6.0 小时")
    with pytest.raises(StaleIncident):
        incidents.resolve(current.model_copy(update={"version": 3}), resolution)
    later_numbers = current.stats.model_copy(update={"mentions": 1})  # what the quiet read saw
    resolved = incidents.resolve(current.model_copy(update={"stats": later_numbers}), resolution)

    assert (resolved.status, resolved.resolution, resolved.version) == ("resolved", resolution, 1)
    assert resolved.stats == current.stats  # the figures stored last, not the resolving read's
    assert incidents.get(resolved.incident_id) == resolved
    assert (
        incidents.open_incident("xianweifang", "s-a") is None
        and incidents.open_incidents("xianweifang") == []
    )
    with pytest.raises(IncidentResolved):
        incidents.acknowledge(resolved.incident_id, Acknowledgement(by="王经理", at=NOW, level=Level.ORANGE))
    incidents.create(incident(incident_id="xianweifang-20261121-0930", story_id="s-a"))  # a new burst
    listed, _ = incidents.list("resolved", 10)
    assert [i.incident_id for i in listed] == [resolved.incident_id]


def test_updates_are_optimistically_locked(ports):
    incidents = ports.incidents
    incidents.create(incident())
    first = incidents.update(incident(level=Level.RED))
    assert first.version == 1 and incidents.get(first.incident_id).level == Level.RED
    with pytest.raises(StaleIncident):
        incidents.update(incident(level=Level.RED))  # written against version 0


def test_acknowledging_releases_every_waiting_token_once(ports):
    incidents = ports.incidents
    incidents.create(incident())
    for token in ("token-a", "token-b"):
        note = Notification(
            at=NOW, level=Level.ORANGE, tier=Level.RED, kind="alert", message_id=token, sms="s", subject="s"
        )
        incidents.record_notification(incident().incident_id, note, wait_token=token)
    ack = Acknowledgement(by="王经理", at=NOW, level=Level.ORANGE)

    acked, tokens = incidents.acknowledge(incident().incident_id, ack)
    again, tokens_again = incidents.acknowledge(incident().incident_id, ack)

    assert sorted(tokens) == ["token-a", "token-b"]  # two escalations waiting at the same tier
    assert tokens_again == []
    assert acked.status == "acknowledged" and len(again.acknowledgements) == 2
    stored = incidents.get(incident().incident_id)
    assert "wait_tokens" not in stored.model_dump()  # never part of what the API returns
    assert [n.message_id for n in stored.notifications] == ["token-a", "token-b"]


def test_acknowledging_unknown_or_resolved_incidents_says_which(ports):
    incidents = ports.incidents
    ack = Acknowledgement(by="王经理", at=NOW, level=Level.ORANGE)
    with pytest.raises(IncidentNotFound):
        incidents.acknowledge("nope", ack)
    incidents.create(incident())
    incidents.update(incident(status="resolved"))
    with pytest.raises(IncidentResolved):
        incidents.acknowledge(incident().incident_id, ack)


def test_listing_pages_newest_first_by_status(ports):
    incidents = ports.incidents
    for minute in range(5):
        incidents.create(
            incident(
                incident_id=f"w{minute}-1", watch_id=f"w{minute}", opened_at=NOW + timedelta(minutes=minute)
            )
        )
    page, cursor = incidents.list("open", limit=3)
    rest, end = incidents.list("open", limit=3, cursor=cursor)
    assert [i.incident_id for i in page + rest] == ["w4-1", "w3-1", "w2-1", "w1-1", "w0-1"]
    assert end is None
    assert incidents.list("resolved", limit=3) == ([], None)


def test_a_full_last_page_still_gives_a_cursor_and_the_next_page_is_empty(ports):
    for minute in range(2):
        ports.incidents.create(
            incident(
                incident_id=f"w{minute}-1", watch_id=f"w{minute}", opened_at=NOW + timedelta(minutes=minute)
            )
        )
    page, cursor = ports.incidents.list("open", limit=2)
    assert [i.incident_id for i in page] == ["w1-1", "w0-1"]
    rest, end = ports.incidents.list("open", limit=2, cursor=cursor) if cursor else ([], None)
    assert (rest, end) == ([], None)


def test_an_acknowledged_incident_lists_under_its_new_status(ports):
    ports.incidents.create(incident())
    ports.incidents.acknowledge(
        incident().incident_id, Acknowledgement(by="王经理", at=NOW, level=Level.ORANGE)
    )
    assert [i.incident_id for i in ports.incidents.list("acknowledged", limit=5)[0]] == [
        incident().incident_id
    ]
    assert ports.incidents.list("open", limit=5)[0] == []
    assert ports.incidents.open_incident("xianweifang").status == "acknowledged"  # still the watch's open one


def test_figures_written_apart_are_read_with_the_incident_until_it_is_written_again(ports):
    incidents, opened = ports.incidents, incident()
    incidents.create(opened)
    later, busier = NOW + timedelta(minutes=6), opened.stats.model_copy(update={"mentions": 90})
    incidents.refresh_figures(opened.incident_id, busier, later, later)
    for read in (
        incidents.get(opened.incident_id),
        incidents.open_incident("xianweifang"),
        incidents.list("open", limit=5)[0][0],
    ):
        assert (read.stats.mentions, read.last_active_at, read.updated_at) == (90, later, later)
        assert read.version == 0 and read.top_posts == opened.top_posts  # nothing else moved
    # An older refresh (a slower scorer's) changes nothing; nor does one for no incident.
    incidents.refresh_figures(opened.incident_id, opened.stats, NOW, NOW + timedelta(minutes=1))
    incidents.refresh_figures("no-such-incident", busier, later, later)
    assert incidents.get(opened.incident_id).stats.mentions == 90
    with pytest.raises(IncidentNotFound):
        incidents.get("no-such-incident")
    # A write of the incident after them: its own figures are the latest.
    current = incidents.get(opened.incident_id)
    newest = NOW + timedelta(minutes=9)
    incidents.update(current.model_copy(update={"updated_at": newest, "level": Level.RED}))
    stored = incidents.get(opened.incident_id)
    assert (stored.level, stored.stats.mentions, stored.updated_at) == (Level.RED, 90, newest)
    acknowledged, _ = incidents.acknowledge(
        opened.incident_id, Acknowledgement(by="王经理", at=newest, level=Level.RED)
    )
    assert acknowledged.stats.mentions == 90


def test_a_resolved_incident_keeps_the_figures_written_apart(ports):
    incidents, opened = ports.incidents, incident()
    incidents.create(opened)
    later = NOW + timedelta(minutes=6)
    incidents.refresh_figures(
        opened.incident_id, opened.stats.model_copy(update={"mentions": 900}), later, later
    )
    # The detector resolves the incident as it assessed it, quiet: the figures stored last are kept,
    # those written apart included.
    assessed = incidents.get(opened.incident_id)
    quiet = assessed.model_copy(update={"stats": opened.stats.model_copy(update={"mentions": 1})})
    resolved = incidents.resolve(
        quiet, Resolution(at=NOW + timedelta(hours=7), by="crisiswatch", reason="平息")
    )
    for read in (resolved, incidents.get(opened.incident_id)):
        assert (read.status, read.stats.mentions, read.last_active_at) == ("resolved", 900, later)


def test_a_resolve_after_another_scorer_stored_a_busier_moment_is_stale(ports):
    """Two scorers: one read the story quiet and resolves it, the other meanwhile stored a busy
    moment apart: the resolve must not go through (the detector re-reads, and finds it busy)."""
    incidents, opened = ports.incidents, incident(last_active_at=NOW)
    incidents.create(opened)
    quiet_read = incidents.get(opened.incident_id)
    busy = NOW + timedelta(hours=6, minutes=30)
    incidents.refresh_figures(opened.incident_id, opened.stats, busy, busy)
    with pytest.raises(StaleIncident):
        incidents.resolve(quiet_read, Resolution(at=busy, by="crisiswatch", reason="本话题已平静 6.5 小时"))
    assert incidents.get(opened.incident_id).status == "open"


def test_a_refresh_never_moves_the_last_busy_moment_back(ports):
    """A quiet assessment that finishes after a busy one (two scorers) brings later figures but an
    older busy moment: the stored busy moment stays."""
    incidents, opened = ports.incidents, incident(last_active_at=NOW)
    incidents.create(opened)
    busy, quiet_later = NOW + timedelta(minutes=10), NOW + timedelta(minutes=11)
    incidents.refresh_figures(opened.incident_id, opened.stats, busy, busy)
    incidents.refresh_figures(opened.incident_id, opened.stats, NOW, quiet_later)
    assert incidents.get(opened.incident_id).last_active_at == busy


def test_a_notification_for_an_unknown_incident_says_so(ports):
    note = Notification(
        at=NOW, level=Level.ORANGE, tier=Level.ORANGE, kind="alert", message_id="m", sms="s", subject="s"
    )
    with pytest.raises(IncidentNotFound):
        ports.incidents.record_notification("nope", note, wait_token=None)
    with pytest.raises(IncidentNotFound):
        ports.incidents.get("nope")


def test_mark_escalated_is_version_checked_too(ports):
    ports.incidents.create(incident())
    escalated = ports.incidents.mark_escalated(incident(), Level.ORANGE)
    assert (escalated.escalated_level, escalated.version) == (Level.ORANGE, 1)
    assert ports.incidents.get(incident().incident_id).escalated_level == Level.ORANGE
    with pytest.raises(StaleIncident):
        ports.incidents.mark_escalated(incident(), Level.RED)


def test_a_cursor_is_empty_until_saved_and_kept_per_watch_and_platform(ports):
    cursors = ports.cursors
    assert cursors.get("w", "weibo") == FetchCursor()
    cursor = FetchCursor().after([post("1", created_at=NOW - timedelta(minutes=3))], OVERLAP)
    assert cursors.save("w", "weibo", cursor, NOW) is True
    stored = cursors.get("w", "weibo")
    assert stored.high_water == NOW - timedelta(minutes=3)
    assert stored.seen == cursor.seen and stored.version == 1
    assert cursors.get("w", "bilibili") == FetchCursor()  # per watch and platform
    assert cursors.get("v", "weibo") == FetchCursor()


def test_a_cursor_save_fails_once_another_run_saved_and_the_merge_then_keeps_both(ports):
    cursors = ports.cursors
    first = cursors.get("w", "weibo")
    slow = cursors.get("w", "weibo")  # two runs of the same watch read the same cursor
    assert cursors.save("w", "weibo", first.after([post("1", created_at=NOW)], OVERLAP), NOW)
    late = slow.after([post("2", created_at=NOW - timedelta(minutes=1))], OVERLAP)
    assert cursors.save("w", "weibo", late, NOW) is False  # it would undo the first run's
    assert set(cursors.get("w", "weibo").seen) == {seen_key("weibo#1")}
    merged = late.merged(cursors.get("w", "weibo"), OVERLAP)
    assert cursors.save("w", "weibo", merged, NOW) is True
    stored = cursors.get("w", "weibo")
    assert (
        stored.high_water == NOW
        and set(stored.seen) == {seen_key("weibo#1"), seen_key("weibo#2")}
        and stored.version == 2
    )


def test_watches_create_read_replace_delete(ports):
    watches = ports.watches
    assert watches.list() == []
    watches.create(watch(id="b-brand"), NOW, by="ops")
    watches.create(watch(id="a-brand", rules={"weibo": "鲜味坊 NOT 招聘"}), NOW)
    with pytest.raises(WatchExists):
        watches.create(watch(id="a-brand"), NOW)
    assert [w.id for w in watches.list()] == ["a-brand", "b-brand"]  # in id order
    assert watches.get("a-brand").rules == {"weibo": "鲜味坊 NOT 招聘"}

    watches.replace(watch(id="a-brand", keywords=["鲜味坊", "XWF"]), NOW)
    assert watches.get("a-brand").keywords == ["鲜味坊", "XWF"]
    with pytest.raises(WatchNotFound):
        watches.replace(watch(id="c-brand"), NOW)

    watches.delete("a-brand")
    with pytest.raises(WatchNotFound):
        watches.get("a-brand")
    with pytest.raises(WatchNotFound):
        watches.delete("a-brand")
    assert [w.id for w in watches.list()] == ["b-brand"]


def store_unvalidated(ports, watch_id: str, data: dict) -> None:
    """A watch item that never went through Watch (hand-edited, or written before a limit)."""
    if ports.kind == "memory":
        ports.watches.put_stored(watch_id, json.dumps(data, ensure_ascii=False))
        return
    item = watch_item(watch(id=watch_id), NOW.isoformat()) | {"watch": to_value(data)}
    boto3.client("dynamodb").put_item(TableName=os.environ[Env.STATE_TABLE], Item=item)


def test_watches_are_counted(ports):
    assert ports.watches.count() == 0
    for i in range(3):
        ports.watches.create(watch(id=f"w{i}"), NOW)
    ports.watches.delete("w1")
    assert ports.watches.count() == 2


def test_an_unreadable_watch_is_skipped_by_the_list_logged_and_counted(ports, monkeypatch):
    counted, warned = [], []
    monkeypatch.setattr(watch_reading, "count_now", lambda name, value=1: counted.append((name, value)))
    monkeypatch.setattr(
        watch_reading.logger, "warning", lambda message, **keys: warned.append((message, keys))
    )
    ports.watches.create(watch(id="a-brand"), NOW)
    ports.watches.create(watch(id="c-brand"), NOW)
    bad = watch(id="b-brand").model_dump(mode="json") | {"rules": {"tiktok": "鲜味坊"}}
    store_unvalidated(ports, "b-brand", bad)

    assert [w.id for w in ports.watches.list()] == ["a-brand", "c-brand"]
    assert counted == [(watch_reading.UNREADABLE_WATCHES_METRIC, 1)]
    [(message, keys)] = warned
    assert (message, keys["watch_id"]) == ("unreadable watch skipped", "b-brand")
    assert "rules" in keys["reason"] and "tiktok" in keys["reason"]
    assert ports.watches.count() == 3  # still stored: it can be repaired or deleted
    with pytest.raises(UnreadableWatch, match="b-brand"):
        ports.watches.get("b-brand")
    ports.watches.replace(watch(id="b-brand"), NOW)
    assert [w.id for w in ports.watches.list()] == ["a-brand", "b-brand", "c-brand"]


def test_an_update_from_an_earlier_read_keeps_what_was_appended_since(ports):
    incidents = ports.incidents
    incidents.create(incident())
    read = incidents.get(incident().incident_id)
    note = Notification(
        at=NOW, level=Level.ORANGE, tier=Level.ORANGE, kind="alert", message_id="m1", sms="s", subject="s"
    )
    incidents.record_notification(read.incident_id, note, wait_token=None)  # the notifier, meanwhile

    incidents.update(read.model_copy(update={"level": Level.RED}))  # the scorer, from its read
    incidents.mark_escalated(incidents.get(read.incident_id), Level.RED)

    stored = incidents.get(read.incident_id)
    assert stored.level == Level.RED and stored.escalated_level == Level.RED
    assert [n.message_id for n in stored.notifications] == ["m1"]
