"""`make demo`: the whole monitoring loop on the embedded local AWS, printed for a person.

schedule tick -> scheduler -> fetch-jobs queue -> fetcher (HTTP to the platform simulator) ->
posts queue -> scorer -> DynamoDB -> incident level -> Step Functions (the synthesized definition,
executed by moto) -> notifier -> SNS -> subscribers by level; then the incidents API, including an
acknowledgement that ends the escalation's wait. Every step is checked; any failure exits 1.
"""

from __future__ import annotations

import contextlib
import json
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from crisiswatch.vocabulary import Level
from infra.local.drivers.common import SUBSCRIBERS, Printer
from infra.local.emulator import ACCOUNT, REGION
from infra.local.emulator.runtime import Delivery, LocalAws
from infra.local.emulator.template import synthesize
from infra.local.simulator import PlatformSimulator, Scenario

WATCH_ID = "xianweifang"


def demo_context(scenario: Scenario, weibo_base_url: str, ack_timeout: int) -> dict:
    """The deploy-time context of the demo: the same keys an ops engineer sets in cdk.json."""
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
            }
        ],
        "subscribers": SUBSCRIBERS,
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
    with PlatformSimulator(scenario) as simulator:
        say.section("Setting up")
        say(f"platform simulator (Weibo mobile search format) at {simulator.base_url}")
        template = synthesize(demo_context(scenario, simulator.base_url, ack_timeout))
        say(f"CDK app synthesized: {len(template['Resources'])} resources in the template")
        with LocalAws(template, log_level=log_level) as aws:
            stack = aws.stack
            say(
                f"moto server at {aws.endpoint}: {len(stack.tables)} tables, {len(stack.queues)} queues, "
                f"{len(stack.topics)} topic(s), {len(stack.state_machines)} state machine(s), "
                f"{len(stack.functions)} functions, {len(stack.routes)} API routes (all from the template)"
            )
            for sub in aws.subscribers():
                say(
                    f"  subscriber {sub.protocol:5} {sub.endpoint:24} levels {sub.filter_policy.get('level')}"
                )
            _run_ticks(aws, simulator, scenario, say, report)
            _wait_for_escalation(aws, say, report, timeout=ack_timeout * 3 + 10)
            _duplicate_delivery(aws, say, report)
            _poison_message(aws, say, report)
            _api(aws, say, report)
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
                if n["kind"] == "alert" and Level(n["tier"]) > Level(n["level"])
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


def _alerts(aws: LocalAws, say: Printer, report: DemoReport) -> None:
    say.section("Alerts delivered (SNS, filtered by the `level` attribute)")
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
        "each subscriber got exactly the levels it subscribed to",
        report.deliveries and all(d.level in d.subscriber.filter_policy["level"] for d in report.deliveries),
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
