"""The data-access layer against moto's DynamoDB, on the tables the template defines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crisiswatch.incidents.model import Acknowledgement, Notification
from crisiswatch.models import Engagement, Level
from crisiswatch.store import IncidentAlreadyOpen, IncidentNotFound, IncidentResolved, StaleIncident
from tests.builders import NOW, incident, post, score
from tests.integration.helpers import stores


def test_a_post_is_stored_and_counted_once(aws):
    posts, _ = stores()
    assert posts.save(post("1"), score(negative=0.9, risk=0.8), NOW) is True
    assert posts.save(post("1"), score(negative=0.9, risk=0.8), NOW) is False  # redelivered
    assert posts.save(post("2", text="鲜味坊真好吃"), score(negative=0.1, risk=0.05), NOW) is True

    window = posts.window("xianweifang", NOW, hours=6)
    assert (window.mentions, window.negatives, window.high_risk, window.reach) == (2, 1, 1, 1200)
    assert window.risk_sum == pytest.approx(0.85)
    assert posts.get("weibo#1")["score#xianweifang"]["risk"] == 0.8


def test_a_post_two_watches_match_is_stored_once_and_counted_for_each(aws):
    posts, _ = stores()
    assert posts.save(post("1"), score(), NOW) is True
    assert posts.save(post("1", watch_id="other-brand"), score(risk=0.2), NOW) is True
    assert posts.save(post("1", watch_id="other-brand"), score(risk=0.2), NOW) is False
    assert posts.window("xianweifang", NOW, 6).mentions == 1
    assert posts.window("other-brand", NOW, 6).mentions == 1
    stored = posts.get("weibo#1")
    assert stored["watch_ids"] == {"xianweifang", "other-brand"}
    assert (stored["score#xianweifang"]["risk"], stored["score#other-brand"]["risk"]) == (0.8, 0.2)


def test_a_post_seen_again_refreshes_its_engagement_and_keeps_the_previous_poll(aws):
    posts, _ = stores()
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


def test_the_window_covers_only_its_hours(aws):
    posts, _ = stores()
    posts.save(post("old", created_at=NOW - timedelta(hours=7)), score(), NOW)
    posts.save(post("new", created_at=NOW - timedelta(hours=5)), score(), NOW)
    posts.save(post("future", created_at=NOW + timedelta(hours=2)), score(), NOW)  # clock skew: counted now
    assert posts.window("xianweifang", NOW, hours=6).mentions == 2


def test_one_open_incident_per_watch(aws):
    _, incidents = stores()
    incidents.create(incident())
    with pytest.raises(IncidentAlreadyOpen):
        incidents.create(incident(incident_id="xianweifang-20261121-0300"))
    assert incidents.open_incident("xianweifang").incident_id == incident().incident_id
    assert incidents.open_incident("another-watch") is None


def test_updates_are_optimistically_locked(aws):
    _, incidents = stores()
    incidents.create(incident())
    first = incidents.update(incident(level=Level.RED))
    assert first.version == 1 and incidents.get(first.incident_id).level == Level.RED
    with pytest.raises(StaleIncident):
        incidents.update(incident(level=Level.RED))  # written against version 0


def test_acknowledging_releases_every_waiting_token_once(aws):
    _, incidents = stores()
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


def test_acknowledging_unknown_or_resolved_incidents_says_which(aws):
    _, incidents = stores()
    ack = Acknowledgement(by="王经理", at=NOW, level=Level.ORANGE)
    with pytest.raises(IncidentNotFound):
        incidents.acknowledge("nope", ack)
    incidents.create(incident())
    incidents.update(incident(status="resolved"))
    with pytest.raises(IncidentResolved):
        incidents.acknowledge(incident().incident_id, ack)


def test_listing_pages_newest_first_by_status(aws):
    _, incidents = stores()
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
