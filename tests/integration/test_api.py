"""The incidents API through the template's API Gateway routes, on moto."""

from __future__ import annotations

import json
from pathlib import Path

from crisiswatch.handlers import api
from crisiswatch.vocabulary import Level
from infra.local.emulator.runtime import FakeLambdaContext
from tests.builders import incident
from tests.integration.helpers import stores

EVENTS = Path(__file__).resolve().parents[1] / "events"


def test_routes_come_from_the_template(aws):
    api = aws.function("crisiswatch.handlers.api")
    assert sorted((r.method, r.resource) for r in aws.stack.routes if r.function is api) == [
        ("DELETE", "/watches/{watch_id}"),
        ("GET", "/incidents"),
        ("GET", "/incidents/{incident_id}"),
        ("GET", "/watches"),
        ("GET", "/watches/{watch_id}"),
        ("POST", "/incidents/{incident_id}/ack"),
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
