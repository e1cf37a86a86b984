"""Every handler on in-memory adapters: parse the event, call its service, shape the answer."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from crisiswatch.api.app import ApiDeps
from crisiswatch.escalation.service import Notifier
from crisiswatch.handlers import api, fetcher, notifier, push, scheduler, scorer
from crisiswatch.incidents.detection import escalation_input, execution_name
from crisiswatch.incidents.intake import RESOLVED, SILENT_WATCHES, Intake
from crisiswatch.incidents.service import STATS_REFRESH
from crisiswatch.ingest.credentials import PlatformCredentials
from crisiswatch.ingest.errors import FetchError
from crisiswatch.ingest.fetching import Fetcher
from crisiswatch.ingest.push_receiver import PushReceiver
from crisiswatch.ingest.scheduling import Scheduler, UnknownPlatform
from crisiswatch.ingest.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from crisiswatch.memory.messaging import MemoryAlertPublisher, MemoryQueue, MemorySecrets
from crisiswatch.memory.store import (
    MemoryCursorStore,
    MemoryIncidentRepository,
    MemoryWatchCatalogue,
)
from crisiswatch.memory.timeline import MemoryTimeline
from crisiswatch.memory.workflow import MemoryWorkflow
from crisiswatch.vocabulary import FetchJob, Level
from crisiswatch.watches import WatchCache
from infra.local.memory_runtime import memory_intake
from tests.builders import NOW, incident, post, sqs_event, watch
from tests.stack import ROUTING
from tests.unit.handlers.conftest import event

COMPLAINTS = [
    "鲜味坊的外卖吃出虫子，拉肚子一晚上[怒]",
    "鲜味坊食品变质，吃完上吐下泻，必须投诉！",
    "鲜味坊的菜发霉了，太恶心了[吐]",
]


def test_the_scheduler_queues_one_job_per_watch_of_the_platform(wire, context, clock):
    queue = MemoryQueue()
    watches = MemoryWatchCatalogue([watch(), watch(id="douyin-only", platforms=["douyin"])])
    wire(scheduler, Scheduler(watches, {"weibo": queue}, clock))

    assert scheduler.lambda_handler(event("schedule_weibo.json"), context) == {"platform": "weibo", "jobs": 1}
    (job,) = [FetchJob.model_validate_json(m.body) for m in queue.receive(10)]
    assert (job.watch.id, job.scheduled_at, job.since) == ("xianweifang", NOW, NOW - timedelta(minutes=60))
    with pytest.raises(UnknownPlatform):
        scheduler.lambda_handler({"platform": "bilibili"}, context)


class Pages:
    """A platform client that serves given search pages, or fails."""

    def __init__(self, payloads=None, error=None):
        self.payloads, self.error = list(payloads or []), error

    def get_json(self, url, *, headers=None):
        if self.error:
            raise self.error
        return self.payloads.pop(0) if self.payloads else {"ok": 0, "msg": "这里还没有内容"}


def _fetcher(client, clock) -> tuple[Fetcher, MemoryQueue, MemoryCursorStore]:
    queue, cursors = MemoryQueue(), MemoryCursorStore()
    service = Fetcher(
        cursors,
        queue,
        {"weibo": "http://weibo.test"},
        PlatformCredentials(MemorySecrets(), {}),
        lambda s: client,
        clock,
    )
    return service, queue, cursors


def _mblog_page(*ids: str) -> dict:
    mblog = {
        "user": {"id": 1, "screen_name": "吃货小王", "followers_count": 12, "verified_type": -1},
        "text": "鲜味坊的外卖吃出虫子",
        "created_at": "刚刚",
        "reposts_count": 0,
        "comments_count": 0,
        "attitudes_count": 0,
    }
    cards = [{"card_type": 9, "mblog": mblog | {"id": i, "mid": i}} for i in ids]
    return {"ok": 1, "data": {"cardlistInfo": {"page": None}, "cards": cards}}


def test_the_fetcher_queues_what_matched_then_moves_the_cursor(wire, context, clock):
    service, queue, cursors = _fetcher(Pages([_mblog_page("11", "12")]), clock)
    wire(fetcher, service)
    job = FetchJob(watch=watch(), platform="weibo", scheduled_at=NOW, since=NOW - timedelta(hours=1))

    assert fetcher.lambda_handler(sqs_event(job.model_dump_json()), context) == {"batchItemFailures": []}
    assert sorted(json.loads(m.body)["post_id"] for m in queue.receive(10)) == ["11", "12"]
    assert cursors.get("xianweifang", "weibo").high_water == NOW


def test_a_poison_fetch_job_fails_alone(wire, context, clock):
    service, queue, cursors = _fetcher(Pages([_mblog_page("11")]), clock)
    wire(fetcher, service)
    job = FetchJob(watch=watch(), platform="weibo", scheduled_at=NOW)
    events = sqs_event(job.model_dump_json(), "{not json")

    response = fetcher.lambda_handler(events, context)

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [events["Records"][1]["messageId"]]
    assert len(queue) == 1 and cursors.get("xianweifang", "weibo").high_water == NOW


def test_a_fetch_that_fails_queues_nothing_and_leaves_the_cursor(wire, context, clock):
    service, queue, cursors = _fetcher(Pages(error=FetchError("HTTP 503", status=503)), clock)
    wire(fetcher, service)
    job = FetchJob(watch=watch(), platform="weibo", scheduled_at=NOW)

    with pytest.raises(BatchProcessingError):  # every record failed: the whole batch goes back
        fetcher.lambda_handler(sqs_event(job.model_dump_json()), context)
    assert len(queue) == 0 and cursors.get("xianweifang", "weibo").high_water is None


def _intake(clock) -> tuple[Intake, MemoryIncidentRepository, MemoryWorkflow]:
    scoring = memory_intake([watch()], clock, alerts=MemoryAlertPublisher())
    return scoring.intake, scoring.incidents, scoring.workflow


def test_the_scorer_opens_an_incident_stores_once_and_fails_only_the_poison_record(wire, context, clock):
    service, incidents, workflow = _intake(clock)
    wire(scorer, service)
    posts = [
        post(str(i), text=COMPLAINTS[i % 3] + f" #{i}", created_at=NOW).model_dump_json() for i in range(24)
    ]
    batch = sqs_event(*posts, '{"platform": "weibo"')

    response = scorer.lambda_handler(batch, context)

    assert [f["itemIdentifier"] for f in response["batchItemFailures"]] == [batch["Records"][-1]["messageId"]]
    (opened,) = incidents.open_incidents("xianweifang")  # three near-duplicate stories: one surge
    assert opened.level >= Level.YELLOW and opened.stats.mentions == 24
    assert list(workflow.executions) == [execution_name(opened)]
    assert scorer.lambda_handler(sqs_event(*posts), context) == {"batchItemFailures": []}  # redelivered
    assert incidents.open_incidents("xianweifang")[0].stats == opened.stats
    assert len(workflow.executions) == 1


def test_an_open_incident_s_figures_are_written_at_most_every_few_minutes_unless_more_changed(clock):
    service, incidents, _ = _intake(clock)

    def feed(first: int, n: int, at) -> None:
        clock.set(at)
        batch = service.batch()
        for i in range(first, first + n):
            batch.add(post(str(i), text=COMPLAINTS[i % 3] + f" #{i}", created_at=at))
        batch.finish()

    feed(0, 24, NOW)
    (opened,) = incidents.open_incidents("xianweifang")
    feed(24, 2, NOW + timedelta(minutes=1))  # more of the same within STATS_REFRESH: not written
    assert incidents.get(opened.incident_id).stats == opened.stats
    feed(26, 2, NOW + STATS_REFRESH + timedelta(minutes=1))
    refreshed = incidents.get(opened.incident_id)
    assert refreshed.stats.mentions > opened.stats.mentions  # counted all along, written now
    assert refreshed.updated_at == NOW + STATS_REFRESH + timedelta(minutes=1)
    assert (refreshed.version, refreshed.top_posts) == (opened.version, opened.top_posts)  # written apart


def test_the_notifier_publishes_and_keeps_the_wait_token(wire, context, clock):
    incidents, alerts = MemoryIncidentRepository(), MemoryAlertPublisher()
    incidents.create(incident(level=Level.ORANGE))
    wire(notifier, Notifier(incidents, alerts, clock, routing=ROUTING))
    request = {"incident_id": incident().incident_id, "tier": "red", "kind": "alert", "task_token": "t-1"}

    answer = notifier.lambda_handler(request, context)

    (published,) = alerts.published
    assert answer == {"sent": [published.message_id], "tier": "red", "kind": "alert"}
    assert published.recipients == ("analysts", "management", "pr-duty")  # the red tier, by name
    assert published.tier == Level.RED and len(published.alert.sms) <= 70
    assert incidents.get(incident().incident_id).notifications[0].at == NOW
    _, tokens = incidents.acknowledge(incident().incident_id, _ack())
    assert tokens == ["t-1"]


def _ack():
    from crisiswatch.incidents.record import Acknowledgement

    return Acknowledgement(by="王经理", at=NOW, level=Level.ORANGE)


def test_the_api_shows_and_acknowledges_an_incident_and_refuses_bad_requests(wire, context, clock):
    incidents, alerts = MemoryIncidentRepository(), MemoryAlertPublisher()
    workflow = MemoryWorkflow(Notifier(incidents, alerts, clock, routing=ROUTING).notify, clock)
    created = incident(level=Level.ORANGE)
    incidents.create(created)
    workflow.start(
        execution_name(created), escalation_input(created, {"yellow": 60, "orange": 60, "red": 60})
    )
    wire(api, ApiDeps(incidents, workflow, MemoryWatchCatalogue([watch()]), clock, MemoryTimeline()))
    get = event("api_get_incident.json")

    shown = api.lambda_handler(get, context)
    assert shown["statusCode"] == 200 and json.loads(shown["body"])["level"] == "orange"

    ack = get | {
        "httpMethod": "POST",
        "resource": "/incidents/{incident_id}/ack",
        "path": get["path"] + "/ack",
    }
    missing_by = api.lambda_handler(ack | {"body": json.dumps({"note": "收到"})}, context)
    assert missing_by["statusCode"] == 422 and "by" in json.loads(missing_by["body"])["message"]

    answered = api.lambda_handler(ack | {"body": json.dumps({"by": "王经理"}, ensure_ascii=False)}, context)
    assert answered["statusCode"] == 200 and json.loads(answered["body"])["released_escalations"] == 1
    assert workflow.executions[execution_name(created)].status == "Acknowledged"

    unknown = get | {"path": "/incidents/nope-1", "pathParameters": {"incident_id": "nope-1"}}
    assert api.lambda_handler(unknown, context)["statusCode"] == 404


def _push_event(body: bytes, secret: bytes, timestamp: str) -> dict:
    headers = {TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(secret, timestamp, body)}
    return {
        "httpMethod": "POST",
        "path": "/push",
        "headers": headers,
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def test_push_queues_signed_posts_that_match_and_refuses_a_bad_signature(wire, context, clock):
    secret, queue = "pushed-secret", MemoryQueue()
    wire(
        push,
        PushReceiver(
            MemorySecrets({"push": secret}), "push", WatchCache(MemoryWatchCatalogue([watch()])), queue, clock
        ),
    )
    posts = [
        {
            "post_id": "p1",
            "author": {"id": "u1"},
            "text": "鲜味坊的外卖吃出虫子",
            "created_at": NOW.isoformat(),
        },
        {"post_id": "p2", "author": {"id": "u2"}, "text": "今天天气不错", "created_at": NOW.isoformat()},
    ]
    body = json.dumps(
        {"watch_id": "xianweifang", "platform": "weibo", "posts": posts}, ensure_ascii=False
    ).encode()
    timestamp = str(int(NOW.timestamp()))

    accepted = push.lambda_handler(_push_event(body, secret.encode(), timestamp), context)
    assert (accepted["statusCode"], json.loads(accepted["body"])) == (202, {"accepted": 1, "dropped": 1})
    assert [json.loads(m.body)["post_id"] for m in queue.receive(10)] == ["p1"]

    forged = push.lambda_handler(_push_event(body, b"not-the-secret", timestamp), context)
    assert forged["statusCode"] == 401 and len(queue) == 0


def test_the_scorer_sweep_resolves_what_went_quiet_without_new_posts(wire, context, clock):
    service, incidents, workflow = _intake(clock)
    wire(scorer, service)
    posts = [
        post(str(i), text=COMPLAINTS[i % 3] + f" #{i}", created_at=NOW).model_dump_json() for i in range(24)
    ]
    scorer.lambda_handler(sqs_event(*posts), context)
    (opened,) = incidents.open_incidents("xianweifang")

    clock.advance(3600)
    assert scorer.lambda_handler({"sweep": True}, context) == {RESOLVED: 0, SILENT_WATCHES: 0}  # still recent
    clock.advance(6 * 3600)
    assert scorer.lambda_handler({"sweep": True}, context) == {RESOLVED: 1, SILENT_WATCHES: 0}
    resolved = incidents.get(opened.incident_id)
    assert (resolved.status, resolved.resolution.by) == ("resolved", "crisiswatch")
    assert incidents.open_incidents("xianweifang") == []
