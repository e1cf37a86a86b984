"""The scorer Lambda on moto: scoring, exactly-once counting, poison records, escalation starts, the
sweep's heartbeat."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import boto3
import pytest

from crisiswatch.aws.baselines import DynamoBaselineStore
from crisiswatch.aws.watches import DynamoWatchCatalogue
from crisiswatch.constants import Env
from crisiswatch.handlers import scorer
from crisiswatch.incidents.baseline import fold
from crisiswatch.incidents.intake import RESOLVED, SILENT_WATCHES
from crisiswatch.incidents.policy import WindowStats, counts_of
from crisiswatch.incidents.service import Detector
from crisiswatch.ports import ScoredPost
from crisiswatch.vocabulary import Level
from infra.local.emulator.runtime import FakeLambdaContext
from tests.builders import counted, post, score, sqs_event, utcnow, watch
from tests.integration.helpers import executions, stores

COMPLAINTS = [
    "鲜味坊的外卖吃出虫子，拉肚子一晚上[怒]",
    "鲜味坊食品变质，吃完上吐下泻，必须投诉！",
    "鲜味坊的菜发霉了，太恶心了[吐]",
    "鲜味坊吃出头发还不给退款，垃圾店",
    "在鲜味坊吃完肚子疼，食品安全谁来管[怒]",
]


def _invoke(aws, event: dict) -> dict:
    return scorer.lambda_handler(event, FakeLambdaContext(aws.function("crisiswatch.handlers.scorer")))


def _complaints(n: int, start: int = 0) -> list[str]:
    # The handler judges the last hours before its own clock: these posts are from just now.
    return [
        post(str(i), text=COMPLAINTS[i % len(COMPLAINTS)] + f" #{i}", created_at=utcnow()).model_dump_json()
        for i in range(start, start + n)
    ]


def _only_open(incidents):
    (incident,) = incidents.open_incidents("xianweifang")
    return incident


def test_complaints_open_an_incident_and_start_its_escalation(aws):
    response = _invoke(aws, sqs_event(*_complaints(24)))

    assert response == {"batchItemFailures": []}
    _, incidents = stores()
    incident = _only_open(incidents)  # five near-duplicate stories: one surge of the watch
    assert incident.level >= Level.YELLOW
    assert incident.stats.mentions == 24
    assert incident.top_posts and all(p.negative >= 0.5 for p in incident.top_posts)
    assert [e["name"] for e in executions(aws)] == [f"{incident.incident_id}-{incident.level.value}"]


def test_a_redelivered_batch_changes_nothing(aws):
    batch = sqs_event(*_complaints(24))
    _invoke(aws, batch)
    posts, incidents = stores()
    before = _only_open(incidents)

    assert _invoke(aws, batch) == {"batchItemFailures": []}

    after = _only_open(incidents)
    counts = ("mentions", "negatives", "high_risk", "reach", "engagement")
    assert [getattr(after.stats, c) for c in counts] == [getattr(before.stats, c) for c in counts]
    assert counted(posts, "xianweifang", utcnow()).mentions == 24
    assert len(executions(aws)) == 1


def test_posts_already_counted_and_unchanged_are_not_reassessed_unless_redelivered(aws, monkeypatch):
    batch = _complaints(24)
    _invoke(aws, sqs_event(*batch))
    reassessed = []
    real = scorer.wiring.get().detector.reassess
    monkeypatch.setattr(
        scorer.wiring.get().detector, "reassess", lambda *a: reassessed.append(a[0].id) or real(*a)
    )

    _invoke(aws, sqs_event(*batch))  # fetched again, first delivery: nothing changed
    assert reassessed == []
    _invoke(aws, sqs_event(*batch, receive_count=2))  # a redelivery: the first run may have crashed
    assert reassessed == ["xianweifang"]


def test_a_post_a_concurrent_scorer_stores_meanwhile_is_not_counted_twice(aws, monkeypatch):
    """Another scorer stores one of the batch's posts after this one read which are counted: the
    transaction is cancelled on that post, and the rest is written without it."""
    posts, _ = stores()
    other_scorer, _ = stores()
    racing = post("0", text=COMPLAINTS[0] + " #0", created_at=utcnow())
    real_counted = posts._counted

    def counted_then_raced(keys):
        found = real_counted(keys)
        raced = [ScoredPost(racing, score(), counts_of(racing, score()), "")]
        other_scorer.save_all(raced, utcnow())  # the other scorer, between the read and the transaction
        return found

    monkeypatch.setattr(posts, "_counted", counted_then_raced)
    batch = [
        ScoredPost(p, score(), counts_of(p, score()), "")
        for p in [racing, post("1", created_at=utcnow()), post("2", created_at=utcnow())]
    ]
    saved = posts.save_all(batch, utcnow())

    assert [s.stored for s in saved] == [False, True, True]
    assert counted(posts, "xianweifang", utcnow()).mentions == 3


def test_a_poison_record_fails_alone(aws):
    good = _complaints(3)
    event = sqs_event(
        good[0],
        "{not json",
        json.dumps({"platform": "weibo"}),
        good[1],
        post("x", watch_id="unknown-watch").model_dump_json(),
        good[2],
    )
    response = _invoke(aws, event)
    failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert failed == {event["Records"][i]["messageId"] for i in (1, 2)}  # retried, then the DLQ
    # A post for a watch that no longer exists is dropped, not retried: there is nothing to count it for.
    posts, _ = stores()
    assert counted(posts, "xianweifang", utcnow()).mentions == 3


@pytest.fixture
def low_orange(monkeypatch):
    """Orange a few posts above what opens yellow: the rise comes within the yellow tier's
    1-second acknowledgement timeout (tests/stack.py), before it escalates on its own."""
    monkeypatch.setenv("LEVEL_THRESHOLDS", json.dumps({"orange": {"min_mentions": 26, "min_negatives": 10}}))
    scorer.wiring.reset()
    yield
    monkeypatch.undo()
    scorer.wiring.reset()


def test_a_rising_level_supersedes_the_lower_escalation(aws, low_orange):
    _invoke(aws, sqs_event(*_complaints(24)))
    _, incidents = stores()
    assert _only_open(incidents).level == Level.YELLOW  # 24 complaints on a new watch

    _invoke(aws, sqs_event(*_complaints(4, start=100)))

    raised = _only_open(incidents)
    assert [h.level for h in raised.history] == [Level.YELLOW, Level.ORANGE]
    assert raised.escalated_level == Level.ORANGE
    by_level = {e["name"].rsplit("-", 1)[-1]: e["executionArn"] for e in executions(aws)}
    assert sorted(by_level) == ["orange", "yellow"]
    # Stopped: once its wait ends it escalates no further. AWS reports ABORTED at once; moto
    # ends the execution when its task-token wait ends, and calls it FAILED.
    yellow = aws.wait_for_execution(by_level["yellow"], timeout=10)
    assert yellow["status"] in ("ABORTED", "FAILED")
    events = aws.client("stepfunctions").get_execution_history(executionArn=by_level["yellow"])["events"]
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered.count("NotifyAndWait") == 1


@pytest.mark.parametrize("field", ["STATE_TABLE", "POSTS_TABLE"])
def test_a_missing_setting_fails_the_cold_start_naming_it(aws, monkeypatch, field):
    monkeypatch.delenv(field)
    scorer.wiring.reset()
    try:
        with pytest.raises(ValueError, match=field):
            _invoke(aws, sqs_event(*_complaints(1)))
    finally:
        monkeypatch.undo()
        scorer.wiring.reset()


def _busy_normal(per_hour: int = 30, days: int = 7):
    """A warm normal learnt up to this hour: `per_hour` posts every hour for `days`."""
    current_hour = utcnow().replace(minute=0, second=0, microsecond=0)
    baseline = None
    for h in range(days * 24, 0, -1):
        baseline = fold(baseline, current_hour - timedelta(hours=h), WindowStats(mentions=per_hour))
    return baseline


def test_the_sweep_reports_a_busy_watch_that_has_gone_silent(aws, caplog):
    baselines = DynamoBaselineStore(boto3.client("dynamodb"), os.environ[Env.STATE_TABLE])
    assert baselines.put("xianweifang", _busy_normal(), None)  # 30 posts an hour, and none stored

    assert _invoke(aws, {"sweep": True}) == {RESOLVED: 0, SILENT_WATCHES: 1}
    (logged,) = [r for r in caplog.records if r.getMessage() == "silent watches"]
    assert logged.watch_ids == ["xianweifang"]  # the metric has no per-watch dimension: the log names them

    _invoke(aws, sqs_event(*_complaints(1)))  # one post is a heartbeat
    assert _invoke(aws, {"sweep": True}) == {RESOLVED: 0, SILENT_WATCHES: 0}


@pytest.fixture
def broken_watch(aws, monkeypatch):
    """A second watch, "broken", whose re-assessment raises (a bug in one watch's policy or data)."""
    catalogue = DynamoWatchCatalogue(boto3.client("dynamodb"), os.environ[Env.STATE_TABLE])
    catalogue.create(watch(id="broken", name="坏店", keywords=["鲜味坊"]), utcnow())
    assess = Detector.reassess

    def reassess(self, watch, touched, now):
        if watch.id == "broken":
            raise RuntimeError("this watch's assessment is broken")
        return assess(self, watch, touched, now)

    monkeypatch.setattr(Detector, "reassess", reassess)
    scorer.wiring.reset()  # the new watch is read at the next cold start
    yield
    monkeypatch.undo()
    scorer.wiring.reset()


def test_a_watch_whose_assessment_fails_fails_only_its_own_messages(aws, broken_watch, caplog):
    good = _complaints(24)
    bad = [
        post(
            f"b{i}", watch_id="broken", text=COMPLAINTS[i] + f" #b{i}", created_at=utcnow()
        ).model_dump_json()
        for i in range(3)
    ]
    event = sqs_event(*good[:12], *bad, *good[12:])

    response = _invoke(aws, event)

    retried = {f["itemIdentifier"] for f in response["batchItemFailures"]}
    assert retried == {r["messageId"] for r in event["Records"] if '"watch_id":"broken"' in r["body"]}
    posts, incidents = stores()
    assert _only_open(incidents).stats.mentions == 24  # the other watch's incident is opened
    assert counted(posts, "broken", utcnow()).mentions == 3  # stored and counted once
    (logged,) = [r for r in caplog.records if r.getMessage() == "watch assessment failed"]
    assert (logged.watch_id, logged.error, logged.messages) == ("broken", "RuntimeError", 3)

    # Redelivered (SQS retries only those): duplicates, counted once, and they fail again until the DLQ.
    again = sqs_event(*bad, receive_count=2)
    assert len(_invoke(aws, again)["batchItemFailures"]) == 3
    assert counted(posts, "broken", utcnow()).mentions == 3
    assert _only_open(incidents).stats.mentions == 24
