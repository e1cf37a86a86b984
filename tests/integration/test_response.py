"""The response after the alert on the embedded AWS: the notifier's timers in EventBridge Scheduler
(fired by the emulator on a simulated clock), statements and resolve through the API, the
incident's timeline, and SNS deliveries by recipient."""

from __future__ import annotations

import pytest

from crisiswatch.clock import SimulatedClock
from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.vocabulary import Level
from tests.builders import NOW, incident
from tests.integration.helpers import stores

INCIDENT = "xianweifang-20261121-0230"


@pytest.fixture
def clock(aws):
    clock = SimulatedClock(NOW)
    aws.run_on(clock)
    yield clock
    aws.run_on(None)


def _open(level=Level.ORANGE):
    _, incidents = stores()
    incidents.create(incident(level=level, deadlines=ClockDurations().deadlines(NOW)))


def _notify(aws, tier="orange", kind="alert"):
    return aws.invoke(
        aws.function("crisiswatch.handlers.notifier"),
        {"incident_id": INCIDENT, "level": "orange", "tier": tier, "kind": kind, "failed_tier": ""},
    )


def _schedules(aws) -> list[str]:
    scheduler = aws.client("scheduler")
    return [
        s["Name"]
        for group in aws.stack.schedule_groups.values()
        for s in scheduler.list_schedules(GroupName=group)["Schedules"]
    ]


def _sms(aws) -> list[tuple[str, str]]:
    return [(d.subscriber.endpoint, d.text) for d in aws.deliveries() if d.subscriber.protocol == "sms"]


def test_the_clocks_fire_a_statement_stops_one_a_miss_escalates_and_a_resolve_stops_all(aws, clock):
    _open()
    _notify(aws)
    # Orange: the analysts (e-mail) and the PR duty phone; management (red only) is not told.
    assert [endpoint for endpoint, _ in _sms(aws)] == ["+8613800000001"]
    assert len(_schedules(aws)) == 6  # a reminder and a due time per clock

    clock.advance(20 * 60)
    assert aws.fire_timers(clock.now()) == 1
    assert _sms(aws)[-1][1].startswith("【首次声明提醒】鲜味坊")

    status, body = aws.api(
        "POST",
        f"/incidents/{INCIDENT}/statements",
        body={"kind": "first", "by": "王经理", "url": "https://weibo.com/1"},
    )
    assert status == 201
    first = next(c for c in body["incident"]["clocks"] if c["kind"] == "first")
    assert (first["status"], first["met_by"]) == ("met", "王经理")
    assert len(_schedules(aws)) == 4  # the first statement's due timer is gone

    clock.advance(2 * 3600)
    assert aws.fire_timers(clock.now()) == 2  # the detailed statement: its reminder, then its miss
    missed = _sms(aws)[-2:]
    assert {endpoint for endpoint, _ in missed} == {"+8613800000001", "+8613800000002"}  # red: both phones
    assert all(text.startswith("【详细声明已超时】") and len(text) <= 70 for _, text in missed)

    status, body = aws.api(
        "POST", f"/incidents/{INCIDENT}/resolve", body={"by": "王经理", "summary": "已召回"}
    )
    assert status == 200 and body["incident"]["status"] == "resolved"
    assert {c["status"] for c in body["incident"]["clocks"]} == {"met", "missed", "stopped"}
    assert _schedules(aws) == []
    clock.advance(2 * 86400)
    assert aws.fire_timers(clock.now()) == 0

    status, page = aws.api("GET", f"/incidents/{INCIDENT}/timeline", query={"limit": "100"})
    assert status == 200
    kinds = [e["kind"] for e in page["events"]]
    for kind in ("notified", "reminder", "statement", "missed", "resolved"):
        assert kind in kinds, kind
    assert kinds[-1] == "resolved"


def test_statements_and_resolve_refuse_bad_requests_with_reasons(aws, clock):
    _open()
    status, body = aws.api("POST", f"/incidents/{INCIDENT}/statements", body={"kind": "apology", "by": "x"})
    assert status == 422 and "kind" in body["message"]
    status, body = aws.api(
        "POST", f"/incidents/{INCIDENT}/statements", body={"kind": "first", "by": "x", "url": "javascript:1"}
    )
    assert status == 422 and "url" in body["message"]
    status, _ = aws.api("POST", "/incidents/no-such/statements", body={"kind": "first", "by": "x"})
    assert status == 404
    status, body = aws.api("POST", f"/incidents/{INCIDENT}/resolve", body={"by": "x"})
    assert status == 422 and "summary" in body["message"]
    assert aws.api("POST", f"/incidents/{INCIDENT}/resolve", body={"by": "x", "summary": "done"})[0] == 200
    status, body = aws.api("POST", f"/incidents/{INCIDENT}/resolve", body={"by": "x", "summary": "again"})
    assert status == 409
    status, body = aws.api("POST", f"/incidents/{INCIDENT}/statements", body={"kind": "first", "by": "x"})
    assert status == 409


def test_a_statement_before_the_clocks_start_is_kept_and_counts(aws, clock):
    _, incidents = stores()
    incidents.create(incident(level=Level.YELLOW))  # no deadlines yet
    assert (
        aws.api("POST", f"/incidents/{INCIDENT}/statements", body={"kind": "first", "by": "王经理"})[0] == 201
    )
    stored = incidents.get(INCIDENT)
    assert [s.kind for s in stored.statements] == ["first"] and stored.clocks == []


def test_one_brands_people_never_receive_another_brands_alerts(aws, clock):
    oncall = {"tiers": {"orange": {"notify": ["management"]}}}  # brand B's own policy
    brand_b = {"id": "brand-b", "name": "乙品牌", "keywords": ["乙品牌"], "oncall": oncall}
    assert aws.api("POST", "/watches", body=brand_b)[0] == 201
    _, incidents = stores()
    incidents.create(incident(incident_id="brand-b-20261121-0230-0", watch_id="brand-b", watch_name="乙品牌"))
    aws.invoke(
        aws.function("crisiswatch.handlers.notifier"),
        {"incident_id": "brand-b-20261121-0230-0", "level": "orange", "tier": "orange", "kind": "alert"},
    )
    # Only brand B's orange tier, management's phone: not the analysts nor the PR duty phone, whom
    # the default policy (brand A's) tells at orange.
    assert [(d.subscriber.endpoint, d.level) for d in aws.deliveries()] == [("+8613800000002", "orange")]
