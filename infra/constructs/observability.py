"""Operations alarms: anything in a dead-letter queue, any function error, any failed escalation,
API 5XX. They go to a separate ops topic (not the alerts topic, whose subscribers are PR people)."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

_PERIOD = Duration.minutes(5)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        functions: dict[str, lambda_.IFunction],
        dead_letter_queues: dict[str, sqs.IQueue],
        state_machine: sfn.IStateMachine,
        rest_api: apigw.RestApi,
        ops_emails: list[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.ops_key = kms.Key(
            self, "OpsKey", description="crisiswatch ops alarms topic", enable_key_rotation=True
        )
        # CloudWatch alarms publish to an encrypted topic only if the key lets them.
        self.ops_key.grant(
            iam.ServicePrincipal("cloudwatch.amazonaws.com"), "kms:Decrypt", "kms:GenerateDataKey*"
        )
        self.ops_topic = sns.Topic(
            self, "OpsTopic", display_name="crisiswatch ops", master_key=self.ops_key, enforce_ssl=True
        )
        for i, email in enumerate(ops_emails):
            sns.Subscription(
                self,
                f"OpsEmail{i}",
                topic=self.ops_topic,
                protocol=sns.SubscriptionProtocol.EMAIL,
                endpoint=email,
            )
        action = cw_actions.SnsAction(self.ops_topic)
        self.alarms: list[cw.Alarm] = []

        def alarm(construct_id: str, metric: cw.IMetric, description: str) -> None:
            a = cw.Alarm(
                self,
                construct_id,
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
                alarm_description=description,
            )
            a.add_alarm_action(action)
            self.alarms.append(a)

        for name, queue in sorted(dead_letter_queues.items()):
            alarm(
                f"{name}DepthAlarm",
                queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                f"Messages are waiting in the {name} dead-letter queue: inspect, fix, redrive.",
            )
        for name, fn in sorted(functions.items()):
            alarm(
                f"{name}ErrorsAlarm",
                fn.metric_errors(period=_PERIOD, statistic="Sum"),
                f"The {name} function raised errors (unhandled exceptions or timeouts).",
            )
        alarm(
            "EscalationFailedAlarm",
            state_machine.metric_failed(period=_PERIOD, statistic="Sum"),
            "An escalation ended in NotificationFailed (alerts not delivered) or Unacknowledged (nobody "
            "acknowledged a red incident).",
        )
        alarm(
            "Api5xxAlarm",
            rest_api.metric_server_error(period=_PERIOD, statistic="Sum"),
            "The incidents API returned 5XX responses.",
        )
