"""Timers: named one-time wake-ups on EventBridge Scheduler (crisiswatch.aws.timers; see
docs/response.md). A schedule group holds one `at(...)` schedule per timer; Scheduler invokes the
target Lambda with a role that may invoke that function only, retries, then sends the event to a
dead-letter queue. The functions that set and cancel timers get `grant_manage`.

Scheduler invokes a Lambda target asynchronously, so a failing handler is never seen by Scheduler's
retry policy: the target's own asynchronous invocations are retried by Lambda and then sent to the
same dead-letter queue (one queue, one alarm, for every timer event that was not handled).
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from crisiswatch import constants
from crisiswatch.constants import Env
from infra.constructs.queues import dead_letter_queue
from infra.nag import acknowledge

SCHEDULER_SERVICE = "scheduler.amazonaws.com"
MANAGE_ACTIONS = [
    "scheduler:CreateSchedule",
    "scheduler:UpdateSchedule",
    "scheduler:DeleteSchedule",
    "scheduler:GetSchedule",
]
# Lambda's own retries of a failed asynchronous invocation (0-2) before it goes to the DLQ.
ASYNC_RETRY_ATTEMPTS = 2


class Timers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, target: lambda_.Function) -> None:
        super().__init__(scope, construct_id)
        self.target = target
        # Pending timers are state (deadline clocks of open incidents): kept if the stack goes.
        self.group = scheduler.ScheduleGroup(self, "Group", removal_policy=RemovalPolicy.RETAIN)

        self.dead_letter_queue = dead_letter_queue(self, "TimersDLQ")
        acknowledge(
            self.dead_letter_queue,
            "AwsSolutions-SQS3",
            "This queue is itself the dead-letter queue of the timer schedules (Scheduler's DeadLetterConfig) "
            "and of the target's asynchronous invocations (Lambda's on-failure destination).",
        )

        stack = Stack.of(self)
        # Only Scheduler, and only on behalf of this account (confused-deputy protection).
        self.role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                SCHEDULER_SERVICE, conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
            description="crisiswatch timers: EventBridge Scheduler invokes the timer target",
        )
        # The function itself, not `<arn>:*` (grant_invoke's versions and aliases): one ARN only.
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["lambda:InvokeFunction"], resources=[target.function_arn])
        )
        # Scheduler sends the events it could not deliver to the DLQ with this role (SQS-managed
        # encryption: no key permissions needed).
        self.role.add_to_policy(
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self.dead_letter_queue.queue_arn])
        )

        lambda_.EventInvokeConfig(
            self,
            "TargetAsyncFailures",
            function=target,
            retry_attempts=ASYNC_RETRY_ATTEMPTS,
            max_event_age=Duration.seconds(constants.TIMER_MAX_EVENT_AGE_SECONDS),
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
        )

        self.schedules_arn = stack.format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{self.group.schedule_group_name}/*",
        )

    @property
    def environment(self) -> dict[str, str]:
        """What SchedulerTimers needs, except the target's ARN (see `grant_manage`)."""
        return {
            Env.TIMER_GROUP: self.group.schedule_group_name,
            Env.TIMER_ROLE_ARN: self.role.role_arn,
            Env.TIMER_DLQ_ARN: self.dead_letter_queue.queue_arn,
        }

    def grant_manage(self, grantee: lambda_.Function) -> None:
        """Let `grantee` set and cancel timers: create, update, delete and read schedules of this
        group only, and pass the scheduler role (to Scheduler only); and give it the environment.

        TIMER_TARGET_ARN is set on every grantee but the target itself: a function whose
        environment holds its own ARN is a circular reference CloudFormation refuses. The target
        is the function the timer fires, so it knows its ARN from its invocation context
        (`context.invoked_function_arn`)."""
        grantee.add_to_role_policy(
            iam.PolicyStatement(actions=MANAGE_ACTIONS, resources=[self.schedules_arn])
        )
        grantee.add_to_role_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": SCHEDULER_SERVICE}},
            )
        )
        for name, value in self.environment.items():
            grantee.add_environment(name, value)
        if grantee is not self.target:
            grantee.add_environment(Env.TIMER_TARGET_ARN, self.target.function_arn)
        acknowledge(
            grantee.role,
            "AwsSolutions-IAM5",
            "Timers are one schedule each, created and deleted at run time under names derived from the "
            "timer: the grant covers the schedules of the timers' group alone (schedule/<group>/*).",
            finding=f"Resource::{self._nag_schedules_arn()}",
        )

    def _nag_schedules_arn(self) -> str:
        """`schedules_arn` as cdk-nag spells it: tokens as `<AWS::Region>` or `<LogicalId>`."""
        stack = Stack.of(self)

        def spelled(value: str, token: str) -> str:
            return f"<{token}>" if Token.is_unresolved(value) else value

        group = spelled(
            self.group.schedule_group_name, stack.resolve(stack.get_logical_id(self.group.node.default_child))
        )
        region, account = spelled(stack.region, "AWS::Region"), spelled(stack.account, "AWS::AccountId")
        return f"arn:<AWS::Partition>:scheduler:{region}:{account}:schedule/{group}/*"
