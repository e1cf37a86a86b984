"""`make demo`: the whole monitoring loop on the embedded local AWS, printed for a person.

schedule tick -> scheduler -> fetch-jobs queue -> fetcher (HTTP to the platform simulator) ->
posts queue -> scorer -> DynamoDB -> incident level -> Step Functions (the synthesized definition,
executed by moto) -> notifier -> SNS (by recipient) and the WeCom, DingTalk and Feishu bots (local
simulators that check signatures and limits); then the incidents API, including an acknowledgement
that ends the escalation's wait; then the response: the crisis-PR clocks (EventBridge Scheduler
timers, fired by the emulator as time jumps ahead), statements, a missed deadline, a quiet-hours
digest for a second brand, a resolve and the timeline. Every step is checked; any failure exits 1.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TextIO

from crisiswatch.vocabulary import Level
from infra.local.drivers.common import SUBSCRIBERS, Printer
from infra.local.emulator import ACCOUNT, REGION
from infra.local.emulator.runtime import Delivery, LocalAws
from infra.local.emulator.template import synthesize
from infra.local.simulator import PlatformSimulator, Scenario
from infra.local.simulator.chat_bots import ChatBotSimulator, SimBot

WATCH_ID = "xianweifang"
QUIET_WATCH_ID = "laopuzi"  # a second brand, whose quiet hours are now
CHINA = timezone(timedelta(hours=8))
# One bot of each platform; the secrets are the simulator's, put into Secrets Manager by the demo
# as ops put the real ones after the first deploy.
CHAT_BOTS = [
    SimBot("pr-wecom", "wecom", token="wecom-demo-key"),
    SimBot("pr-dingtalk", "dingtalk", token="dingtalk-demo-token", secret="SECdemo-dingtalk"),
    SimBot("pr-feishu", "feishu", token="feishu-demo-hook", secret="demo-feishu-secret"),
]


class JumpingClock:
    """The wall clock, plus what the demo jumped ahead: Step Functions' waits run in real time
    while the crisis-PR clocks (30 minutes, 2 hours, a day) are seen within seconds."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def jump_to(self, moment: datetime) -> datetime:
        self.offset += max(timedelta(), moment - self.now())
        return self.now()


def demo_context(
    scenario: Scenario,
    weibo_base_url: str,
    ack_timeout: int,
    chat_base_url: str = "",
    now: datetime | None = None,
) -> dict:
    """The deploy-time context of the demo: the same keys an ops engineer sets in cdk.json."""
    local = (now or datetime.now(UTC)).astimezone(CHINA)
    quiet = {  # the second brand's quiet hours: from an hour ago to three hours ahead, Beijing time
        "start": f"{(local - timedelta(hours=1)):%H:%M}",
        "end": f"{(local + timedelta(hours=3)):%H:%M}",
        "timezone": "Asia/Shanghai",
    }
    return {
        "account": ACCOUNT,
        "region": REGION,
        "weiboBaseUrl": weibo_base_url,
        "watches": [
            {
                "id": WATCH_ID,
                "name": scenario.brand,
                "keywords": scenario.keywords,
                "exclude": list(scenario.exclude),
                "brand_terms": [scenario.brand],
            },
            {
                "id": QUIET_WATCH_ID,
                "name": "老铺子",
                "keywords": ["老铺子"],
                "oncall": {
                    "tiers": {"yellow": {"notify": ["analysts"], "chat": ["pr-wecom"]}},
                    "quiet_hours": quiet,
                },
            },
        ],
        "subscribers": SUBSCRIBERS,
        "chatBots": [
            {"name": bot.name, "kind": bot.kind, "base_url": chat_base_url, "levels": ["orange", "red"]}
            for bot in CHAT_BOTS
        ],
        # Seconds instead of hours, so that escalation by silence is seen within the demo.
        "ackTimeoutSeconds": {"yellow": ack_timeout, "orange": ack_timeout, "red": max(60, ack_timeout)},
    }


@dataclass
class DemoReport:
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    incident: dict | None = None
    deliveries: list[Delivery] = field(default_factory=list)
    executions: list[dict] = field(default_factory=list)
    ticks: list[dict] = field(default_factory=list)
    timeline: list[dict] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, bool(ok), detail))
        return ok

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    def to_json(self) -> dict:
        return {
            "passed": self.passed,
            "checks": [{"name": n, "ok": ok, "detail": d} for n, ok, d in self.checks],
            "incident": self.incident,
            "deliveries": [asdict(d) for d in self.deliveries],
            "executions": self.executions,
            "ticks": self.ticks,
            "timeline": self.timeline,
        }


def run_scenario(
    out: TextIO = sys.stdout,
    ack_timeout: int = 3,
    log_level: str = "WARNING",
    handler_log: TextIO | None = None,
) -> DemoReport:
    """Run the demo, printing to `out`; what the handlers print (as Lambda would to CloudWatch
    Logs) goes to `handler_log`, or to `out` too when none is given."""
    with contextlib.redirect_stdout(handler_log or out):
        return _run(Printer(out), ack_timeout, log_level)


def _run(say: Printer, ack_timeout: int, log_level: str) -> DemoReport:
    report = DemoReport()
    scenario = Scenario.generate()
    started = time.monotonic()
    clock = JumpingClock()
    with PlatformSimulator(scenario) as simulator, ChatBotSimulator(CHAT_BOTS, clock=clock.now) as bots:
        say.section("Setting up")
        say(f"platform simulator (Weibo mobile search format) at {simulator.base_url}")
        say(
            f"chat bot simulator (WeCom, DingTalk, Feishu webhooks: signatures and rate limits) at {bots.base_url}"
        )
        template = synthesize(
            demo_context(scenario, simulator.base_url, ack_timeout, bots.base_url, clock.now())
        )
        say(f"CDK app synthesized: {len(template['Resources'])} resources in the template")
        with LocalAws(template, log_level=log_level) as aws:
            aws.run_on(clock)
            _put_chat_secrets(aws, say)
            stack = aws.stack
            say(
                f"moto server at {aws.endpoint}: {len(stack.tables)} tables, {len(stack.queues)} queues, "
                f"{len(stack.topics)} topic(s), {len(stack.state_machines)} state machine(s), "
                f"{len(stack.functions)} functions, {len(stack.routes)} API routes (all from the template)"
            )
            for sub in aws.subscribers():
                say(
                    f"  subscriber {sub.protocol:5} {sub.endpoint:24} as {sub.filter_policy.get('recipient')}"
                )
            _run_ticks(aws, simulator, scenario, say, report)
            _wait_for_escalation(aws, say, report, timeout=ack_timeout * 3 + 10)
            _duplicate_delivery(aws, say, report)
            _poison_message(aws, say, report)
            _api(aws, say, report)
            _response(aws, clock, bots, say, report)
            _alerts(aws, say, report)
    say.section("Checks")
    for name, ok, detail in report.checks:
        say(f"  [{'PASS' if ok else 'FAIL'}] {name}" + (f" ({detail})" if detail else ""))
    say(
        f"\n{'all checks passed' if report.passed else 'SOME CHECKS FAILED'} in {time.monotonic() - started:.1f} s"
    )
    return report


def _incident(aws: LocalAws) -> dict | None:
    status, body = aws.api("GET", "/incidents", query={"status": "open"})
    if status == 200 and not body["incidents"]:
        status, body = aws.api("GET", "/incidents", query={"status": "acknowledged"})
    return body["incidents"][0] if status == 200 and body["incidents"] else None


def _run_ticks(
    aws: LocalAws, simulator: PlatformSimulator, scenario: Scenario, say: Printer, report: DemoReport
):
    say.section("Monitoring (one schedule tick = 2 simulated minutes)")
    score = aws.mapping_for("crisiswatch.handlers.scorer")
    dynamodb = aws.client("dynamodb")
    stored_before = 0
    for tick in range(len(scenario.ticks)):
        simulator.advance()
        aws.tick("weibo")
        fetched = aws.pump_all("crisiswatch.handlers.fetcher")
        scored = aws.pump(score)
        stored = dynamodb.scan(TableName=_table(aws, "Posts"), Select="COUNT")["Count"]
        incident = _incident(aws)
        level = (
            f"{incident['level']:6} {incident['negatives']:3} negative of {incident['mentions']:3} in the window"
            if incident
            else "no incident"
        )
        say(
            f"tick {tick} +{tick * 2:2} min  {len(scenario.ticks[tick]):3} new on the platform, "
            f"{stored - stored_before:3} new posts stored  | {level}"
        )
        stored_before = stored
        report.ticks.append({"tick": tick, "fetch": fetched, "score": scored, "incident": incident})
        report.check(
            f"tick {tick}: every fetch job and post processed",
            fetched["failed"] == scored["failed"] == 0,
            f"fetch {fetched}, score {scored}",
        )
    stored = aws.client("dynamodb").scan(TableName=_table(aws, "Posts"), Select="COUNT")["Count"]
    expected = len(scenario.brand_posts())
    report.check(
        "every brand post stored exactly once, unrelated ones dropped",
        stored == expected,
        f"{stored} stored, {expected} brand posts in the scenario",
    )


def _table(aws: LocalAws, fragment: str) -> str:
    return next(name for logical_id, name in aws.stack.tables.items() if fragment in logical_id)


def _wait_for_escalation(aws: LocalAws, say: Printer, report: DemoReport, timeout: float) -> None:
    say.section("Escalation")
    say("nobody acknowledges yet: waiting for the escalation to re-notify one tier up ...")
    deadline = time.monotonic() + timeout
    escalated = []
    while time.monotonic() < deadline:
        incident = _incident(aws)
        if incident:
            _, detail = aws.api("GET", f"/incidents/{incident['incident_id']}")
            escalated = [
                n
                for n in detail["notifications"]
                if n["kind"] == "alert" and Level(n["tier"]) > Level(n["level"]) and n["channel"] == "sns"
            ]
            if escalated:
                break
        time.sleep(0.5)
    for n in escalated:
        say(f"  unanswered -> re-notified tier {n['tier']}: {n['sms']}")
    report.check("an unanswered alert was escalated one tier up", bool(escalated))


def _duplicate_delivery(aws: LocalAws, say: Printer, report: DemoReport) -> None:
    say.section("At-least-once delivery")
    posts_table = _table(aws, "Posts")
    items = aws.client("dynamodb").scan(TableName=posts_table, Limit=1)["Items"]
    if not report.check("a stored post to deliver again", bool(items)):
        return
    item = items[0]
    from crisiswatch.aws.items import from_item

    stored = from_item(item)
    body = json.dumps({**stored["post"], "watch_id": sorted(stored["watch_ids"])[0]}, ensure_ascii=False)
    before = _incident(aws)
    count_before = aws.client("dynamodb").scan(TableName=posts_table, Select="COUNT")["Count"]
    mapping = aws.mapping_for("crisiswatch.handlers.scorer")
    aws.client("sqs").send_message(QueueUrl=mapping.queue_url, MessageBody=body)
    aws.pump(mapping)
    after = _incident(aws)
    count_after = aws.client("dynamodb").scan(TableName=posts_table, Select="COUNT")["Count"]
    same = (before["mentions"], before["negatives"], count_before) == (
        after["mentions"],
        after["negatives"],
        count_after,
    )
    say(
        f"re-delivered a stored post: posts {count_before} -> {count_after}, "
        f"incident mentions {before['mentions']} -> {after['mentions']}"
    )
    report.check("a duplicated SQS delivery changed nothing", same)


def _poison_message(aws: LocalAws, say: Printer, report: DemoReport) -> None:
    mapping = aws.mapping_for("crisiswatch.handlers.scorer")
    sqs = aws.client("sqs")
    sqs.send_message(QueueUrl=mapping.queue_url, MessageBody='{"platform": "weibo", "post_id": 1')
    for _ in range(8):
        aws.pump(mapping)
    dlq_url = json.loads(
        sqs.get_queue_attributes(QueueUrl=mapping.queue_url, AttributeNames=["RedrivePolicy"])["Attributes"][
            "RedrivePolicy"
        ]
    )["deadLetterTargetArn"].rsplit(":", 1)[-1]
    depth = int(
        sqs.get_queue_attributes(
            QueueUrl=sqs.get_queue_url(QueueName=dlq_url)["QueueUrl"],
            AttributeNames=["ApproximateNumberOfMessages"],
        )["Attributes"]["ApproximateNumberOfMessages"]
    )
    say(
        f"a malformed post message failed {5} times and went to the dead-letter queue ({depth} message there)"
    )
    report.check("a poison message ends in the DLQ, the batch goes on", depth == 1)


def _api(aws: LocalAws, say: Printer, report: DemoReport) -> None:
    say.section("Incidents API (IAM-authenticated on AWS)")
    status, listing = aws.api("GET", "/incidents")
    say(f"GET /incidents -> {status}")
    for item in listing.get("incidents", []):
        say(
            f"  {item['incident_id']}  {item['level']:6}  {item['status']:12}  {item['negatives']} negative "
            f"of {item['mentions']}"
        )
    incident = _incident(aws)
    if not report.check("an incident was opened", incident is not None):
        return
    incident_id = incident["incident_id"]
    status, detail = aws.api("GET", f"/incidents/{incident_id}")
    report.incident = detail
    say(f"\nGET /incidents/{incident_id} -> {status}")
    say(f"  level {detail['level']} ({detail['level_reason']})")
    for change in detail["history"]:
        say(f"    {change['at'][11:19]} -> {change['level']:6} {change['reason']}")
    if detail.get("deadlines"):
        say(
            f"  deadlines: first statement {detail['deadlines']['first_statement'][11:16]} UTC, "
            f"detailed statement {detail['deadlines']['detailed_statement'][11:16]} UTC, daily progress report"
        )
    say("  top posts:")
    for post in detail["top_posts"]:
        say(
            f"    risk {post['risk']:.2f}  {post['author']} ({post['followers']:,} followers): {post['text'][:60]}"
        )
        say(f"               {'; '.join(post['reasons'])[:110]}")
    report.check("the incident reached orange or red", detail["level"] in ("orange", "red"), detail["level"])

    status, body = aws.api("POST", f"/incidents/{incident_id}/ack", body={"note": "no name"})
    say(
        f"\nPOST /incidents/{incident_id}/ack without 'by' -> {status}: {json.dumps(body, ensure_ascii=False)[:150]}"
    )
    report.check("an invalid request is a 4xx with a reason", status == 422)
    status, body = aws.api("GET", "/incidents/no-such-incident")
    say(f"GET /incidents/no-such-incident -> {status}: {body.get('message')}")

    status, body = aws.api(
        "POST", f"/incidents/{incident_id}/ack", body={"by": "王经理", "note": "已启动应急预案"}
    )
    released = body.get("released_escalations", 0) if status == 200 else 0
    say(
        f"POST /incidents/{incident_id}/ack by 王经理 -> {status}: status {body.get('incident', {}).get('status')}, "
        f"{released} waiting escalation(s) released"
    )
    report.check("the acknowledgement released the waiting escalation(s)", status == 200 and released >= 1)

    sfn = aws.client("stepfunctions")
    arn = next(iter(aws.stack.state_machines.values()))
    for execution in sfn.list_executions(stateMachineArn=arn)["executions"]:
        final = aws.wait_for_execution(execution["executionArn"], timeout=15)
        events = sfn.get_execution_history(executionArn=execution["executionArn"])["events"]
        path = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
        report.executions.append({"name": execution["name"], "status": final["status"], "path": path})
        superseded = execution["name"] != f"{incident_id}-{detail['level']}" and path[-1] != "Informed"
        note = "  stopped: superseded by a higher level (moto says ABORTED or FAILED)" if superseded else ""
        say(f"  execution {execution['name']}: {final['status']}  ({' > '.join(path)}){note}")
    current = f"{incident_id}-{detail['level']}"
    report.check(
        "the current level's escalation ended acknowledged, superseded ones were stopped, none still runs",
        any(e["name"] == current and e["path"][-1] == "Acknowledged" for e in report.executions)
        and all(e["status"] != "RUNNING" for e in report.executions),
        ", ".join(f"{e['name']} {e['status']}" for e in report.executions),
    )


def _put_chat_secrets(aws: LocalAws, say: Printer) -> None:
    """What ops do after the first deploy: put each bot's webhook key and signing secret."""
    from crisiswatch.escalation.chat import ChatBotConfig

    secrets = aws.client("secretsmanager")
    for bot in CHAT_BOTS:
        name = ChatBotConfig(name=bot.name, kind=bot.kind).secret
        secrets.put_secret_value(SecretId=name, SecretString=bot.secret_json)
    say(f"chat bot secrets put into Secrets Manager: {', '.join(b.name for b in CHAT_BOTS)} (never logged)")


def _beijing(moment: datetime | str) -> str:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(CHINA).strftime("%m-%d %H:%M")


class _NewDeliveries:
    """The SNS deliveries since the last call."""

    def __init__(self, aws: LocalAws) -> None:
        self.aws, self.seen = aws, len(list(aws.deliveries()))

    def __call__(self) -> list[Delivery]:
        every = list(self.aws.deliveries())
        new, self.seen = every[self.seen :], len(every)
        return new


def _say_deliveries(say: Printer, deliveries: list[Delivery]) -> None:
    for d in deliveries:
        if d.subscriber.protocol == "sms":
            say(f"    SMS   -> {d.subscriber.endpoint} ({len(d.text)} chars) {d.text}")
        else:
            say(f"    email -> {d.subscriber.endpoint}: {d.subject}")


def _response(
    aws: LocalAws, clock: JumpingClock, bots: ChatBotSimulator, say: Printer, report: DemoReport
) -> None:
    say.section("The response: the crisis-PR clocks (time jumps ahead; Beijing time)")
    incident = _incident(aws)
    if not report.check("an incident to respond to", incident is not None):
        return
    incident_id = incident["incident_id"]
    _, detail = aws.api("GET", f"/incidents/{incident_id}")
    clocks = {c["kind"]: c for c in detail.get("clocks", []) if c["seq"] == 1}
    if not report.check(
        "the three clocks started when the incident reached orange",
        set(clocks) == {"first", "detailed", "progress"},
    ):
        return
    for kind, name in (
        ("first", "first statement"),
        ("detailed", "detailed statement"),
        ("progress", "progress report"),
    ):
        say(
            f"  {name:18} due {_beijing(clocks[kind]['due'])}, reminder at {_beijing(clocks[kind]['remind_at'])}, {clocks[kind]['status']}"
        )
    new = _NewDeliveries(aws)

    clock.jump_to(datetime.fromisoformat(clocks["first"]["remind_at"]))
    aws.fire_timers(clock.now())
    reminders = new()
    say(
        f"\n[{_beijing(clock.now())}] ten minutes before the first statement is due, the owning tier is reminded:"
    )
    _say_deliveries(say, reminders)
    report.check(
        "a reminder went out before the first statement was due",
        any(d.text.startswith("【首次声明提醒】") for d in reminders if d.subscriber.protocol == "sms"),
    )

    status, body = aws.api(
        "POST",
        f"/incidents/{incident_id}/statements",
        body={"kind": "first", "by": "王经理", "url": "https://weibo.com/xianweifang/first-statement"},
    )
    first = next((c for c in body.get("incident", {}).get("clocks", []) if c["kind"] == "first"), {})
    say(
        f"\nPOST /incidents/{incident_id}/statements first statement by 王经理 -> {status}: clock {first.get('status')}"
    )
    report.check("the first statement stopped its clock", status == 201 and first.get("status") == "met")

    clock.jump_to(datetime.fromisoformat(clocks["detailed"]["due"]) + timedelta(seconds=1))
    aws.fire_timers(clock.now())
    missed = new()
    say(
        f"\n[{_beijing(clock.now())}] nobody published the detailed statement: reminded, then missed and escalated:"
    )
    _say_deliveries(say, missed)
    report.check(
        "the missed detailed statement escalated one tier up (management's phone)",
        any(
            d.text.startswith("【详细声明已超时】") and d.subscriber.endpoint == "+8613800000002"
            for d in missed
        ),
    )

    status, body = aws.api(
        "POST",
        f"/incidents/{incident_id}/statements",
        body={"kind": "progress", "by": "王经理", "text": "已下架涉事批次"},
    )
    progress = [c for c in body.get("incident", {}).get("clocks", []) if c["kind"] == "progress"]
    say(
        f"\nPOST .../statements progress report -> {status}: next one due {_beijing(progress[-1]['due'])}"
        if progress
        else f"\nPOST .../statements progress report -> {status}"
    )
    report.check("a progress report scheduled the next day's", status == 201 and len(progress) == 2)

    _quiet_hours(aws, clock, new, say, report)

    say.section("Chat bots (local WeCom, DingTalk and Feishu endpoints: signed, rate-limited)")
    for bot in CHAT_BOTS:
        texts = bots.texts(bot.name)
        say(
            f"  {bot.kind:8} {bot.name:12} {len(texts)} message(s); first: {texts[0].splitlines()[0][:70] if texts else '-'}"
        )
    report.check(
        "each of the three chat bots received the alerts", all(bots.texts(b.name) for b in CHAT_BOTS)
    )
    report.check(
        "no chat message was refused (signatures right, limits kept)",
        not bots.rejected,
        str(bots.rejected[:3]),
    )

    say.section("Resolve and the timeline")
    status, body = aws.api(
        "POST",
        f"/incidents/{incident_id}/resolve",
        body={"by": "王经理", "summary": "涉事批次已召回，舆情平息"},
    )
    resolved = body.get("incident", {})
    say(
        f"POST /incidents/{incident_id}/resolve -> {status}: {resolved.get('status')}, clocks "
        + ", ".join(f"{c['kind']} {c['status']}" for c in resolved.get("clocks", []))
    )
    left = [n for n in _schedule_payloads(aws) if n.get("incident_id") == incident_id]
    report.check(
        "the resolve stopped every clock and left no timer",
        status == 200 and not left and all(c["status"] != "pending" for c in resolved.get("clocks", [])),
    )
    status, page = aws.api("GET", f"/incidents/{incident_id}/timeline", query={"limit": "200"})
    say(f"\nGET /incidents/{incident_id}/timeline -> {status}: {len(page.get('events', []))} events")
    for event in page.get("events", []):
        say(f"  {_beijing(event['at'])}  {event['kind']:13} {event['summary'][:100]}")
    kinds = {e["kind"] for e in page.get("events", [])}
    report.timeline = page.get("events", [])
    report.check(
        "the timeline holds every step of the response",
        {"opened", "level", "notified", "reminder", "acknowledged", "statement", "missed", "resolved"}
        <= kinds,
        ", ".join(sorted(kinds)),
    )


def _schedule_payloads(aws: LocalAws) -> list[dict]:
    scheduler = aws.client("scheduler")
    payloads = []
    for group in aws.stack.schedule_groups.values():
        for summary in scheduler.list_schedules(GroupName=group)["Schedules"]:
            schedule = scheduler.get_schedule(GroupName=group, Name=summary["Name"])
            payloads.append(json.loads(schedule["Target"].get("Input") or "{}").get("payload", {}))
    return payloads


def _quiet_hours(
    aws: LocalAws, clock: JumpingClock, new: _NewDeliveries, say: Printer, report: DemoReport
) -> None:
    """A yellow alert for the second brand during its quiet hours: held, then one digest."""
    import boto3

    from crisiswatch.aws.incidents import DynamoIncidentRepository
    from crisiswatch.aws.workflow import StepFunctionsWorkflow
    from crisiswatch.incidents.detection import escalation_input, execution_name
    from crisiswatch.incidents.record import Incident, IncidentStats, LevelChange

    say.section("Quiet hours (老铺子: quiet from an hour ago to three hours ahead)")
    now = clock.now()
    reason = "黄色: 过去30分钟提及 18 条，平时 3 条 (6 倍)；负面 55%"
    incident = Incident(
        incident_id=f"{QUIET_WATCH_ID}-{now:%Y%m%d-%H%M}-0",
        watch_id=QUIET_WATCH_ID,
        watch_name="老铺子",
        opened_at=now,
        updated_at=now,
        level=Level.YELLOW,
        level_reason=reason,
        history=[LevelChange(level=Level.YELLOW, at=now, reason=reason)],
        stats=IncidentStats(
            window_hours=6, mentions=18, negatives=10, negative_share=0.55, high_risk=1, reach=50_000
        ),
    )
    tables = {lid: name for lid, name in aws.stack.tables.items()}
    incidents = DynamoIncidentRepository(
        aws.client("dynamodb"),
        next(n for lid, n in tables.items() if "Incidents" in lid),
        next(n for lid, n in tables.items() if "State" in lid),
    )
    # What the scorer does when a story rises to yellow (here without the posts: the demo's platform
    # feed is the first brand's): open the incident, start its escalation.
    incidents.create(incident)
    arn = next(iter(aws.stack.state_machines.values()))
    timeouts = {"yellow": 7200, "orange": 1800, "red": 600}
    StepFunctionsWorkflow(boto3.client("stepfunctions"), arn).start(
        execution_name(incident), escalation_input(incident, timeouts, held_seconds=4 * 3600)
    )
    deadline = time.monotonic() + 20
    held = []
    while time.monotonic() < deadline and not held:
        held = [n for n in incidents.get(incident.incident_id).notifications if n.kind == "held"]
        time.sleep(0.2)
    until_text = _beijing(held[0].subject.removeprefix("held until ")) if held else "-"
    say(
        f"[{_beijing(now)}] yellow alert for 老铺子 during quiet hours: "
        + (f"held until {until_text}, nothing sent" if held else "NOT held")
        + f" (SNS deliveries since: {len(new())})"
    )
    report.check("a yellow alert in quiet hours was held, not sent", bool(held))
    if not held:
        return
    until = datetime.fromisoformat(held[0].subject.removeprefix("held until "))
    clock.jump_to(until)
    aws.fire_timers(clock.now())
    digest = new()
    say(f"[{_beijing(clock.now())}] quiet hours end: one digest")
    _say_deliveries(say, digest)
    report.check(
        "the held alert went out as one digest when quiet hours ended",
        any("digest" in d.subject for d in digest) and len([d for d in digest if "digest" in d.subject]) == 1,
    )
    status, _ = aws.api(
        "POST",
        f"/incidents/{incident.incident_id}/resolve",
        body={"by": "李主管", "summary": "已回复顾客，无需升级"},
    )
    report.check("the second brand's incident resolved, its escalation stopped", status == 200)


def _alerts(aws: LocalAws, say: Printer, report: DemoReport) -> None:
    say.section("Alerts delivered (SNS, each subscription filtered on its name in `recipient`)")
    report.deliveries = list(aws.deliveries())
    for d in report.deliveries:
        if d.subscriber.protocol == "sms":
            say(f"  SMS   -> {d.subscriber.endpoint} [{d.level}] ({len(d.text)} chars) {d.text}")
        else:
            say(f"  email -> {d.subscriber.endpoint} [{d.level}] {d.subject}")
    sms = [d for d in report.deliveries if d.subscriber.protocol == "sms"]
    report.check(
        "SMS texts fit 70 characters",
        sms and all(len(d.text) <= 70 for d in sms),
        f"longest {max((len(d.text) for d in sms), default=0)}",
    )
    report.check(
        "each subscriber received only what named it (its watch's on-call policy for the tier told)",
        report.deliveries
        and all(d.subscriber.filter_policy["recipient"][0] in d.recipients for d in report.deliveries),
    )
    emails = [d for d in report.deliveries if d.subscriber.protocol == "email"]
    if emails:
        say(
            f"\nThe last e-mail, to {emails[-1].subscriber.endpoint}, in full:\n  "
            + emails[-1].text.replace("\n", "\n  ")
        )


def run_demo(verbose: bool = False, ack_timeout: int = 3, report_path: str | None = None) -> int:
    if verbose:
        report = run_scenario(sys.stdout, ack_timeout=ack_timeout, log_level="INFO")
    else:
        with tempfile.NamedTemporaryFile("w", prefix="crisiswatch-demo-", suffix=".log", delete=False) as log:
            report = run_scenario(sys.stdout, ack_timeout=ack_timeout, handler_log=log)
        print(f"(the handlers' own logs are in {log.name}; `crisiswatch demo --verbose` shows them inline)")
    if report_path:
        Path(report_path).write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
    return 0 if report.passed else 1
