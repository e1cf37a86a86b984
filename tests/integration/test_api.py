"""The incidents API through the template's API Gateway routes, on moto."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import boto3

from crisiswatch.aws.timeline import DynamoTimeline
from crisiswatch.constants import Env
from crisiswatch.handlers import api
from crisiswatch.incidents.record import Notification, TimelineEvent
from crisiswatch.vocabulary import Level
from infra.local.emulator.runtime import FakeLambdaContext
from tests.builders import NOW, incident
from tests.integration.helpers import stores

EVENTS = Path(__file__).resolve().parents[1] / "events"


def test_routes_come_from_the_template(aws):
    api = aws.function("crisiswatch.handlers.api")
    assert sorted((r.method, r.resource) for r in aws.stack.routes if r.function is api) == [
        ("DELETE", "/watches/{watch_id}"),
        ("GET", "/incidents"),
        ("GET", "/incidents/{incident_id}"),
        ("GET", "/incidents/{incident_id}/timeline"),
        ("GET", "/watches"),
        ("GET", "/watches/{watch_id}"),
        ("POST", "/incidents/{incident_id}/ack"),
        ("POST", "/incidents/{incident_id}/resolve"),
        ("POST", "/incidents/{incident_id}/statements"),
        ("POST", "/watches"),
        ("PUT", "/watches/{watch_id}"),
    ]


def test_list_and_detail(aws):
    _, incidents = stores()
    incidents.create(incident(level=Level.RED))
    status, listing = aws.api("GET", "/incidents")
    assert status == 200
    assert [(i["incident_id"], i["level"], i["negatives"]) for i in listing["incidents"]] == [
        ("xianweifang-20261121-0230", "red", 30)
    ]
    status, detail = aws.api("GET", "/incidents/xianweifang-20261121-0230")
    assert status == 200
    assert detail["top_posts"][0]["text"] == "鲜味坊的外卖吃出虫子"
    assert "wait_tokens" not in json.dumps(detail)


def test_acknowledge_records_who_and_the_iam_caller(aws):
    _, incidents = stores()
    incidents.create(incident())
    status, body = aws.api(
        "POST", "/incidents/xianweifang-20261121-0230/ack", body={"by": "王经理", "note": "处理中"}
    )
    assert status == 200
    assert body["incident"]["status"] == "acknowledged"
    ack = body["incident"]["acknowledgements"][0]
    assert (ack["by"], ack["level"], ack["caller"]) == (
        "王经理",
        "orange",
        "arn:aws:iam::123456789012:user/local-analyst",
    )
    assert body["released_escalations"] == 0  # nothing was waiting


def test_the_canonical_api_gateway_event(aws):
    """A REST proxy event as API Gateway sends it (tests/events/api_get_incident.json)."""
    _, incidents = stores()
    incidents.create(incident())
    event = json.loads((EVENTS / "api_get_incident.json").read_text())
    response = api.lambda_handler(event, FakeLambdaContext(aws.function("crisiswatch.handlers.api")))
    assert response["statusCode"] == 200
    assert json.loads(response["body"])["incident_id"] == "xianweifang-20261121-0230"


def test_bad_requests_get_a_4xx_with_a_reason(aws):
    _, incidents = stores()
    incidents.create(incident())
    incidents.create(incident(incident_id="old-20261101-0000", watch_id="old", status="resolved"))
    cases = [
        ("GET", "/incidents", None, {"limit": "0"}, 422, "query.limit"),
        ("GET", "/incidents", None, {"status": "closed"}, 422, "query.status"),
        ("GET", "/incidents", None, {"cursor": "garbage"}, 422, "query.cursor"),
        ("GET", "/incidents/NOT_AN_ID", None, None, 422, "path.incident_id"),
        ("GET", "/incidents/no-such-incident", None, None, 404, "no incident 'no-such-incident'"),
        ("POST", "/incidents/xianweifang-20261121-0230/ack", {}, None, 422, "body.by"),
        ("POST", "/incidents/xianweifang-20261121-0230/ack", "{broken json", None, 422, "body"),
        ("POST", "/incidents/xianweifang-20261121-0230/ack", {"by": "x" * 65}, None, 422, "body.by"),
        (
            "POST",
            "/incidents/xianweifang-20261121-0230/ack",
            {"by": "a", "extra": 1},
            None,
            422,
            "body.extra",
        ),
        ("POST", "/incidents/old-20261101-0000/ack", {"by": "a"}, None, 409, "resolved"),
        ("POST", "/incidents/no-such-incident/ack", {"by": "a"}, None, 404, "no incident"),
        ("DELETE", "/incidents/xianweifang-20261121-0230", None, None, 403, "Missing Authentication Token"),
    ]
    for method, path, body, query, expected_status, reason in cases:
        status, answer = aws.api(method, path, body=body, query=query)
        assert (status, reason in json.dumps(answer, ensure_ascii=False)) == (expected_status, True), (
            method,
            path,
            body,
            query,
            answer,
        )


INCIDENT = "xianweifang-20261121-0230"


def _timeline() -> DynamoTimeline:
    return DynamoTimeline(boto3.client("dynamodb"), os.environ[Env.STATE_TABLE])


def _event(i: int, **overrides) -> TimelineEvent:
    values = {
        "at": NOW + timedelta(seconds=i),
        "kind": "notified",
        "key": f"notified#{i:03d}",
        "summary": f"第{i}条通知已发送",
        "details": {"tier": "orange", "recipients": ["王经理"]},
    }
    return TimelineEvent(**(values | overrides))


def test_the_timeline_pages_oldest_first_through_the_handler(aws):
    _, incidents = stores()
    incidents.create(incident())
    appended = [_event(i) for i in range(120)]
    _timeline().append(INCIDENT, appended[::-1])

    status, first = aws.api("GET", f"/incidents/{INCIDENT}/timeline")  # the default limit: 50
    assert status == 200 and first["incident_id"] == INCIDENT and len(first["events"]) == 50
    seen, cursor, pages = list(first["events"]), first["next_cursor"], 1
    while cursor:
        status, page = aws.api(
            "GET", f"/incidents/{INCIDENT}/timeline", query={"limit": "45", "cursor": cursor}
        )
        assert status == 200
        seen += page["events"]
        cursor, pages = page["next_cursor"], pages + 1
    assert pages == 3  # 50 + 45 + 25, and no empty page after the last
    assert seen == [e.model_dump(mode="json") for e in appended]
    assert seen[0] == {
        "at": "2026-11-21T02:30:00Z",
        "kind": "notified",
        "key": "notified#000",
        "summary": "第0条通知已发送",
        "details": {"tier": "orange", "recipients": ["王经理"]},
    }

    status, everything = aws.api("GET", f"/incidents/{INCIDENT}/timeline", query={"limit": "200"})
    assert status == 200 and len(everything["events"]) == 120 and everything["next_cursor"] is None


def test_the_timeline_shows_only_the_stored_event_fields(aws):
    """Nothing of the items' keys, the idempotency markers or the incident's wait tokens."""
    _, incidents = stores()
    incidents.create(incident())
    notification = Notification(
        at=NOW, level="orange", tier="orange", kind="opened", message_id="m-1", sms="s", subject="t"
    )
    incidents.record_notification(INCIDENT, notification, wait_token="task-token-SECRET")
    _timeline().append(INCIDENT, [_event(0), _event(1, kind="acknowledged", details={})])

    status, body = aws.api("GET", f"/incidents/{INCIDENT}/timeline")
    assert status == 200 and set(body) == {"incident_id", "events", "next_cursor"}
    assert [set(e) for e in body["events"]] == [{"at", "kind", "key", "summary", "details"}] * 2
    text = json.dumps(body)
    assert not any(
        secret in text for secret in ("SECRET", "wait_token", "TIMELINE", "event_sk", '"pk"', '"sk"')
    )


def test_timeline_requests_that_get_a_4xx_with_a_reason(aws):
    _, incidents = stores()
    incidents.create(incident())
    incidents.create(incident(incident_id="other-20261121-0230", watch_id="other"))
    _timeline().append(INCIDENT, [_event(i) for i in range(3)])
    _timeline().append("other-20261121-0230", [_event(i) for i in range(3)])
    _, other_page = aws.api("GET", "/incidents/other-20261121-0230/timeline", query={"limit": "1"})
    path = f"/incidents/{INCIDENT}/timeline"
    cases = [
        ("/incidents/no-such-incident/timeline", None, 404, "no incident 'no-such-incident'"),
        ("/incidents/NOT_AN_ID/timeline", None, 422, "path.incident_id"),
        (path, {"limit": "0"}, 422, "query.limit"),
        (path, {"limit": "201"}, 422, "query.limit"),
        (path, {"limit": "many"}, 422, "query.limit"),
        (path, {"cursor": "not a cursor"}, 422, "query.cursor"),
        (path, {"cursor": "x" * 1025}, 422, "query.cursor"),
        (path, {"cursor": "Zm9v"}, 422, "query.cursor: cursor is not one this API returned"),
        (
            path,
            {"cursor": other_page["next_cursor"]},
            422,
            "query.cursor: cursor belongs to another incident",
        ),
    ]
    for request_path, query, expected_status, reason in cases:
        status, answer = aws.api("GET", request_path, query=query)
        assert (status, reason in json.dumps(answer, ensure_ascii=False)) == (expected_status, True), (
            request_path,
            query,
            answer,
        )
    status, answer = aws.api("GET", path, query={"cursor": "Zm9v"})
    assert answer["errors"] == [
        {"field": "query.cursor", "problem": "cursor is not one this API returned (does not decode)"}
    ]
