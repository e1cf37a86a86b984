"""From what the meter counted in a replay to dollars per million stored posts, and the table.

`build` prices the run with `tools/cost/prices.py` and returns plain figures (the JSON the last
line prints); `render` lays them out for a person. Modelling choices, each said where it is made:

- Lambda duration is the handlers' wall time in this process. Lambda gives a function memory /
  1,769 MB of a vCPU (256 MB: a seventh) where a handler here had a whole core, so CPU-bound work
  (the scorer's) would take longer there; waits on AWS took moto's in-process time here, not a
  network round trip. "GB-s if CPU-bound" is the upper bound: every second scaled to a full vCPU.
- CloudWatch Logs: the bytes the handlers wrote (their log, at the template's log level, with the
  metrics' EMF lines), plus Lambda's START, END and REPORT lines per invocation
  (`PLATFORM_LOG_BYTES_PER_INVOCATION`, an estimate) of the functions whose system log level lets
  them through (INFO or DEBUG; at WARN, the template's default, Lambda writes none), plus Step Functions' ALL-level log, plus 26
  bytes per log event (as PutLogEvents counts them).
- X-Ray: Lambda samples an Active function's invocations itself (the first each second and 5% of
  the rest), which at these volumes (well under one invocation a second) is every invocation; a
  PassThrough function only joins a trace its caller started (SQS carries the header). So traces =
  the invocations of the functions the template makes Active, except the state machine's tasks,
  whose segments join the execution's trace. An upper bound above one invocation a second.
- Scheduler: each one-time timer fires once (billed then): those fired plus those still pending
  when the run ends (the replay never fires them; a statement or a resolve would delete some first).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import Any

from crisiswatch.constants import POST_TTL_DAYS
from tools.cost import prices
from tools.cost.meter import Meter

PLATFORM_LOG_LINES_PER_INVOCATION = 3  # START, END, REPORT
PLATFORM_LOG_BYTES_PER_INVOCATION = 330  # START ~70, END ~50, REPORT with its X-Ray line ~210
LOG_EVENT_OVERHEAD_BYTES = 26
GB = 1024**3
VCPU_MB = 1769  # Lambda memory that gives one full vCPU
MONTH_MINUTES = 30 * 24 * 60
DAYS_PER_MONTH = 30


def _table_label(name: str, tables: dict[str, str]) -> str:
    logical = next((lid for lid, n in tables.items() if n == name), name)
    found = re.search(r"([A-Z][a-z]+)Table", logical)
    return found.group(1) if found else logical


def _per(value: float, posts: int, scale: float = 1.0) -> float:
    return value / posts * scale if posts else 0.0


def build(meter: Meter, replay: dict, logs: dict, source: str, selection: str) -> dict[str, Any]:
    stored, fetched = replay["posts_stored"], replay["posts_fetched"]
    final = meter.final
    tables = final.get("tables", {})
    template = final.get("template", {"Resources": {}})

    calls: Counter[str] = Counter()
    requests: Counter[str] = Counter()
    billed: Counter[str] = Counter()
    by_operation: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for counts, total, column in (
        (meter.calls, calls, "calls"),
        (meter.requests, requests, "requests"),
        (meter.billed, billed, "billed"),
    ):
        for (service, operation, _caller), n in counts.items():
            by_operation[(service, operation)][column] += n
            total[service] += n
    operations = [
        {
            "service": service,
            "operation": operation,
            "calls": n["calls"],
            "requests": n["requests"],
            "billed": n["billed"],
        }
        for (service, operation), n in sorted(by_operation.items())
    ]

    dynamodb: dict[str, dict[str, float]] = defaultdict(
        lambda: {"write": 0.0, "index write": 0.0, "read": 0.0}
    )
    for (table, _caller, kind), n in meter.dynamodb.items():
        dynamodb[_table_label(table, tables)][kind] += n
    write_units = sum(t["write"] + t["index write"] for t in dynamodb.values())
    read_units = sum(t["read"] for t in dynamodb.values())

    functions = {}
    invocations = traces = platform_logged = 0
    lambda_usd = 0.0
    gb_seconds = cpu_bound_gb_seconds = 0.0
    for name, usage in sorted(meter.functions.items()):
        price = prices.LAMBDA_GB_SECOND[usage.architecture]
        usd = usage.invocations * prices.LAMBDA_REQUEST + usage.gb_seconds * price
        cpu_bound = usage.seconds * max(usage.memory_mb, VCPU_MB) / 1024
        functions[name] = {
            "invocations": usage.invocations,
            "seconds": round(usage.seconds, 3),
            "first_seconds": round(usage.first_seconds, 3),
            "gb_seconds": round(usage.gb_seconds, 3),
            "gb_seconds_if_cpu_bound": round(cpu_bound, 3),
            "memory_mb": usage.memory_mb,
            "architecture": usage.architecture,
            "by_trigger": dict(usage.by_trigger),
            "usd": usd,
        }
        invocations += usage.invocations
        if usage.system_log_level != "WARN":
            platform_logged += usage.invocations
        if usage.tracing == "Active":
            traces += usage.invocations - usage.by_trigger.get("state machine", 0)
        gb_seconds += usage.gb_seconds
        cpu_bound_gb_seconds += cpu_bound
        lambda_usd += usd

    transitions = final.get("state_transitions", 0)
    timers = meter.timers_fired + final.get("timers_pending", 0)
    log_bytes = (
        logs["bytes"]
        + logs["lines"] * LOG_EVENT_OVERHEAD_BYTES
        + platform_logged
        * (PLATFORM_LOG_BYTES_PER_INVOCATION + PLATFORM_LOG_LINES_PER_INVOCATION * LOG_EVENT_OVERHEAD_BYTES)
        + final.get("state_machine_log_bytes", 0)
        + final.get("state_machine_log_events", 0) * LOG_EVENT_OVERHEAD_BYTES
    )
    usd = {
        "dynamodb": write_units * prices.DYNAMODB_WRITE_REQUEST_UNIT
        + read_units * prices.DYNAMODB_READ_REQUEST_UNIT,
        "sqs": billed["sqs"] * prices.SQS_REQUEST,
        "sns": billed["sns"] * prices.SNS_PUBLISH,
        "lambda": lambda_usd,
        "stepfunctions": transitions * prices.STEP_FUNCTIONS_TRANSITION,
        "scheduler": timers * prices.SCHEDULER_INVOCATION,
        "secretsmanager": billed["secretsmanager"] * prices.SECRETS_MANAGER_CALL,
        "logs": log_bytes / GB * prices.CLOUDWATCH_LOGS_INGESTED_GB,
        "xray": traces * prices.XRAY_TRACE_RECORDED,
    }
    total = sum(usd.values())
    unpriced = sorted(s for s in billed if billed[s] and s not in prices.SERVICES)

    deliveries = final.get("deliveries", {})
    posts_table = next((v for v in final.get("storage", {}).values() if "Posts" in v["logical_id"]), None)
    bytes_per_post = (
        posts_table["bytes"] / posts_table["items"] if posts_table and posts_table["items"] else 0
    )
    months_held = POST_TTL_DAYS / DAYS_PER_MONTH
    storage_usd = (
        bytes_per_post * prices.MILLION / GB * months_held
        * (prices.DYNAMODB_STORAGE_GB_MONTH + prices.DYNAMODB_PITR_GB_MONTH)
    )  # fmt: skip

    alerts_usd = usd["stepfunctions"] + functions.get("notifier", {}).get("usd", 0.0)
    run_floor = floor(
        # the scorer's invocations by its posts queue (its sweeps, by schedule, are not batches)
        replay["ticks_run"],
        functions.get("scorer", {}).get("by_trigger", {}).get("queue", 0),
        stored,
        alerts_usd,
    )

    return {
        "source": source,
        "selection": selection,
        "passed": replay["passed"],
        "posts_replayed": replay["posts_replayed"],
        "posts_fetched": fetched,
        "posts_stored": stored,
        "fetched_per_stored": round(_per(fetched, stored), 3),
        "ticks_run": replay["ticks_run"],
        "ticks_skipped": replay["ticks_skipped"],
        "simulated_seconds": replay["simulated_seconds"],
        "calls": dict(calls),
        "requests": dict(requests),
        "billed_requests": dict(billed),
        "requests_per_stored_post": round(_per(sum(requests.values()), stored), 3),
        "requests_per_stored_post_by_service": {s: round(_per(n, stored), 3) for s, n in requests.items()},
        "operations": operations,
        "unbilled_requests": sum(meter.unbilled.values()),
        "idle_polls": meter.idle_polls,
        "dynamodb": {t: {k: round(v, 1) for k, v in u.items()} for t, u in sorted(dynamodb.items())},
        "dynamodb_write_units": round(write_units, 1),
        "dynamodb_read_units": round(read_units, 1),
        "write_units_per_stored_post": round(_per(write_units, stored), 3),
        "read_units_per_stored_post": round(_per(read_units, stored), 3),
        "lambda": functions,
        "lambda_invocations": invocations,
        "lambda_gb_seconds": round(gb_seconds, 3),
        "lambda_gb_seconds_if_cpu_bound": round(cpu_bound_gb_seconds, 3),
        "state_transitions": transitions,
        "executions": final.get("executions", {}),
        "timers": {"fired": meter.timers_fired, "pending": final.get("timers_pending", 0)},
        "log_bytes": log_bytes,
        "handler_log_bytes": logs["bytes"],
        "platform_log_invocations": platform_logged,  # those with Lambda's START/END/REPORT lines
        "xray_traces": traces,
        "meter_overhead_seconds": round(meter.overhead_seconds, 1),
        "usd": {s: round(v, 8) for s, v in usd.items()},
        "usd_total": round(total, 8),
        "usd_per_million_posts_by_service": {
            s: round(_per(v, stored, prices.MILLION), 4) for s, v in usd.items()
        },
        "usd_per_million_posts": round(_per(total, stored, prices.MILLION), 4),
        "usd_per_million_posts_floor": run_floor["usd_per_million_posts"],
        "floor": run_floor,
        "unpriced_services": unpriced,
        "deliveries": deliveries,
        "deliveries_usd": {"email": round(deliveries.get("email", 0) * prices.SNS_EMAIL_DELIVERY, 6)},
        "storage": {
            "posts_table_bytes_per_post": round(bytes_per_post, 1),
            "usd_per_million_posts_held": round(storage_usd, 4),
            "days_held": POST_TTL_DAYS,
        },
        "monthly": monthly(template, logs.get("custom_metrics", 0)),
        "prices_as_of": prices.PRICES_AS_OF,
        "prices_region": prices.REGION,
    }


# The least each unit of the run's work costs with this architecture (docs/scale.md, "The floor"):
# what no change short of a different architecture removes. Lambda duration and logs are left at
# nothing, reads at the one a tick cannot do without.
FLOOR_PER_TICK = {  # the schedule runs whatever it finds
    "lambda": 2 * prices.LAMBDA_REQUEST,  # the scheduler and the fetcher
    "sqs": 3 * prices.SQS_REQUEST,  # the fetch job: sent, received, deleted
    "dynamodb": 0.5 * prices.DYNAMODB_READ_REQUEST_UNIT,  # the cursor, read eventually consistent
}
FLOOR_PER_BATCH = {  # each batch of posts the fetcher queues and the scorer takes
    "lambda": prices.LAMBDA_REQUEST,  # the scorer
    "sqs": 3 * prices.SQS_REQUEST,  # the posts: sent, received, deleted
    # the cursor moved (1 unit), and the watch's bucket counter in the posts' transaction (2 units:
    # transactions bill twice; exactly-once counting needs the post and its counts together)
    "dynamodb": 3 * prices.DYNAMODB_WRITE_REQUEST_UNIT,
}
FLOOR_PER_POST = {"dynamodb": 2 * prices.DYNAMODB_WRITE_REQUEST_UNIT}  # its write, in the transaction


def floor(ticks: int, batches: int, stored: int, alerts_usd: float) -> dict[str, Any]:
    """The least this run's ticks, batches, stored posts and alerts cost with this architecture,
    and what it comes to per million stored posts, per unit of work and at other densities."""
    per_tick, per_batch, per_post = (
        sum(u.values()) for u in (FLOOR_PER_TICK, FLOOR_PER_BATCH, FLOOR_PER_POST)
    )
    total = ticks * per_tick + batches * per_batch + stored * per_post + alerts_usd
    return {
        "usd": round(total, 8),
        "usd_per_million_posts": round(_per(total, stored, prices.MILLION), 4),
        "ticks": ticks,
        "batches": batches,
        "posts": stored,
        "alerts_usd": round(alerts_usd, 8),
        "usd_per_tick": per_tick,
        "usd_per_batch": per_batch,
        "usd_per_post": per_post,
        # One batch a tick and no alerts: the floor per million posts at a few densities.
        "usd_per_million_posts_at_posts_per_tick": {
            n: round((per_tick + per_batch + n * per_post) / n * prices.MILLION, 3)
            for n in (1, 2, 5, 10, 25, 100)
        },
    }


def monthly(template: dict, custom_metrics: int) -> dict[str, Any]:
    """What the stack costs each month whatever the volume, from the template (not per post)."""
    kinds = Counter(r["Type"] for r in template.get("Resources", {}).values())
    rules = sum(
        len(r.get("Properties", {}).get("Rules", []))
        for r in template.get("Resources", {}).values()
        if r["Type"] == "AWS::WAFv2::WebACL"
    )
    counts = {
        "CloudWatch alarm (standard resolution)": kinds["AWS::CloudWatch::Alarm"],
        "CloudWatch custom metric (first 10,000)": custom_metrics,
        "KMS customer managed key": kinds["AWS::KMS::Key"],
        "Secrets Manager secret": kinds["AWS::SecretsManager::Secret"],
        "WAF web ACL": kinds["AWS::WAFv2::WebACL"],
        "WAF rule": rules,
    }
    items = {name: {"count": n, "usd": round(n * prices.MONTHLY[name], 2)} for name, n in counts.items()}
    schedules = {}
    for logical_id, resource in template.get("Resources", {}).items():
        expression = resource.get("Properties", {}).get("ScheduleExpression", "")
        found = re.fullmatch(r"rate\((\d+) minutes?\)", expression)
        if resource["Type"] == "AWS::Events::Rule" and found:
            schedules[logical_id] = MONTH_MINUTES // int(found.group(1))
    return {
        "items": items,
        "usd": round(sum(i["usd"] for i in items.values()), 2),
        "scheduled_invocations": schedules,
    }


# -- the table -----------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def render(f: dict[str, Any]) -> list[str]:
    stored = f["posts_stored"]
    out = [
        f"=== Cost of {f['selection']} on the embedded AWS (moto): prices {f['prices_region']}, "
        f"{f['prices_as_of']} ===",
        f"posts: replayed {f['posts_replayed']:,}, fetched {f['posts_fetched']:,}, stored {stored:,}: "
        f"fetched/stored {f['fetched_per_stored']:.2f}; ticks run {f['ticks_run']}, idle ticks skipped "
        f"{f['ticks_skipped']}",
        "",
        "AWS requests by the functions and the SQS pollers: calls made here, requests AWS would get",
        "(the pollers' as Lambda's), billed requests (64 KB chunks; DynamoDB: units, below)",
        f"  {'service':15}{'operation':21}{'calls':>8}{'requests':>10}{'billed':>8}{'requests per stored post':>26}",
    ]
    for op in f["operations"]:
        out.append(
            f"  {op['service']:15}{op['operation']:21}{op['calls']:>8,}{op['requests']:>10,}{op['billed']:>8,}"
            f"{op['requests'] / max(stored, 1):>26.3f}"
        )
    out.append(
        f"  {'all':36}{sum(f['calls'].values()):>8,}{sum(f['requests'].values()):>10,}"
        f"{sum(f['billed_requests'].values()):>8,}{f['requests_per_stored_post']:>26.3f}"
    )
    out.append(
        f"  (not billed: {f['unbilled_requests']:,} requests by the driver and the emulator; "
        f"{f['idle_polls']:,} empty polls of the SQS pollers)"
    )
    out += ["", "DynamoDB request units", f"  {'table':12}{'write':>10}{'index write':>13}{'read':>10}"]
    for table, u in f["dynamodb"].items():
        out.append(f"  {table:12}{_n(u['write']):>10}{_n(u['index write']):>13}{_n(u['read']):>10}")
    out.append(
        f"  total: {_n(f['dynamodb_write_units'])} write units ({f['write_units_per_stored_post']:.2f} per "
        f"stored post), {_n(f['dynamodb_read_units'])} read units ({f['read_units_per_stored_post']:.2f} per stored post)"
    )
    out += [
        "",
        "Lambda",
        f"  {'function':11}{'memory':>8}{'invocations':>13}{'seconds':>10}{'first':>8}{'GB-s':>9}"
        f"{'if CPU-bound':>14}  triggers",
    ]
    for name, fn in f["lambda"].items():
        triggers = ", ".join(f"{k} {v}" for k, v in sorted(fn["by_trigger"].items()))
        out.append(
            f"  {name:11}{fn['memory_mb']:>5} MB{fn['invocations']:>13,}{fn['seconds']:>10.2f}{fn['first_seconds']:>8.2f}"
            f"{fn['gb_seconds']:>9.2f}{fn['gb_seconds_if_cpu_bound']:>14.2f}  {triggers}"
        )
    executions = ", ".join(f"{n} {s.lower()}" for s, n in sorted(f["executions"].items())) or "none"
    out += [
        f"  {f['lambda_invocations']:,} invocations, {f['lambda_gb_seconds']:.2f} GB-s "
        f"({f['lambda_gb_seconds_if_cpu_bound']:.2f} if CPU-bound at each function's vCPU share)",
        f"Step Functions: {f['state_transitions']:,} state transitions (executions: {executions}); "
        f"Scheduler: {f['timers']['fired']} timers fired, {f['timers']['pending']} pending (each fires once)",
        f"CloudWatch Logs: {f['log_bytes'] / 1024:,.0f} KB ingested ({f['handler_log_bytes'] / 1024:,.0f} KB "
        f"written by the handlers); X-Ray: {f['xray_traces']:,} traces",
        "",
        "$ per million stored posts",
    ]
    for service, value in f["usd_per_million_posts_by_service"].items():
        out.append(f"  {service:16}{value:>10.2f}")
    out.append(f"  {'total':16}{f['usd_per_million_posts']:>10.2f}")
    fl = f["floor"]
    densities = ", ".join(
        f"{n} posts: ${v:.2f}" for n, v in fl["usd_per_million_posts_at_posts_per_tick"].items()
    )
    out += [
        "",
        f"Floor: the least this run's {fl['ticks']} ticks, {fl['batches']} batches, {fl['posts']} stored posts "
        "and its alerts cost with this architecture",
        f"  ${fl['usd_per_tick'] * 1e6:.2f} per million ticks (scheduler + fetcher invocations, the job's 3 SQS "
        f"requests, the cursor's read), ${fl['usd_per_batch'] * 1e6:.2f} per million batches (scorer "
        "invocation, the posts' 3 SQS requests, the cursor's write, the bucket counter in the transaction), "
        f"${fl['usd_per_post'] * 1e6:.2f} per million posts (each one's write in the transaction), and the "
        f"alerts as measured (Step Functions, notifier: ${fl['alerts_usd'] / max(fl['posts'], 1) * 1e6:.2f} "
        "per million stored posts here)",
        f"  ${fl['usd_per_million_posts']:.2f} per million stored posts; measured "
        f"${f['usd_per_million_posts']:.2f}, {f['usd_per_million_posts'] / max(fl['usd_per_million_posts'], 1e-9):.2f}x "
        f"the floor ({f['posts_stored'] / max(fl['ticks'], 1):.1f} stored posts a tick)",
        f"  with one batch a tick and no alerts, per million posts at {densities} a tick",
    ]
    deliveries = ", ".join(f"{n} {p}" for p, n in sorted(f["deliveries"].items())) or "none"
    monthly_items = "; ".join(
        f"{i['count']} {name.split(' (')[0].lower()}{'s' if i['count'] != 1 else ''}"
        for name, i in f["monthly"]["items"].items()
    )
    schedules = ", ".join(f"{n:,} of {lid}" for lid, n in f["monthly"]["scheduled_invocations"].items())
    out += [
        "",
        "Left out of the $ per post",
        f"  per alert: SNS deliveries {deliveries} (e-mail ${prices.SNS_EMAIL_DELIVERY * 100_000:.2f} per "
        f"100,000; {prices.SNS_SMS_DELIVERY_NOTE})",
        f"  per month held: DynamoDB storage and PITR of the posts, {f['storage']['posts_table_bytes_per_post']:,.0f} "
        f"B each for {f['storage']['days_held']} days: ${f['storage']['usd_per_million_posts_held']:.2f} per "
        "million posts",
        f"  per month, whatever the volume: ${f['monthly']['usd']:.2f} ({monthly_items}); scheduled "
        f"invocations a month: {schedules} (the replay runs only the ticks with new posts)",
        "  free tiers; KMS requests (DynamoDB caches data keys, SQS uses SSE-SQS); data transfer; "
        "Lambda cold starts (INIT billed since 2025-08; one process here, never cold)",
    ]
    if f["unpriced_services"]:
        out.append(f"  requests to services without a price here: {', '.join(f['unpriced_services'])}")
    if not f["passed"]:
        out.append("THE REPLAY'S CHECKS FAILED: these figures measure a broken run")
    return out
