"""Escalation: the alerts topic and its subscribers, the notifier, and the state machine that waits for
an acknowledgement and escalates one tier at a time.

State machine input (the scorer starts it; execution name = incident + level, so it is idempotent):
    {"incident_id": str, "watch_id": str, "level": "blue|yellow|orange|red",
     "current": {"tier": "<level>", "timeout_seconds": int, "failed_from": ""},
     "timeouts": {"yellow": int, "orange": int, "red": int}}

    NeedsAck? --blue--> NotifyBlue -> Informed
        \\--else--> NotifyAndWait (.waitForTaskToken, TimeoutSecondsPath $.current.timeout_seconds)
                      |-- task success (the api Lambda sends it on ack) --> Acknowledged
                      |-- States.Timeout --> EscalateFrom?
                      |       yellow -> ToOrange -> NotifyAndWait
                      |       orange -> ToRed    -> NotifyAndWait
                      |       red    -> NotifyUnacknowledged -> Unacknowledged (Fail)
                      \\-- any other error, after the retries --> TierFailed?
                              blue/yellow/orange -> FailedTo<next> -> NotifyAndWait (the next tier)
                              red                -> NotificationFailed (Fail)

Every notify task retries any failure but NoRecipients (States.TaskFailed) twice with backoff; the
notifier claims each (incident, level, tier, kind, channel) before it sends, so a retry re-sends
only what certainly failed. The notifier receives {"incident_id", "level", "tier", "failed_tier", "kind":
"alert"|"unacknowledged"} plus "task_token" when an acknowledgement is awaited. JSONPath only: moto
(the local runtime) cannot run JSONata.
"""

from __future__ import annotations

import json

from aws_cdk import Annotations, Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from crisiswatch.aws.alerts import RECIPIENT_ATTRIBUTE
from crisiswatch.constants import Env
from infra.constructs.function import Runtime, log_retention, make_function
from infra.constructs.queues import dead_letter_queue
from infra.constructs.storage import Storage, grant_partitions, grant_table, grant_watch_access
from infra.context import DeploymentSettings
from infra.nag import acknowledge, arn_of

# A notify task whose channel failed is tried this many more times, 2 s then 4 s apart.
NOTIFY_RETRY_ATTEMPTS = 2
NOTIFY_RETRY_SECONDS = 2
_PROTOCOLS = {"sms": sns.SubscriptionProtocol.SMS, "email": sns.SubscriptionProtocol.EMAIL}

# The notifier's partitions of the state table beyond the watches, with what it does there.
NOTIFIER_STATE_PARTITIONS: list[tuple[list[str], list[str]]] = [
    # HELD#<watch>#<until>: alerts held for quiet hours (aws/held.py: put, read back, remove).
    (["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"], ["HELD#*"]),
    # TIMELINE#<incident> and TIMELINEKEY#<incident>: appending events (aws/timeline.py).
    (["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"], ["TIMELINE*"]),
    # CHATBOT#<bot>: each chat bot's rate window (aws/chat_gate.py).
    (["dynamodb:GetItem", "dynamodb:UpdateItem"], ["CHATBOT#*"]),
]


class Escalation(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Runtime,
        storage: Storage,
        settings: DeploymentSettings,
    ) -> None:
        super().__init__(scope, construct_id)

        self.alerts_key = kms.Key(
            self,
            "AlertsKey",
            description="crisiswatch alerts topic: incident names and post excerpts at rest",
            enable_key_rotation=True,
        )
        self.alerts_topic = sns.Topic(
            self, "AlertsTopic", display_name="crisiswatch", master_key=self.alerts_key, enforce_ssl=True
        )
        # SMS or e-mail that SNS gave up on lands here instead of vanishing.
        self.delivery_dlq = dead_letter_queue(self, "AlertsDeliveryDLQ")
        acknowledge(
            self.delivery_dlq,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the alert subscriptions (SNS redrive policy).",
        )
        for subscriber in settings.subscribers:
            # Construct id from the subscriber's name, never from the phone number or address, so
            # personal data stays out of logical ids and construct paths.
            subscription = sns.Subscription(
                self,
                f"Subscriber-{subscriber.name}",
                topic=self.alerts_topic,
                protocol=_PROTOCOLS[subscriber.protocol],
                endpoint=subscriber.endpoint,
                # Each publish names its recipients (the watch's on-call policy for the tier told),
                # so one brand's people never receive another brand's alerts.
                filter_policy={
                    RECIPIENT_ATTRIBUTE: sns.SubscriptionFilter.string_filter(allowlist=[subscriber.name])
                },
                dead_letter_queue=self.delivery_dlq,
            )
            if subscriber.is_placeholder:
                Annotations.of(subscription).add_warning_v2(
                    "crisiswatch:placeholder-subscriber",
                    f"Subscriber {subscriber.name!r} has an example endpoint: set the `subscribers` context "
                    "to real on-duty numbers and addresses before deploying.",
                )

        self.notifier = make_function(
            self,
            "notifier",
            shared,
            {
                Env.INCIDENTS_TABLE: storage.incidents.table_name,
                Env.STATE_TABLE: storage.state.table_name,
                Env.ALERTS_TOPIC_ARN: self.alerts_topic.topic_arn,
                Env.CONSOLE_URL: settings.console_url,
                Env.ACK_TIMEOUT_SECONDS: settings.ack_timeout_seconds.model_dump_json(),
                Env.SUBSCRIBERS: json.dumps(settings.audiences()),
                Env.CHAT_BOTS: json.dumps(
                    [b.model_dump(mode="json") for b in settings.chat_bots], ensure_ascii=False
                ),
                Env.CLOCK_SECONDS: settings.clock_seconds.model_dump_json(),
            },
            description="Delivers alerts, reminders and digests (SNS by recipient, chat bots) for escalations and timers",
        )
        # Exactly what its adapters call (crisiswatch.aws.services.notifier wires them). Incidents:
        # read, and update (claims, notifications, waits, clocks); it never opens, lists or deletes.
        grant_table(
            self.notifier,
            storage.incidents,
            ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"],
        )
        # The state table: the watches (read), and its own partitions only.
        grant_watch_access(self.notifier, storage.state, ["dynamodb:Query", "dynamodb:GetItem"])
        for actions, patterns in NOTIFIER_STATE_PARTITIONS:
            grant_partitions(self.notifier, storage.state, actions, patterns)
        self.chat_secrets = {}
        for bot in settings.chat_bots:
            secret = secretsmanager.Secret(
                self,
                f"ChatBot-{bot.name}",
                secret_name=bot.secret,
                description=f"crisiswatch chat bot {bot.name} ({bot.kind}): webhook key / token and signing "
                "secret as JSON; put the real values after the first deploy",
            )
            secret.grant_read(self.notifier)
            acknowledge(
                secret,
                "AwsSolutions-SMG4",
                "The value is issued by the chat platform (a robot's webhook key and signing secret): it is "
                "rotated by regenerating it in WeCom/DingTalk/Feishu and putting the new value; Secrets "
                "Manager cannot rotate it by itself.",
            )
            self.chat_secrets[bot.name] = secret
        self.alerts_topic.grant_publish(self.notifier)
        acknowledge(
            self.notifier.role,
            "AwsSolutions-IAM5",
            "Publishing to an SSE-KMS topic needs kms:GenerateDataKey* (the GenerateDataKey variants); the "
            "statement is scoped to the alerts key alone.",
            finding="Action::kms:GenerateDataKey*",
        )
        acknowledge(
            self.notifier,
            "Serverless-LambdaDLQ",
            "The state machine invokes it synchronously (retries, then the next tier, then NotificationFailed, "
            "alarmed); the timers invoke it asynchronously, and their failures go to the timers' DLQ through "
            "its EventInvokeConfig on-failure destination (infra/constructs/timers.py), alarmed by depth.",
        )

        self.state_machine = self._state_machine()

    def _notify(
        self, construct_id: str, kind: str, result_path: str, *, wait: bool = False
    ) -> tasks.LambdaInvoke:
        payload = {
            "incident_id": sfn.JsonPath.string_at("$.incident_id"),
            "level": sfn.JsonPath.string_at("$.level"),
            "tier": sfn.JsonPath.string_at("$.current.tier"),
            "failed_tier": sfn.JsonPath.string_at("$.current.failed_from"),
            "kind": kind,
        }
        extra: dict = {}
        if wait:
            payload["task_token"] = sfn.JsonPath.task_token
            extra = {
                "integration_pattern": sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
                "task_timeout": sfn.Timeout.at("$.current.timeout_seconds"),
            }
        else:
            extra = {"payload_response_only": True}
        # Default retry on Lambda service errors (retry_on_service_exceptions) stays on.
        task = tasks.LambdaInvoke(
            self,
            construct_id,
            lambda_function=self.notifier,
            payload=sfn.TaskInput.from_object(payload),
            result_path=result_path,
            **extra,
        )
        # A tier with nobody on it is not retried (the catch tells the next tier). Any other failure
        # (a channel that did not take the alert, a crash) is tried again with backoff: channels
        # that took it, or may have, are not sent twice (the notifier claims a key per incident,
        # level, tier, kind and channel before it sends).
        task.add_retry(errors=["NoRecipients"], max_attempts=0)
        task.add_retry(
            errors=[sfn.Errors.TASKS_FAILED],
            interval=Duration.seconds(NOTIFY_RETRY_SECONDS),
            max_attempts=NOTIFY_RETRY_ATTEMPTS,
            backoff_rate=2,
        )
        return task

    def _state_machine(self) -> sfn.StateMachine:
        failed = sfn.Fail(
            self,
            "NotificationFailed",
            error="NotificationFailed",
            cause="No tier up to red could be notified",
        )
        notify_and_wait = self._notify("NotifyAndWait", "alert", "$.ack", wait=True)

        def step_up(construct_id: str, tier: str, failed_from: str = "") -> sfn.Pass:
            return sfn.Pass(
                self,
                construct_id,
                parameters={
                    "tier": tier,
                    "timeout_seconds": sfn.JsonPath.number_at(f"$.timeouts.{tier}"),
                    "failed_from": failed_from,
                },
                result_path="$.current",
            )

        # A tier that cannot be reached after the retries: the next tier is told, and waited for.
        tier_failed = sfn.Choice(self, "TierFailed?")
        for lower, upper in (("blue", "yellow"), ("yellow", "orange"), ("orange", "red")):
            tier_failed.when(
                sfn.Condition.string_equals("$.current.tier", lower),
                step_up(f"FailedTo{upper.title()}", upper, failed_from=lower).next(notify_and_wait),
            )
        tier_failed.otherwise(failed)

        notify_blue = self._notify("NotifyBlue", "alert", "$.notified")
        notify_blue.add_catch(tier_failed, errors=[sfn.Errors.ALL], result_path="$.error")
        notify_blue.next(sfn.Succeed(self, "Informed"))

        notify_unacknowledged = self._notify("NotifyUnacknowledged", "unacknowledged", "$.notified")
        notify_unacknowledged.add_catch(failed, errors=[sfn.Errors.ALL], result_path="$.error")
        notify_unacknowledged.next(
            sfn.Fail(self, "Unacknowledged", error="Unacknowledged", cause="No acknowledgement at red")
        )

        to_orange = step_up("ToOrange", "orange").next(notify_and_wait)
        to_red = step_up("ToRed", "red").next(notify_and_wait)
        escalate = (
            sfn.Choice(self, "EscalateFrom?")
            .when(sfn.Condition.string_equals("$.current.tier", "yellow"), to_orange)
            .when(sfn.Condition.string_equals("$.current.tier", "orange"), to_red)
            .otherwise(notify_unacknowledged)
        )
        notify_and_wait.add_catch(escalate, errors=[sfn.Errors.TIMEOUT], result_path="$.timeout")
        notify_and_wait.add_catch(tier_failed, errors=[sfn.Errors.ALL], result_path="$.error")
        notify_and_wait.next(sfn.Succeed(self, "Acknowledged"))

        start = (
            sfn.Choice(self, "NeedsAck?")
            .when(sfn.Condition.string_equals("$.current.tier", "blue"), notify_blue)
            .otherwise(notify_and_wait)
        )

        log_group = logs.LogGroup(
            self, "EscalationLogs", retention=log_retention(), removal_policy=RemovalPolicy.RETAIN
        )
        machine = sfn.StateMachine(
            self,
            "EscalationStateMachine",
            definition_body=sfn.DefinitionBody.from_chainable(start),
            state_machine_type=sfn.StateMachineType.STANDARD,
            tracing_enabled=True,
            # ALL events, but without execution data: inputs carry task tokens.
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
            comment="crisiswatch escalation: notify, wait for an acknowledgement, escalate on timeout",
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5",
            "CDK's LambdaInvoke grant covers the notifier's ARN and its versions and aliases (<arn>:*): "
            "still one function only.",
            finding=f"Resource::{arn_of(self.notifier)}:*",
        )
        acknowledge(
            machine,
            "AwsSolutions-IAM5",
            "Logging to CloudWatch (logs:*LogDelivery, DescribeResourcePolicies...) and X-Ray tracing "
            "(xray:PutTraceSegments...) actions support no resource-level permissions: resource must be *.",
            finding="Resource::*",
        )
        return machine


def grant_stop_escalations(function: lambda_.IFunction, state_machine: sfn.StateMachine) -> None:
    """StopExecution on the escalation state machine's executions, and nothing else."""
    state_machine.grant_execution(function, "states:StopExecution")
    stack = Stack.of(function)
    name_of_machine = json.dumps(
        {
            "Fn::Select": [
                6,
                {
                    "Fn::Split": [
                        ":",
                        {"Ref": stack.resolve(stack.get_logical_id(state_machine.node.default_child))},
                    ]
                },
            ]
        },
        separators=(",", ":"),
    )
    acknowledge(
        function.role,
        "AwsSolutions-IAM5",
        "StopExecution is granted on executions of the escalation state machine only; execution names "
        "are per incident and level, so they cannot be listed in advance.",
        finding=f"Resource::arn:<AWS::Partition>:states:{stack.region}:{stack.account}:execution:"
        f"{name_of_machine}:*",
    )
