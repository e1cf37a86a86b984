"""Watches in DynamoDB: seeded at deploy time from the context, managed through the API, read by
the scheduler on every tick and by the scorer (through a short cache)."""

from __future__ import annotations

import json

from crisiswatch.handlers import scorer
from infra.local.emulator.runtime import FakeLambdaContext
from tests.builders import post, sqs_event, utcnow
from tests.integration.helpers import stores

NEW = {
    "id": "geek-coffee",
    "name": "极客咖啡",
    "keywords": ["极客咖啡"],
    "exclude": ["招聘"],
    "rules": {"weibo": "极客咖啡 NOT (招聘 OR 广告)"},
}


def test_the_context_watches_are_seeded_at_deploy(aws):
    status, body = aws.api("GET", "/watches")
    assert status == 200
    assert [w["id"] for w in body["watches"]] == ["xianweifang"]


def test_create_read_replace_delete(aws):
    assert aws.api("POST", "/watches", body=NEW)[0] == 201
    status, watch = aws.api("GET", "/watches/geek-coffee")
    assert (status, watch["rules"]) == (200, {"weibo": "极客咖啡 NOT (招聘 OR 广告)"})

    changed = NEW | {"keywords": ["极客咖啡", "GeekCoffee"]}
    assert aws.api("PUT", "/watches/geek-coffee", body=changed)[0] == 200
    assert aws.api("GET", "/watches/geek-coffee")[1]["keywords"] == ["极客咖啡", "GeekCoffee"]

    assert aws.api("DELETE", "/watches/geek-coffee")[0] == 204
    assert aws.api("GET", "/watches/geek-coffee")[0] == 404


def test_watch_requests_that_cannot_work_get_a_reason(aws):
    aws.api("POST", "/watches", body=NEW)
    cases = [
        ("POST", "/watches", NEW, 409, "exists already"),
        ("POST", "/watches", NEW | {"id": "Bad Id"}, 422, "body.id"),
        ("POST", "/watches", NEW | {"id": "x2", "keywords": []}, 422, "body.keywords"),
        (
            "POST",
            "/watches",
            NEW | {"id": "x3", "rules": {"weibo": "极客咖啡 AND (投诉 OR"}},
            422,
            "OR at the end",
        ),
        ("PUT", "/watches/geek-coffee", NEW | {"id": "other"}, 422, "differs from the path"),
        ("PUT", "/watches/nobody", NEW | {"id": "nobody"}, 404, "use POST /watches"),
        ("DELETE", "/watches/nobody", None, 404, "no watch 'nobody'"),
    ]
    for method, path, body, expected, reason in cases:
        status, answer = aws.api(method, path, body=body)
        assert (status, reason in json.dumps(answer, ensure_ascii=False)) == (expected, True), (
            method,
            path,
            answer,
        )


def test_the_scheduler_fetches_a_watch_created_through_the_api(aws):
    aws.api("POST", "/watches", body=NEW)
    assert aws.tick("weibo") == [{"platform": "weibo", "jobs": 2}]


def test_posts_of_a_deleted_watch_are_dropped_not_retried(aws):
    aws.api("POST", "/watches", body=NEW)
    aws.api("DELETE", "/watches/geek-coffee")
    scorer.wiring.reset()  # a fresh scorer: its watch cache reads the table now
    event = sqs_event(post("1", watch_id="geek-coffee", created_at=utcnow()).model_dump_json())
    response = scorer.lambda_handler(event, FakeLambdaContext(aws.function("crisiswatch.handlers.scorer")))
    assert response == {"batchItemFailures": []}
    posts, _ = stores()
    assert posts.get("weibo#1") is None


def test_a_watch_names_its_own_on_call_policy_and_only_people_the_deployment_can_reach(aws):
    oncall = {
        "tiers": {
            "orange": {"notify": ["pr-duty"], "ack_timeout_seconds": 900},
            "red": {"notify": ["management"]},
        },
        "quiet_hours": {"start": "23:00", "end": "07:30"},
    }
    assert aws.api("POST", "/watches", body=NEW | {"oncall": oncall})[0] == 201
    status, watch = aws.api("GET", "/watches/geek-coffee")
    assert status == 200 and watch["oncall"]["tiers"]["orange"]["notify"] == ["pr-duty"]
    assert watch["oncall"]["quiet_hours"]["timezone"] == "Asia/Shanghai"

    stranger = oncall | {"tiers": {"orange": {"notify": ["pr-duty", "someone-else"]}}}
    status, body = aws.api("PUT", "/watches/geek-coffee", body=NEW | {"oncall": stranger})
    assert status == 422 and "someone-else" in body["message"]
    status, body = aws.api(
        "PUT", "/watches/geek-coffee", body=NEW | {"oncall": oncall | {"quiet_hours": {"start": "25:00"}}}
    )
    assert status == 422
    status, body = aws.api(
        "PUT",
        "/watches/geek-coffee",
        body=NEW | {"oncall": oncall | {"quiet_hours": {"timezone": "Mars/Olympus"}}},
    )
    assert status == 422 and "time zone" in body["message"]
