"""Count every AWS request made in this process, and what AWS would bill for it.

    with Meter(functions_only=True) as meter:
        run_replay(..., engine="moto")
    meter.requests, meter.dynamodb, meter.functions, meter.final

`Meter` patches `botocore.client.BaseClient._make_api_call` (every boto3 client's one way out) and,
when the embedded local AWS is importable, a few methods of `LocalAws`, and restores them on exit.

What is counted:
- Calls, by service, operation and caller (the function whose invocation made it, or the poller
  of an SQS event source). With `functions_only`, calls made by anything else (the replay driver
  reading results, provisioning, the emulator playing EventBridge Scheduler) are counted apart in
  `unbilled` and priced at nothing; without it (unit tests), every call counts.
- Requests, as AWS would receive them: one per call, except the SQS poller's, which is Lambda's:
  `LocalAws.pump` deletes each message alone where Lambda's poller deletes in batches of 10
  (ceil(n / 10) per batch), makes failed records visible at once with ChangeMessageVisibility
  where AWS lets the visibility timeout run out (none), and ends with an empty receive where
  Lambda's poller long-polls all the time (a fixed monthly cost, not a per-post one: none).
- Billed requests: SQS and SNS bill each 64 KB chunk of a payload as one request (a
  SendMessageBatch of 3 x 60 KB is 3); DynamoDB bills request units (below), and Lambda, Step
  Functions and Scheduler bill nothing per API call (invocations, transitions: below).
- DynamoDB request units, as DynamoDB bills on-demand tables (`tools/cost/units.py`): a write
  costs ceil(size / 1 KB) per item named, the size being the larger of the item before and after
  (read from moto's backend, not through boto3, so the meter does not count itself), so a failed
  condition or a cancelled transaction still costs the units of its items; transactions cost
  twice. Each write also costs the global secondary indexes whose entry it puts, changes or
  deletes (an entry whose projected attributes are unchanged costs nothing; a changed index key is
  a delete and a put), once, not doubled in transactions. Reads: ceil(size / 4 KB) per item
  (GetItem, BatchGetItem; the whole item even with a projection; at least 1 unit when nothing is
  found), per request for Query and Scan (the items returned: the code under test uses no filter
  expressions, which would also bill the items filtered out), half for eventually consistent
  reads (every index read is), twice in transactions.
- Lambda: invocations of each function through `LocalAws.invoke` (the event-source pollers, the
  schedules, the timers, the API and the state machine's tasks all come through it), their wall
  seconds (less the meter's own bookkeeping), billed per invocation rounded up to 1 ms, times the
  memory the template configures. (A synchronous invocation made from inside another would count
  in both, as on AWS; the state machine's tasks run on moto's own threads, not inside the scorer.)
- At `LocalAws.stop` (`final`): Step Functions state transitions (StateEntered events of every
  execution's history) and what its ALL-level logging would ingest, timers still pending (each
  one-time schedule fires once: Scheduler bills it then), SNS deliveries by protocol, and the
  items and bytes each table stores. These are read with the meter paused.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from crisiswatch.constants import FUNCTIONS
from infra.local.emulator import moto_internals
from tools.cost import units

MOTO_ACCOUNT = "123456789012"  # moto's default account, the embedded local AWS's too
# DynamoDB stores 100 bytes of overhead per item (and per index entry) on top of its size.
ITEM_STORAGE_OVERHEAD_BYTES = 100
POLLER = "sqs poller"  # the caller of the requests Lambda's event-source mapping makes
# What the caller of a request is when no invocation is under way (nothing is billed for it).
UNATTRIBUTED = "-"

DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
DYNAMODB_READS = {"GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan"}
SQS_POLLER_DELETE_BATCH = 10
# Services whose API calls cost nothing themselves: Lambda bills invocations, Step Functions state
# transitions, EventBridge Scheduler invocations (all counted apart).
FREE_API_SERVICES = {"lambda", "stepfunctions", "scheduler"}


@dataclass
class _Local:
    stack: list = field(default_factory=list)  # of _Frame, innermost last
    paused: bool = False
    poller_deletes: int = 0


@dataclass
class FunctionUsage:
    """One Lambda function's invocations and duration in the run."""

    memory_mb: int
    architecture: str
    tracing: str = "Active"  # the template's TracingConfig mode: "Active" or "PassThrough"
    # The template's LoggingConfig.SystemLogLevel: Lambda writes START and REPORT (INFO) below WARN.
    system_log_level: str = "INFO"
    invocations: int = 0
    seconds: float = 0.0
    billed_ms: int = 0
    first_seconds: float = 0.0  # the first invocation's: lazy loads (jieba's dictionary) happen there
    by_trigger: Counter = field(default_factory=Counter)

    @property
    def gb_seconds(self) -> float:
        return self.billed_ms / 1000 * self.memory_mb / 1024


@dataclass
class _Frame:
    kind: str  # "function", "queue" (an SQS poller), "schedule", "timer", "api", "state machine"
    name: str
    excluded: float = 0.0  # seconds inside this frame that are the meter's own bookkeeping


class Meter:
    """A context manager that counts AWS requests and usage in this process (see the module)."""

    def __init__(self, *, functions_only: bool = False, account: str = MOTO_ACCOUNT) -> None:
        self.functions_only = functions_only
        self.account = account
        # (service, operation, caller) -> calls made here; requests AWS would receive (the poller's
        # as Lambda's makes them); requests as billed (64 KB chunks; 0 where units or nothing are)
        self.calls: Counter[tuple[str, str, str]] = Counter()
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.billed: Counter[tuple[str, str, str]] = Counter()
        self.unbilled: Counter[tuple[str, str]] = Counter()
        self.idle_polls = 0
        # (table, caller, "write" | "index write" | "read") -> request units
        self.dynamodb: Counter[tuple[str, str, str]] = Counter()
        self.functions: dict[str, FunctionUsage] = {}
        self.timers_fired = 0
        self.overhead_seconds = 0.0  # spent in the meter's bookkeeping (not in anyone's duration)
        self.final: dict[str, Any] = {}
        # Who is calling, per thread of control: a context variable, so that a handler's worker
        # threads (asyncio.to_thread copies the context) are attributed to its invocation.
        self._local_var: contextvars.ContextVar[_Local] = contextvars.ContextVar(f"meter-{id(self)}")
        self._lock = threading.Lock()
        self._patches: list[Any] = []

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> Meter:
        self._patches = [mock.patch.object(BaseClient, "_make_api_call", self._wrap_api_call())]
        with contextlib.suppress(ImportError):
            from infra.local.emulator.runtime import LocalAws

            self._patches += self._local_aws_patches(LocalAws)
        for patch in self._patches:
            patch.start()
        return self

    def __exit__(self, *exc: object) -> None:
        while self._patches:
            self._patches.pop().stop()

    @property
    def _local(self) -> _Local:
        local = self._local_var.get(None)
        if local is None:
            local = _Local()
            self._local_var.set(local)
        return local

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Requests made in this thread meanwhile are not counted at all."""
        before = getattr(self._local, "paused", False)
        self._local.paused = True
        try:
            yield
        finally:
            self._local.paused = before

    # -- who is calling ------------------------------------------------------------------------

    @property
    def _stack(self) -> list[_Frame]:
        return self._local.stack

    @contextlib.contextmanager
    def _frame(self, kind: str, name: str = "") -> Iterator[_Frame]:
        frame = _Frame(kind, name)
        self._stack.append(frame)
        try:
            yield frame
        finally:
            self._stack.pop()

    def _caller(self) -> tuple[str, str]:
        """(kind of the innermost frame, the caller a request is attributed to)."""
        if not self._stack:
            return "", UNATTRIBUTED
        frame = self._stack[-1]
        if frame.kind == "function":
            return "function", frame.name
        if frame.kind == "queue":
            return "queue", POLLER
        return frame.kind, UNATTRIBUTED

    def _exclude(self, seconds: float) -> None:
        """The meter's own bookkeeping: not the caller's duration."""
        with self._lock:
            self.overhead_seconds += seconds
        if self._stack:
            self._stack[-1].excluded += seconds

    # -- requests ------------------------------------------------------------------------------

    def _wrap_api_call(self):
        original = BaseClient._make_api_call
        meter = self

        def _make_api_call(client: BaseClient, operation: str, params: dict) -> Any:
            if getattr(meter._local, "paused", False):
                return original(client, operation, params)
            service = client.meta.service_model.service_name
            kind, caller = meter._caller()
            if meter.functions_only and kind not in ("function", "queue"):
                with meter._lock:
                    meter.unbilled[(service, operation)] += 1
                return original(client, operation, params)
            region = client.meta.region_name
            if service == "dynamodb" and operation in DYNAMODB_WRITES:
                return meter._dynamodb_write(original, client, operation, params, region, caller)
            response: dict | None = None
            try:
                response = original(client, operation, params)
                return response
            except ClientError as e:
                response = e.response
                raise
            finally:
                started = time.perf_counter()
                meter._record(service, operation, caller, kind, params, response or {}, region)
                meter._exclude(time.perf_counter() - started)

        return _make_api_call

    def _count(self, service: str, operation: str, caller: str, requests: int, billed: int) -> None:
        with self._lock:
            self.calls[(service, operation, caller)] += 1
            self.requests[(service, operation, caller)] += requests
            self.billed[(service, operation, caller)] += billed

    def _record(
        self, service: str, operation: str, caller: str, kind: str, params: dict, response: dict, region: str
    ) -> None:
        requests, billed = 1, 1
        if service == "sqs":
            requests, billed = self._sqs_billed(operation, kind, params, response)
        elif service == "sns":
            billed = self._sns_billed(operation, params)
        elif service == "dynamodb":
            billed = 0  # billed by request units
            if operation in DYNAMODB_READS:
                self._dynamodb_read(operation, params, response, region, caller)
        elif service in FREE_API_SERVICES:
            billed = 0
        self._count(service, operation, caller, requests, billed)

    # -- SQS and SNS ---------------------------------------------------------------------------

    def _sqs_billed(self, operation: str, kind: str, params: dict, response: dict) -> tuple[int, int]:
        """(requests AWS would receive, requests billed) of one SQS call."""
        polling = kind == "queue"
        if operation == "SendMessage":
            return 1, units.payload_requests(_message_size(params))
        if operation == "SendMessageBatch":
            return 1, units.payload_requests(sum(_message_size(e) for e in params.get("Entries", [])))
        if operation == "ReceiveMessage":
            messages = response.get("Messages", [])
            if polling:
                self._flush_poller_deletes()
                if not messages:
                    with self._lock:
                        self.idle_polls += 1
                    return 0, 0
            return 1, units.payload_requests(sum(_message_size(m) for m in messages))
        if polling and operation == "DeleteMessage":
            self._local.poller_deletes = getattr(self._local, "poller_deletes", 0) + 1
            return 0, 0  # counted by _flush_poller_deletes, as DeleteMessageBatch requests
        if polling and operation == "ChangeMessageVisibility":
            return 0, 0
        return 1, 1

    def _flush_poller_deletes(self) -> None:
        pending = getattr(self._local, "poller_deletes", 0)
        if pending:
            self._local.poller_deletes = 0
            batches = math.ceil(pending / SQS_POLLER_DELETE_BATCH)
            with self._lock:
                self.requests[("sqs", "DeleteMessage", POLLER)] += batches
                self.billed[("sqs", "DeleteMessage", POLLER)] += batches

    @staticmethod
    def _sns_billed(operation: str, params: dict) -> float:
        if operation == "Publish":
            return units.payload_requests(_publish_size(params))
        if operation == "PublishBatch":
            return units.payload_requests(
                sum(_publish_size(e) for e in params.get("PublishBatchRequestEntries", []))
            )
        return 1

    # -- DynamoDB ------------------------------------------------------------------------------

    def _item(self, region: str, table: str, key: dict) -> dict | None:
        return moto_internals.dynamodb_item(self.account, region, table, key)

    def _key(self, region: str, table: str, item: dict) -> dict:
        names = moto_internals.dynamodb_key_names(self.account, region, table)
        return {name: item[name] for name in names if name in item}

    def _write_targets(self, operation: str, params: dict, region: str) -> list[tuple[str, dict]]:
        """(table, key) of every item the write request names."""
        if operation == "PutItem":
            return [(params["TableName"], self._key(region, params["TableName"], params["Item"]))]
        if operation in ("UpdateItem", "DeleteItem"):
            return [(params["TableName"], params["Key"])]
        targets = []
        if operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        targets.append((table, self._key(region, table, request["PutRequest"]["Item"])))
                    elif "DeleteRequest" in request:
                        targets.append((table, request["DeleteRequest"]["Key"]))
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                ((action, body),) = entry.items()
                table = body["TableName"]
                targets.append(
                    (table, self._key(region, table, body["Item"]) if action == "Put" else body["Key"])
                )
        return targets

    def _dynamodb_write(
        self, original, client, operation: str, params: dict, region: str, caller: str
    ) -> Any:
        with moto_internals.dynamodb_serialized():  # no other thread writes these items meanwhile
            started = time.perf_counter()
            try:
                targets = self._write_targets(operation, params, region)
            except (KeyError, TypeError, ValueError):
                targets = []  # a malformed request: DynamoDB rejects it, and bills nothing
            before = [self._item(region, table, key) for table, key in targets]
            self._exclude(time.perf_counter() - started)
            response: dict = {}
            try:
                response = original(client, operation, params)
                return response
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") in (
                    "ValidationException",
                    "ResourceNotFoundException",
                ):
                    targets, before = [], []  # rejected before any item was touched: no units
                raise
            except Exception:
                targets, before = [], []  # never sent (e.g. botocore's parameter validation)
                raise
            finally:
                started = time.perf_counter()
                unprocessed = _unprocessed_keys(response.get("UnprocessedItems", {}), self, region)
                factor = 2 if operation == "TransactWriteItems" else 1
                for (table, key), old in zip(targets, before, strict=True):
                    if (table, _frozen(key)) in unprocessed:
                        continue
                    new = self._item(region, table, key)
                    size = max(units.item_size(old), units.item_size(new))
                    index_units = self._index_write_units(region, table, old, new)
                    with self._lock:
                        self.dynamodb[(table, caller, "write")] += factor * units.write_units(size)
                        if index_units:
                            self.dynamodb[(table, caller, "index write")] += index_units
                self._count("dynamodb", operation, caller, 1, 0)
                self._exclude(time.perf_counter() - started)

    def _index_write_units(self, region: str, table: str, old: dict | None, new: dict | None) -> int:
        total = 0
        table_keys = moto_internals.dynamodb_key_names(self.account, region, table)
        for index in moto_internals.dynamodb_indexes(self.account, region, table):
            index_keys = [k["AttributeName"] for k in index["KeySchema"]]
            before, after = (_index_entry(item, table_keys, index_keys, index) for item in (old, new))
            if before is None and after is None:
                continue
            if before is None or after is None:
                total += units.write_units(units.item_size(before or after))
            elif any(before[k] != after[k] for k in index_keys):
                total += units.write_units(units.item_size(before)) + units.write_units(
                    units.item_size(after)
                )
            elif before != after:
                total += units.write_units(max(units.item_size(before), units.item_size(after)))
        return total

    def _full_size(self, region: str, table: str, item: dict, index_name: str | None) -> int:
        """What reading `item` (as returned) bills: the stored item, or the index entry."""
        names = moto_internals.dynamodb_key_names(self.account, region, table)
        if not names or any(n not in item for n in names):
            return units.item_size(item)  # a projection without the keys: what came back
        stored = self._item(region, table, {n: item[n] for n in names}) or item
        if index_name:
            for index in moto_internals.dynamodb_indexes(self.account, region, table):
                if index["IndexName"] == index_name:
                    index_keys = [k["AttributeName"] for k in index["KeySchema"]]
                    stored = _index_entry(stored, names, index_keys, index) or item
        return units.item_size(stored)

    def _dynamodb_read(self, operation: str, params: dict, response: dict, region: str, caller: str) -> None:
        read: list[tuple[str, float]] = []  # (table, units)
        if operation == "GetItem":
            size = units.item_size(self._item(region, params["TableName"], params["Key"]))
            read.append((params["TableName"], units.read_units(size, params.get("ConsistentRead", False))))
        elif operation == "BatchGetItem":
            unprocessed = response.get("UnprocessedKeys", {})
            for table, request in params.get("RequestItems", {}).items():
                skipped = {_frozen(k) for k in unprocessed.get(table, {}).get("Keys", [])}
                for key in request.get("Keys", []):
                    if _frozen(key) not in skipped:
                        size = units.item_size(self._item(region, table, key))
                        read.append((table, units.read_units(size, request.get("ConsistentRead", False))))
        elif operation == "TransactGetItems":
            for entry in params.get("TransactItems", []):
                body = entry["Get"]
                size = units.item_size(self._item(region, body["TableName"], body["Key"]))
                read.append((body["TableName"], 2 * units.read_units(size, True)))
        elif operation in ("Query", "Scan"):
            if "Error" in response:
                return  # rejected: no units
            table, index = params["TableName"], params.get("IndexName")
            size = sum(self._full_size(region, table, item, index) for item in response.get("Items", []))
            consistent = params.get("ConsistentRead", False) and not index
            read.append((table, units.read_units(size, consistent)))
        with self._lock:
            for table, n in read:
                self.dynamodb[(table, caller, "read")] += n

    # -- the embedded local AWS ----------------------------------------------------------------

    def _usage(self, aws: Any, function: Any) -> tuple[str, FunctionUsage]:
        name = next((key for key, spec in FUNCTIONS.items() if spec.handler == function.handler), None)
        name = name or function.logical_id
        with self._lock:
            if name not in self.functions:
                props = aws.template["Resources"].get(function.logical_id, {}).get("Properties", {})
                self.functions[name] = FunctionUsage(
                    memory_mb=int(props.get("MemorySize", 128)),
                    architecture=(props.get("Architectures") or ["x86_64"])[0],
                    tracing=(props.get("TracingConfig") or {}).get("Mode", "PassThrough"),
                    system_log_level=(props.get("LoggingConfig") or {}).get("SystemLogLevel", "INFO"),
                )
            return name, self.functions[name]

    def _local_aws_patches(self, local_aws: type) -> list[Any]:
        meter = self
        invoke, pump, tick = local_aws.invoke, local_aws.pump, local_aws.tick
        fire_timers, api, dispatch, stop = (
            local_aws.fire_timers,
            local_aws.api,
            local_aws._dispatch_invoke,
            local_aws.stop,
        )

        def metered_invoke(aws, function, event):
            if isinstance(function, str):
                function = aws.function(function)
            name, usage = meter._usage(aws, function)
            trigger = meter._stack[-1].kind if meter._stack else "direct"
            if trigger == "queue":
                meter._flush_poller_deletes()
            started = time.perf_counter()
            with meter._frame("function", name) as frame:
                try:
                    return invoke(aws, function, event)
                finally:
                    wall = time.perf_counter() - started
                    own = max(0.0, wall - frame.excluded)
                    with meter._lock:
                        if not usage.invocations:
                            usage.first_seconds = own
                        usage.invocations += 1
                        usage.seconds += own
                        usage.billed_ms += max(1, math.ceil(own * 1000))
                        usage.by_trigger[trigger] += 1

        def framed(method, kind):
            def call(aws, *args, **kwargs):
                with meter._frame(kind):
                    try:
                        return method(aws, *args, **kwargs)
                    finally:
                        if kind == "queue":
                            meter._flush_poller_deletes()

            return call

        def metered_fire_timers(aws, now):
            fired = framed(fire_timers, "timer")(aws, now)
            with meter._lock:
                meter.timers_fired += fired
            return fired

        def metered_stop(aws):
            if aws._mock is not None:
                with meter.paused():
                    meter.final = collect_final(aws, meter.account)
            return stop(aws)

        return [
            mock.patch.object(local_aws, "invoke", metered_invoke),
            mock.patch.object(local_aws, "pump", framed(pump, "queue")),
            mock.patch.object(local_aws, "tick", framed(tick, "schedule")),
            mock.patch.object(local_aws, "fire_timers", metered_fire_timers),
            mock.patch.object(local_aws, "api", framed(api, "api")),
            mock.patch.object(local_aws, "_dispatch_invoke", framed(dispatch, "state machine")),
            mock.patch.object(local_aws, "stop", metered_stop),
        ]


# -- what is read at the end ---------------------------------------------------------------------


def collect_final(aws: Any, account: str) -> dict[str, Any]:
    """What only the end of a run tells: state transitions, pending timers, deliveries, storage."""
    from infra.local.emulator import REGION

    sfn = aws.client("stepfunctions")
    transitions, statuses, log_events, log_bytes = 0, Counter(), 0, 0
    for arn in aws.stack.state_machines.values():
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
            for execution in page["executions"]:
                statuses[execution["status"]] += 1
                for event in _history(sfn, execution["executionArn"]):
                    transitions += event["type"].endswith("StateEntered")
                    log_events += 1
                    log_bytes += _sfn_log_size(event, execution["executionArn"])
    scheduler = aws.client("scheduler")
    pending = 0
    for group in aws.stack.schedule_groups.values():
        for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
            for summary in page["Schedules"]:
                if summary.get("GroupName", group) != group:
                    continue
                schedule = scheduler.get_schedule(GroupName=group, Name=summary["Name"])
                pending += schedule["ScheduleExpression"].startswith("at(")
    deliveries = Counter(d.subscriber.protocol for d in aws.deliveries())
    storage = {}
    for logical_id, name in aws.stack.tables.items():
        sizes = [units.item_size(item) for item in moto_internals.dynamodb_items(account, REGION, name)]
        storage[name] = {
            "logical_id": logical_id,
            "items": len(sizes),
            "bytes": sum(sizes) + ITEM_STORAGE_OVERHEAD_BYTES * len(sizes),
        }
    return {
        "state_transitions": transitions,
        "executions": dict(statuses),
        "state_machine_log_events": log_events,
        "state_machine_log_bytes": log_bytes,
        "timers_pending": pending,
        "deliveries": dict(deliveries),
        "storage": storage,
        "template": aws.template,
        "tables": dict(aws.stack.tables),
    }


def _history(sfn: Any, execution_arn: str) -> Iterator[dict]:
    kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        yield from page["events"]
        if not page.get("nextToken"):
            return
        kwargs["nextToken"] = page["nextToken"]


def _sfn_log_size(event: dict, execution_arn: str) -> int:
    """The bytes Step Functions' ALL-level logging (IncludeExecutionData: false) ingests for one
    history event: the event without its input and output, and the execution's ARN."""
    details = {
        key: {k: v for k, v in value.items() if k not in ("input", "output", "parameters", "result")}
        for key, value in event.items()
        if key.endswith("EventDetails") and isinstance(value, dict)
    }
    record = {
        "id": event.get("id"),
        "type": event.get("type"),
        "previous_event_id": event.get("previousEventId"),
        "event_timestamp": event.get("timestamp"),
        "execution_arn": execution_arn,
        "details": details,
    }
    return len(json.dumps(record, default=str).encode("utf-8"))


# -- helpers -------------------------------------------------------------------------------------


def _frozen(key: dict) -> str:
    return json.dumps(key, sort_keys=True, default=str)


def _unprocessed_keys(unprocessed: dict, meter: Meter, region: str) -> set[tuple[str, str]]:
    keys = set()
    for table, requests in unprocessed.items():
        for request in requests:
            if "PutRequest" in request:
                keys.add((table, _frozen(meter._key(region, table, request["PutRequest"]["Item"]))))
            elif "DeleteRequest" in request:
                keys.add((table, _frozen(request["DeleteRequest"]["Key"])))
    return keys


def _index_entry(
    item: dict | None, table_keys: tuple[str, ...], index_keys: list[str], index: dict
) -> dict | None:
    """The item's entry in a global secondary index (None when it lacks an index key)."""
    if item is None or any(k not in item for k in index_keys):
        return None
    projection = index.get("Projection", {})
    if projection.get("ProjectionType", "ALL") == "ALL":
        return item
    kept = set(table_keys) | set(index_keys) | set(projection.get("NonKeyAttributes", []))
    return {k: v for k, v in item.items() if k in kept}


def _message_size(message: dict) -> int:
    """An SQS message's payload: body and message attributes (request entry or received message)."""
    body = message.get("MessageBody", message.get("Body", ""))
    return len(body.encode("utf-8")) + units.message_attributes_size(message.get("MessageAttributes"))


def _publish_size(params: dict) -> int:
    size = len(params.get("Message", "").encode("utf-8")) + len(params.get("Subject", "").encode("utf-8"))
    return size + units.message_attributes_size(params.get("MessageAttributes"))
