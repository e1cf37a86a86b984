"""The loop under platform faults: no post lost, none counted twice, the cursor never passes a failure.

Each case plays a short scenario (one calm tick, two burst ticks) through schedule -> fetcher ->
posts queue -> scorer -> DynamoDB with the fault injected on the burst ticks, then checks what was
stored. docs/ingest.md lists the same faults against the adapters alone.
"""

from __future__ import annotations

import json

import pytest

from crisiswatch.aws.cursors import DynamoCursorStore
from crisiswatch.constants import Env
from crisiswatch.handlers import fetcher
from crisiswatch.incidents.detection import escalation_input, execution_name
from crisiswatch.vocabulary import FetchJob, Level, Watch
from infra.local.emulator.runtime import FakeLambdaContext
from infra.local.simulator import PlatformSimulator, Scenario
from tests.builders import counted, incident, sqs_event, utcnow
from tests.integration.helpers import dlq_url, queue_depth, stores

FAULTS = ["429", "500", "503", "malformed", "wrong_shape", "slow", "disconnect", "refused", "duplicates"]


@pytest.fixture
def fresh_simulator(aws, monkeypatch):
    """A simulator of our own (faults and ticks are per test), with the fetcher pointed at it."""
    scenario = Scenario.generate(calm_ticks=1, burst_ticks=2)
    with PlatformSimulator(scenario, retry_after="0", slow_seconds=1.5) as simulator:
        monkeypatch.setenv(Env.PLATFORM_BASE_URLS, json.dumps({"weibo": simulator.base_url}))
        monkeypatch.setenv(Env.HTTP_TIMEOUT_SECONDS, "0.5")
        fetcher.wiring.reset()
        yield simulator
    fetcher.wiring.reset()


def _run_tick(aws) -> None:
    aws.tick("weibo")
    aws.pump_all("crisiswatch.handlers.fetcher")
    aws.pump(aws.mapping_for("crisiswatch.handlers.scorer"))


def _stored_keys(aws) -> list[str]:
    posts_table = next(name for logical, name in aws.stack.tables.items() if "Posts" in logical)
    items = aws.client("dynamodb").scan(TableName=posts_table, ProjectionExpression="pk")["Items"]
    return [item["pk"]["S"] for item in items]


@pytest.mark.parametrize("fault", FAULTS)
def test_no_post_lost_none_counted_twice(aws, fresh_simulator, fault):
    simulator = fresh_simulator
    for tick in range(len(simulator.scenario.ticks)):
        simulator.advance()
        if tick >= 1:  # during the burst: the first request of the tick's run fails
            simulator.inject(fault, times=1)
        _run_tick(aws)

    brand = {f"weibo#{p.id}" for p in simulator.scenario.brand_posts()}
    stored = _stored_keys(aws)
    assert sorted(stored) == sorted(brand)  # nothing lost, nothing unrelated, each once
    posts, _ = stores()
    assert counted(posts, "xianweifang", utcnow()).mentions == len(brand)  # counted once each


def test_a_failing_fetch_leaves_the_cursor_and_the_next_run_catches_up(aws, fresh_simulator):
    simulator = fresh_simulator
    cursors = DynamoCursorStore(
        aws.client("dynamodb"), next(n for lid, n in aws.stack.tables.items() if "State" in lid)
    )
    simulator.advance(1)
    _run_tick(aws)
    cursor = cursors.get("xianweifang", "weibo").high_water
    assert cursor is not None

    simulator.advance(1)
    simulator.inject("malformed", times=1000)
    fetch = aws.mappings_for("crisiswatch.handlers.fetcher")[0]
    aws.tick("weibo")
    for _ in range(6):  # SQS retries it until the DLQ takes it
        aws.pump(fetch)
    assert cursors.get("xianweifang", "weibo").high_water == cursor  # nothing queued: the mark stays
    assert queue_depth(aws, dlq_url(aws, fetch.queue_url)) == 1

    simulator.clear_faults()
    simulator.advance(1)
    _run_tick(aws)  # the next scheduled run pages back past the mark and finds the missed posts
    visible = {f"weibo#{p.id}" for p in simulator.visible_posts() if p.about_brand}
    assert sorted(_stored_keys(aws)) == sorted(visible)
    assert cursors.get("xianweifang", "weibo").high_water > cursor


def test_posts_the_platform_indexes_late_are_found_by_the_overlap(aws, monkeypatch):
    """Bilibili items that become visible two ticks after their created time (older than the
    cursor by then) are still fetched, because each run pages back past the cursor."""
    scenario = Scenario.generate(calm_ticks=1, burst_ticks=3)
    with PlatformSimulator(scenario, late_posts=True) as simulator:
        monkeypatch.setenv(Env.PLATFORM_BASE_URLS, json.dumps({"bilibili": simulator.base_url}))
        fetcher.wiring.reset()
        watch = Watch(
            id="xianweifang",
            name="鲜味坊",
            keywords=scenario.keywords,
            exclude=list(scenario.exclude),
            platforms=["bilibili"],
        )
        context = FakeLambdaContext(aws.function("crisiswatch.handlers.fetcher"))
        for _ in scenario.ticks:
            simulator.advance()
            job = FetchJob(watch=watch, platform="bilibili", scheduled_at=utcnow())
            assert fetcher.lambda_handler(sqs_event(job.model_dump_json()), context) == {
                "batchItemFailures": []
            }
            aws.pump(aws.mapping_for("crisiswatch.handlers.scorer"))
        late = [i for i in simulator.all_items("bilibili") if i.late_ticks and i.about_brand]
        brand = {i.key for i in simulator.all_items("bilibili") if i.about_brand}
    fetcher.wiring.reset()
    assert late  # the scenario has some
    assert sorted(_stored_keys(aws)) == sorted(brand)


# --- pages under notification faults: none lost, none sent twice ---------------------------------

LONG_WAITS = {"yellow": 120, "orange": 120, "red": 120}  # no escalation by silence during a test


def _escalate(aws, level=Level.ORANGE) -> str:
    import os

    import boto3

    from crisiswatch.aws.workflow import StepFunctionsWorkflow, execution_arn

    _, incidents = stores()
    created = incident(level=level)
    incidents.create(created)
    arn = os.environ[Env.ESCALATION_STATE_MACHINE_ARN]
    StepFunctionsWorkflow(boto3.client("stepfunctions"), arn).start(
        execution_name(created), escalation_input(created, LONG_WAITS)
    )
    return execution_arn(arn, execution_name(created))


def _sms_to(aws) -> list[str]:
    return [d.subscriber.endpoint for d in aws.deliveries() if d.subscriber.protocol == "sms"]


def _eventually(condition, seconds: float = 30):
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.2)
    raise AssertionError("not in time")


def test_a_publish_that_fails_twice_is_retried_and_the_page_goes_out_once(aws, monkeypatch):
    from crisiswatch.aws.alerts import SnsAlertPublisher

    publish, failures = SnsAlertPublisher.publish, []

    def flaky(self, *args, **kwargs):
        if len(failures) < 2:
            failures.append(1)
            raise ConnectionError("SNS unreachable")
        return publish(self, *args, **kwargs)

    monkeypatch.setattr(SnsAlertPublisher, "publish", flaky)
    _escalate(aws)
    _, incidents = stores()
    _eventually(lambda: any(n.channel == "sns" for n in incidents.get(incident().incident_id).notifications))
    assert _sms_to(aws) == ["+8613800000001"]  # the orange tier's phone, once
    _, tokens = incidents.acknowledge(incident().incident_id, _ack())
    assert len(tokens) >= 1  # the retried wait can be answered


def test_a_tier_that_cannot_be_reached_is_recorded_and_the_next_tier_is_told(aws, monkeypatch):
    from crisiswatch.aws.alerts import SnsAlertPublisher

    publish = SnsAlertPublisher.publish

    def orange_down(self, alert, tier, recipients, watch_id):
        if tier is Level.ORANGE:
            raise ConnectionError("the orange tier's SMS route is down")
        return publish(self, alert, tier, recipients, watch_id)

    monkeypatch.setattr(SnsAlertPublisher, "publish", orange_down)
    arn = _escalate(aws)
    _eventually(lambda: "+8613800000002" in _sms_to(aws), 40)  # management's phone: red
    assert "FailedToRed" in _path(aws, arn)
    status, page = aws.api("GET", f"/incidents/{incident().incident_id}/timeline", query={"limit": "100"})
    failed = [e for e in page["events"] if e["kind"] == "notify_failed"]
    assert len(failed) == 3 and all(e["details"]["tier"] == "orange" for e in failed)  # 1 try + 2 retries
    (red,) = [
        d for d in aws.deliveries() if d.subscriber.endpoint == "analysts@example.com" and d.level == "red"
    ]
    assert "橙色层级通知失败" in red.text


def test_a_crash_after_sending_is_retried_without_a_second_sms(aws, monkeypatch):
    from crisiswatch.aws.incidents import DynamoIncidentRepository

    record, crashed = DynamoIncidentRepository.record_notification, []

    def crash_once(self, *args, **kwargs):
        if not crashed:
            crashed.append(1)
            raise RuntimeError("the function stopped after sending")
        return record(self, *args, **kwargs)

    monkeypatch.setattr(DynamoIncidentRepository, "record_notification", crash_once)
    _escalate(aws)
    _eventually(lambda: crashed)
    status, page = _eventually(
        lambda: (
            (r := aws.api("GET", f"/incidents/{incident().incident_id}/timeline", query={"limit": "100"}))
            and any(e["key"].endswith("/uncertain") for e in r[1]["events"])
            and r
        )
    )
    assert _sms_to(aws) == ["+8613800000001"]  # sent once, never again
    _, incidents = stores()
    _, tokens = incidents.acknowledge(incident().incident_id, _ack())
    assert tokens  # the retry's wait is still answerable


def _path(aws, arn: str) -> list[str]:
    events = aws.client("stepfunctions").get_execution_history(executionArn=arn)["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def _ack():
    from crisiswatch.incidents.record import Acknowledgement

    return Acknowledgement(by="王经理", at=utcnow(), level=Level.ORANGE)
