"""The embedded local AWS: our synthesized CDK template, provisioned onto moto in this process.

One source of truth: every table, queue, topic, subscription, function environment, schedule,
event-source mapping, API route and the state machine definition comes from the template the CDK
app synthesizes; nothing here repeats a resource name or setting. The real handlers run in this
process as the Lambda functions:
- SQS event-source mappings become `pump(queue)`, which delivers batches with real receive
  counts, deletes what succeeded and lets failures return (and reach the DLQ after maxReceiveCount);
- schedules become `tick(rule)`; API Gateway becomes `api(method, path, body)`;
- the state machine runs inside moto, and its `lambda:invoke` tasks are dispatched to the handlers;
- EventBridge Scheduler's one-time schedules (the timers) are stored by moto, which never fires
  them: `fire_timers(now)` invokes the target of every schedule due by `now` and deletes it.

Clients in this process reach moto in-process (as under `mock_aws`); a moto server on `endpoint`
serves the same state to other processes. What this needs of moto's internals is in
`moto_internals.py`.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import os
import re
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3
from botocore.exceptions import ClientError

from crisiswatch.aws.timers import parse_at
from infra.local.emulator import ACCOUNT, REGION, moto_internals
from infra.local.emulator.cloudformation import Created, Resolver, UnsupportedTemplate

LOCAL_ROLE = "crisiswatch-local-lambda"
LOCAL_LOG_LEVEL = ("LOG_LEVEL", "POWERTOOLS_LOG_LEVEL")  # what the handlers here log at
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


@dataclass
class LocalFunction:
    logical_id: str
    name: str
    handler: str  # module.function
    environment: dict[str, str]
    timeout: int

    def load(self):
        module, _, attr = self.handler.rpartition(".")
        return getattr(importlib.import_module(module), attr)


@dataclass
class EventSourceMapping:
    queue_url: str
    queue_arn: str
    function: LocalFunction
    batch_size: int
    partial_failures: bool


@dataclass
class Schedule:
    logical_id: str
    expression: str
    function: LocalFunction
    input: dict


@dataclass
class Route:
    method: str
    resource: str  # e.g. /incidents/{incident_id}
    function: LocalFunction


@dataclass
class Subscriber:
    arn: str
    protocol: str
    endpoint: str
    filter_policy: dict


@dataclass
class Delivery:
    subscriber: Subscriber
    message_id: str
    subject: str
    text: str
    level: str
    recipients: list[str] = field(default_factory=list)  # the subscriber names the publish named


@dataclass
class LocalStack:
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    mappings: list[EventSourceMapping] = field(default_factory=list)
    schedules: list[Schedule] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)
    queues: dict[str, Created] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    topics: dict[str, str] = field(default_factory=dict)
    state_machines: dict[str, str] = field(default_factory=dict)
    schedule_groups: dict[str, str] = field(default_factory=dict)  # logical id -> group name


class FakeLambdaContext:
    def __init__(self, function: LocalFunction):
        self.function_name = function.name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 256
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function.name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function.name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _physical_name(logical_id: str, limit: int) -> str:
    return f"local-{logical_id}"[:limit]


class LocalAws:
    """moto in this process (and a moto server on `endpoint`) with the stack provisioned on it.

    moto keeps its state per process, so one process holds one LocalAws at a time.
    """

    _running: LocalAws | None = None

    def __init__(self, template: dict, log_level: str = "WARNING", overrides: dict[str, str] | None = None):
        self.template = template
        self.log_level = log_level
        self.overrides = overrides or {}
        self.stack = LocalStack()
        self._server = None
        self._mock = None
        self.endpoint = ""
        self._unpatch: list = []

    # -- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> LocalAws:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        if LocalAws._running is not None:
            raise RuntimeError("a LocalAws already runs in this process (moto's state is per process)")
        LocalAws._running = self

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
        # moto logs every task-token timeout as an error; here a timeout is the escalation path.
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)

        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_SESSION_TOKEN": "testing",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "POWERTOOLS_TRACE_DISABLED": "1",
            }
        )
        # Clients in this process reach moto in-process (botocore's before-send hook, no HTTP):
        # most of a replay's time went to HTTP round trips to the server thread otherwise. The
        # state machine's tasks follow (moto routes them in-process while that hook is on).
        self._mock = moto_internals.in_process(MOTO_CONFIG)
        # The same state over HTTP, for other processes (e.g. the AWS CLI with --endpoint-url).
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        os.environ["MOTO_PORT"] = str(port)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        moto_internals.check_moto_version()
        self._unpatch = [
            moto_internals.patch_lambda_invoke(self._dispatch_invoke),
            moto_internals.patch_dynamodb(),
            moto_internals.patch_single_use_task_tokens(),
        ]
        self._configure()
        self._provision()
        self._export_environment()

    def reset(self) -> None:
        """Empty every service and provision the stack again (same names, same endpoint). Running
        escalations are stopped first: their threads would otherwise go on (a tier's timeout, the
        next notify) into whatever runs after the reset."""
        self._stop_executions()
        moto_internals.reset_backends()
        self.stack = LocalStack()
        self._configure()
        self._provision()
        self._export_environment()

    def _stop_executions(self, wait_seconds: float = 5.0) -> None:
        """Stop every running execution and wait, up to `wait_seconds`, until none runs: a task
        already under way (a notify) would otherwise write into the backends reset after it."""
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + wait_seconds
        with contextlib.suppress(ClientError):  # a half-provisioned stack: nothing to stop
            while time.monotonic() < deadline:
                running = [
                    execution["executionArn"]
                    for arn in self.stack.state_machines.values()
                    for page in sfn.get_paginator("list_executions").paginate(
                        stateMachineArn=arn, statusFilter="RUNNING"
                    )
                    for execution in page["executions"]
                ]
                if not running:
                    return
                for execution_arn in running:
                    # ClientError: it ended meanwhile; AttributeError: moto's worker has not
                    # parsed its definition yet (its stop has nothing to stop): the next round.
                    with contextlib.suppress(ClientError, AttributeError):
                        sfn.stop_execution(executionArn=execution_arn, cause="emulator reset")
                time.sleep(0.05)

    def _configure(self) -> None:
        moto_internals.configure(MOTO_CONFIG)

    def stop(self) -> None:
        LocalAws._running = None
        self.run_on(None)  # back to the system clock, and nothing built against this server stays
        while self._unpatch:
            self._unpatch.pop()()
        if self._server:
            self._server.stop()
            self._server = None
        if self._mock:
            self._mock.stop()
            self._mock = None
        os.environ.pop("MOTO_PORT", None)

    def client(self, service: str):
        return boto3.client(service, region_name=REGION)

    # -- provisioning from the template --------------------------------------------------------

    def _provision(self) -> None:
        resources: dict[str, Any] = self.template["Resources"]
        resolver = Resolver(ACCOUNT, REGION, resources)
        iam = self.client("iam")
        role_arn = iam.create_role(
            RoleName=LOCAL_ROLE,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ]
                }
            ),
        )["Role"]["Arn"]
        creators = {
            "AWS::DynamoDB::Table": self._create_table,
            "AWS::DynamoDB::GlobalTable": self._create_table,
            "AWS::SQS::Queue": self._create_queue,
            "AWS::SNS::Topic": self._create_topic,
            "AWS::SNS::Subscription": self._create_subscription,
            "AWS::KMS::Key": self._create_key,
            "AWS::SecretsManager::Secret": self._create_secret,
            "AWS::Scheduler::ScheduleGroup": self._create_schedule_group,
            "AWS::Lambda::Function": lambda lid, props, r: self._create_function(lid, props, r, role_arn),
            "Custom::AWS": self._run_sdk_call,
            "AWS::StepFunctions::StateMachine": lambda lid, props, r: self._create_state_machine(
                lid, props, r, role_arn
            ),
        }
        # What the runtime needs from a resource it does not create: a name and an ARN to refer to.
        pending = {}
        for logical_id, resource in resources.items():
            if resource["Type"] in creators:
                pending[logical_id] = resource
            else:
                name = _physical_name(logical_id, 64)
                resolver.created[logical_id] = Created(
                    ref=name, attributes={"Arn": f"arn:aws:local:{REGION}:{ACCOUNT}:{name}"}
                )
        while pending:
            ready = [
                lid for lid, res in pending.items() if not resolver.depends_on_uncreated(self._needed(res))
            ]
            if not ready:
                raise UnsupportedTemplate(f"cannot order the creation of {sorted(pending)}")
            for logical_id in ready:
                resource = pending.pop(logical_id)
                resolver.created[logical_id] = creators[resource["Type"]](
                    logical_id, resource.get("Properties", {}), resolver
                )
        # Wiring that refers to functions and queues, created last.
        for logical_id, resource in resources.items():
            kind, props = resource["Type"], resource.get("Properties", {})
            if kind == "AWS::Lambda::EventSourceMapping":
                self._map_event_source(props, resolver)
            elif kind == "AWS::Events::Rule" and props.get("ScheduleExpression"):
                self._add_schedule(logical_id, props, resolver)
            elif kind == "AWS::ApiGateway::Method":
                self._add_route(props, resources, resolver)

    @staticmethod
    def _needed(resource: dict) -> Any:
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::Lambda::Function":
            return {"Environment": props.get("Environment", {})}
        return props

    def _create_table(self, logical_id: str, props: dict, r: Resolver) -> Created:
        props = r.resolve(props)
        name = props.get("TableName") or _physical_name(logical_id, 255)
        kwargs: dict[str, Any] = {
            "TableName": name,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": "PAY_PER_REQUEST",
        }
        indexes = [
            {k: v for k, v in gsi.items() if k in ("IndexName", "KeySchema", "Projection")}
            for gsi in props.get("GlobalSecondaryIndexes", [])
        ]
        if indexes:
            kwargs["GlobalSecondaryIndexes"] = indexes
        description = self.client("dynamodb").create_table(**kwargs)["TableDescription"]
        self.stack.tables[logical_id] = name
        return Created(ref=name, attributes={"Arn": description["TableArn"]})

    def _create_queue(self, logical_id: str, props: dict, r: Resolver) -> Created:
        props = r.resolve(props)
        name = props.get("QueueName") or _physical_name(logical_id, 80)
        attributes = {
            key: str(props[key])
            for key in (
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "ReceiveMessageWaitTimeSeconds",
                "MaximumMessageSize",
            )
            if key in props
        }
        if "RedrivePolicy" in props:
            attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        sqs = self.client("sqs")
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        created = Created(ref=url, attributes={"Arn": arn, "QueueName": name, "QueueUrl": url})
        self.stack.queues[logical_id] = created
        return created

    def _create_topic(self, logical_id: str, props: dict, r: Resolver) -> Created:
        props = r.resolve(props)
        name = props.get("TopicName") or _physical_name(logical_id, 256)
        arn = self.client("sns").create_topic(Name=name)["TopicArn"]
        self.stack.topics[logical_id] = arn
        return Created(ref=arn, attributes={"TopicName": name, "TopicArn": arn})

    def _create_subscription(self, logical_id: str, props: dict, r: Resolver) -> Created:
        props = r.resolve(props)
        attributes = {}
        if "FilterPolicy" in props:
            attributes["FilterPolicy"] = json.dumps(props["FilterPolicy"])
        if "FilterPolicyScope" in props:
            attributes["FilterPolicyScope"] = props["FilterPolicyScope"]
        arn = self.client("sns").subscribe(
            TopicArn=props["TopicArn"],
            Protocol=props["Protocol"],
            Endpoint=props["Endpoint"],
            Attributes=attributes,
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
        return Created(ref=arn)

    def _run_sdk_call(self, logical_id: str, props: dict, r: Resolver) -> Created:
        """CDK's AwsCustomResource (e.g. the watch seed): make its `Create` SDK call with boto3."""
        call = json.loads(r.resolve(props["Create"]))
        service = call["service"].removeprefix("@aws-sdk/client-").lower()
        action = re.sub(r"(?<!^)(?=[A-Z])", "_", call["action"]).lower()
        try:
            getattr(self.client(service), action)(**call.get("parameters", {}))
        except ClientError as e:
            ignored = call.get("ignoreErrorCodesMatching")
            if not ignored or not re.fullmatch(ignored, e.response["Error"]["Code"]):
                raise
        return Created(ref=call.get("physicalResourceId", {}).get("id", logical_id))

    def _create_key(self, logical_id: str, props: dict, r: Resolver) -> Created:
        key = self.client("kms").create_key(Description=logical_id)["KeyMetadata"]
        return Created(ref=key["KeyId"], attributes={"Arn": key["Arn"], "KeyId": key["KeyId"]})

    def _create_secret(self, logical_id: str, props: dict, r: Resolver) -> Created:
        """Like CloudFormation: `Ref` is the ARN, and a generated name is `<prefix>-<id>` with one
        hyphen, which is what CDK's `secret.secret_name` (split on "-" of the ARN's name) expects."""
        props = r.resolve(props)
        client = self.client("secretsmanager")
        name = props.get("Name") or _physical_name(logical_id, 512)
        value = props.get("SecretString")
        if value is None:
            generate = props.get("GenerateSecretString", {})
            password = client.get_random_password(
                PasswordLength=int(generate.get("PasswordLength", 32)),
                ExcludePunctuation=bool(generate.get("ExcludePunctuation", False)),
                ExcludeCharacters=generate.get("ExcludeCharacters", ""),
            )["RandomPassword"]
            if "SecretStringTemplate" in generate:
                value = json.dumps(
                    json.loads(generate["SecretStringTemplate"]) | {generate["GenerateStringKey"]: password}
                )
            else:
                value = password
        arn = client.create_secret(Name=name, SecretString=value)["ARN"]
        return Created(ref=arn, attributes={"Id": arn})

    def _create_schedule_group(self, logical_id: str, props: dict, r: Resolver) -> Created:
        props = r.resolve(props)
        name = props.get("Name") or _physical_name(logical_id, 64)
        arn = self.client("scheduler").create_schedule_group(Name=name)["ScheduleGroupArn"]
        self.stack.schedule_groups[logical_id] = name
        return Created(ref=name, attributes={"Arn": arn})

    def _create_function(self, logical_id: str, props: dict, r: Resolver, role_arn: str) -> Created:
        environment = r.resolve(props.get("Environment", {})).get("Variables", {})
        name = props.get("FunctionName") or _physical_name(logical_id, 64)
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr(
                "README.txt", "Runs in the local runtime's process; see infra/local/emulator/runtime.py"
            )
        arn = self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=props["Handler"],
            Code={"ZipFile": code.getvalue()},
        )["FunctionArn"]
        self.stack.functions[logical_id] = LocalFunction(
            logical_id=logical_id,
            name=name,
            handler=props["Handler"],
            environment={k: str(v) for k, v in environment.items()},
            timeout=int(props.get("Timeout", 3)),
        )
        return Created(ref=name, attributes={"Arn": arn})

    def _create_state_machine(self, logical_id: str, props: dict, r: Resolver, role_arn: str) -> Created:
        definition = r.resolve(props["DefinitionString"])
        if not isinstance(definition, str):
            definition = json.dumps(definition)
        name = props.get("StateMachineName") or _physical_name(logical_id, 80)
        arn = self.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=role_arn, type=props.get("StateMachineType", "STANDARD")
        )["stateMachineArn"]
        self.stack.state_machines[logical_id] = arn
        return Created(ref=arn, attributes={"Arn": arn, "Name": name})

    def _function_by_ref(self, value: str) -> LocalFunction:
        for function in self.stack.functions.values():
            if value in (function.name, f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function.name}"):
                return function
        raise UnsupportedTemplate(f"no local function for {value!r}")

    def _map_event_source(self, props: dict, r: Resolver) -> None:
        props = r.resolve(props)
        queue = next(q for q in self.stack.queues.values() if q.attributes["Arn"] == props["EventSourceArn"])
        self.stack.mappings.append(
            EventSourceMapping(
                queue_url=queue.ref,
                queue_arn=props["EventSourceArn"],
                function=self._function_by_ref(props["FunctionName"]),
                batch_size=int(props.get("BatchSize", 10)),
                partial_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
            )
        )

    def _add_schedule(self, logical_id: str, props: dict, r: Resolver) -> None:
        props = r.resolve(props)
        for target in props.get("Targets", []):
            self.stack.schedules.append(
                Schedule(
                    logical_id=logical_id,
                    expression=props["ScheduleExpression"],
                    function=self._function_by_ref(target["Arn"]),
                    input=json.loads(target.get("Input", "{}")),
                )
            )

    def _add_route(self, props: dict, resources: dict, r: Resolver) -> None:
        if props.get("HttpMethod") == "OPTIONS":
            return
        uri = json.dumps(r.resolve(props.get("Integration", {}).get("Uri", "")))
        function = next((f for f in self.stack.functions.values() if f"function:{f.name}/" in uri), None)
        if function is None:
            return
        parts: list[str] = []
        resource_ref = props["ResourceId"]
        while isinstance(resource_ref, dict) and "Ref" in resource_ref:
            resource = resources[resource_ref["Ref"]]["Properties"]
            parts.insert(0, resource["PathPart"])
            resource_ref = resource["ParentId"]
        self.stack.routes.append(Route(props["HttpMethod"], "/" + "/".join(parts), function))

    def _export_environment(self) -> None:
        """Every function's environment into this process (they agree on every shared name)."""
        merged: dict[str, str] = {}
        for function in self.stack.functions.values():
            for key, value in function.environment.items():
                if key in LOCAL_LOG_LEVEL:
                    continue  # per function in the template, one level here (below)
                if key in merged and merged[key] != value:
                    raise UnsupportedTemplate(f"functions disagree on {key}: {merged[key]!r} vs {value!r}")
                merged[key] = value
        merged.update(self.overrides)
        # Handlers log at this level here; the deployed functions keep the template's level.
        merged |= dict.fromkeys(LOCAL_LOG_LEVEL, self.log_level)
        merged["POWERTOOLS_METRICS_DISABLED"] = "true"
        os.environ.update(merged)

    # -- the Lambda service --------------------------------------------------------------------

    def _dispatch_invoke(self, function_name: str, event: dict) -> Any:
        """A Lambda invocation through moto (e.g. a state machine's task): run the handler here."""
        return self.invoke(self._function_by_ref(function_name.split(":function:")[-1].split(":")[0]), event)

    def run_on(self, clock) -> None:
        """Every function of ours reads `clock` (a simulated one: replay), through its wiring."""
        for function in self.stack.functions.values():
            if function.handler.startswith("crisiswatch."):  # not CDK's own helper functions
                wiring = importlib.import_module(function.handler.rpartition(".")[0]).wiring
                if clock is None:
                    wiring.reset()
                else:
                    wiring.run_on(clock)

    def invoke(self, function: LocalFunction | str, event: dict) -> Any:
        if isinstance(function, str):
            function = self.function(function)
        return function.load()(event, FakeLambdaContext(function))

    def function(self, handler_module: str) -> LocalFunction:
        """The function whose handler lives in `handler_module`, e.g. 'crisiswatch.handlers.scorer'."""
        for function in self.stack.functions.values():
            if function.handler.rpartition(".")[0] == handler_module:
                return function
        raise KeyError(handler_module)

    # -- event sources -------------------------------------------------------------------------

    def tick(self, platform: str | None = None) -> list[Any]:
        """Fire the schedules (of one platform's rule, or all), as EventBridge would."""
        return [
            self.invoke(s.function, s.input)
            for s in self.stack.schedules
            if platform is None or s.input.get("platform") == platform
        ]

    def fire_timers(self, now: datetime) -> int:
        """Fire the one-time schedules of the template's schedule groups whose `at(...)` time is at
        or before `now`, oldest first, as EventBridge Scheduler would: invoke the target function
        with the schedule's Input, and delete the schedule (ActionAfterCompletion DELETE). Returns
        how many fired. Each is deleted before its target runs (on AWS the invocation is
        asynchronous: a failing handler does not bring the schedule back); a handler's exception
        propagates, and the schedules not fired yet wait for the next call."""
        scheduler = self.client("scheduler")
        due: list[tuple[datetime, float, str, dict]] = []
        for group in self.stack.schedule_groups.values():
            for page in scheduler.get_paginator("list_schedules").paginate(GroupName=group):
                for summary in page["Schedules"]:
                    if summary["GroupName"] != group:
                        continue
                    schedule = scheduler.get_schedule(GroupName=group, Name=summary["Name"])
                    expression = schedule["ScheduleExpression"]
                    if not expression.startswith("at(") or schedule.get("State") == "DISABLED":
                        continue  # rate and cron schedules are not timers
                    zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
                    at = parse_at(expression).replace(tzinfo=zone)
                    if at <= now:
                        created = schedule.get("CreationDate")
                        order = created.timestamp() if isinstance(created, datetime) else 0.0
                        due.append((at, order, schedule["Name"], schedule))
        due.sort(key=lambda d: d[:3])
        for _, _, name, schedule in due:
            scheduler.delete_schedule(GroupName=schedule["GroupName"], Name=name)
            target = schedule["Target"]
            self.invoke(self._function_by_ref(target["Arn"]), json.loads(target.get("Input") or "{}"))
        return len(due)

    def pump(self, mapping: EventSourceMapping, max_batches: int = 1000) -> dict[str, int]:
        """Deliver the queue's messages to its function until it is empty, as Lambda's poller
        would: a failed record becomes visible again at once here (after the visibility timeout
        on AWS), so retries and the move to the DLQ happen within the run."""
        sqs = self.client("sqs")
        delivered = failed = 0
        for _ in range(max_batches):
            messages: list[dict] = []
            while len(messages) < mapping.batch_size:
                got = sqs.receive_message(
                    QueueUrl=mapping.queue_url,
                    MaxNumberOfMessages=min(10, mapping.batch_size - len(messages)),
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                ).get("Messages", [])
                if not got:
                    break
                messages += got
            if not messages:
                break
            event = {"Records": [self._sqs_record(m, mapping.queue_arn) for m in messages]}
            try:
                response = self.invoke(mapping.function, event) or {}
                failures = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
            except Exception:
                failures = {m["MessageId"] for m in messages}
            for message in messages:
                if message["MessageId"] in failures:
                    failed += 1
                    sqs.change_message_visibility(
                        QueueUrl=mapping.queue_url,
                        ReceiptHandle=message["ReceiptHandle"],
                        VisibilityTimeout=0,
                    )
                else:
                    delivered += 1
                    sqs.delete_message(QueueUrl=mapping.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return {"delivered": delivered, "failed": failed}

    def mappings_for(self, handler_module: str) -> list[EventSourceMapping]:
        function = self.function(handler_module)
        return [m for m in self.stack.mappings if m.function is function]

    def mapping_for(self, handler_module: str) -> EventSourceMapping:
        """The one queue that feeds this function (the scorer's; fetchers have one per platform)."""
        (mapping,) = self.mappings_for(handler_module)
        return mapping

    def pump_all(self, handler_module: str) -> dict[str, int]:
        """Drain every queue that feeds the function."""
        totals = {"delivered": 0, "failed": 0}
        for mapping in self.mappings_for(handler_module):
            for key, value in self.pump(mapping).items():
                totals[key] += value
        return totals

    @staticmethod
    def _sqs_record(message: dict, queue_arn: str) -> dict:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": message.get("MessageAttributes", {}),
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": queue_arn,
            "awsRegion": REGION,
        }

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict | None = None,
        caller: str = f"arn:aws:iam::{ACCOUNT}:user/local-analyst",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        """Call the API as API Gateway would after IAM auth let `caller` in (routes of every RestApi
        in the template; IAM is not enforced locally, nor request models).

        `body`: a str (or bytes, UTF-8) is passed through as is, byte for byte (what a signed request
        needs); anything else is sent as JSON. `headers` are added to Content-Type: application/json.
        """
        routed = self.api_event(method, path, body, query, caller, headers)
        if routed is None:
            return 403, {"message": "Missing Authentication Token"}  # what API Gateway answers
        response = self.invoke(*routed)
        payload = response.get("body") or "null"
        return response["statusCode"], json.loads(payload)

    def api_event(
        self,
        method: str,
        path: str,
        body: Any = None,
        query: dict | None = None,
        caller: str = f"arn:aws:iam::{ACCOUNT}:user/local-analyst",
        headers: dict[str, str] | None = None,
    ) -> tuple[LocalFunction, dict] | None:
        """The function and the REST proxy event API Gateway would hand it (see `api`), or None when
        no route of the template matches. A `query` value may be a list (a repeated parameter)."""
        segments = path.strip("/").split("/")
        for route in self.stack.routes:
            pattern = route.resource.strip("/").split("/")
            if route.method != method or len(pattern) != len(segments):
                continue
            params = {}
            for want, got in zip(pattern, segments, strict=True):
                if want.startswith("{"):
                    params[want.strip("{}")] = got
                elif want != got:
                    break
            else:
                given = headers or {}
                all_headers = (
                    given
                    if any(k.lower() == "content-type" for k in given)
                    else {
                        "Content-Type": "application/json",
                        **given,
                    }
                )
                if isinstance(body, bytes):
                    body = body.decode("utf-8")
                multi_query = {k: v if isinstance(v, list) else [v] for k, v in (query or {}).items()}
                event = {
                    "resource": route.resource,
                    "path": path,
                    "httpMethod": method,
                    "headers": all_headers,
                    "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
                    "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
                    "multiValueQueryStringParameters": multi_query or None,
                    "pathParameters": params or None,
                    "requestContext": {
                        "resourcePath": route.resource,
                        "httpMethod": method,
                        "path": path,
                        "stage": "prod",
                        "requestId": str(uuid.uuid4()),
                        "accountId": ACCOUNT,
                        "identity": {"userArn": caller, "caller": caller.rsplit("/", 1)[-1]},
                    },
                    "body": None if body is None else (body if isinstance(body, str) else json.dumps(body)),
                    "isBase64Encoded": False,
                }
                return route.function, event
        return None

    # -- what was delivered --------------------------------------------------------------------

    def subscribers(self) -> list[Subscriber]:
        sns = self.client("sns")
        found = []
        for topic_arn in self.stack.topics.values():
            for sub in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]:
                attributes = sns.get_subscription_attributes(SubscriptionArn=sub["SubscriptionArn"])[
                    "Attributes"
                ]
                found.append(
                    Subscriber(
                        sub["SubscriptionArn"],
                        sub["Protocol"],
                        sub["Endpoint"],
                        json.loads(attributes.get("FilterPolicy") or "{}"),
                    )
                )
        return found

    def deliveries(self) -> Iterator[Delivery]:
        """Each message each subscriber received: moto's own filter matching and per-protocol
        message parsing, applied to what was published to our topics."""
        subscribers = {s.arn: s for s in self.subscribers()}
        for topic_arn in self.stack.topics.values():
            subscriptions = moto_internals.sns_subscriptions(ACCOUNT, REGION, topic_arn)
            for message_id, message, subject, attributes in moto_internals.sns_sent(
                ACCOUNT, REGION, topic_arn
            ):
                for arn, subscription in subscriptions.items():
                    if not moto_internals.sns_filter_matches(subscription, attributes, message):
                        continue
                    yield Delivery(
                        subscriber=subscribers[arn],
                        message_id=message_id,
                        subject=subject or "",
                        text=moto_internals.sns_text_for(subscription, message),
                        level=(attributes.get("level") or {}).get("Value", ""),
                        recipients=json.loads((attributes.get("recipient") or {}).get("Value", "[]")),
                    )

    def wait_for_execution(self, execution_arn: str, timeout: float = 30.0) -> dict:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while True:
            description = sfn.describe_execution(executionArn=execution_arn)
            if description["status"] != "RUNNING" or time.monotonic() > deadline:
                return description
            time.sleep(0.1)
