"""Operations alarms, each to a separate ops topic (not the alerts topic, whose subscribers are PR
people): anything in a dead-letter queue, work waiting too long in a queue, any function error or
throttle, DynamoDB throttles, API 5XX (incidents and push), any failed escalation, watches the
scorer's heartbeat found silent, and one watch failing alone (its fetch job not queued, its
assessment raising). docs/infra.md ("Ops alarms") says what to do when each fires.

The ops topic's subscribers come from the context (`opsEmails`, `opsSms`); with none, synth warns
(`crisiswatch:no-ops-subscriber`): the alarms would fire into a topic nobody reads.
"""

from __future__ import annotations

from aws_cdk import Annotations, Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from crisiswatch import constants
from crisiswatch.incidents.heartbeat import SILENT_WATCHES
from crisiswatch.incidents.intake import ASSESSMENT_FAILED
from crisiswatch.ingest.scheduling import JOBS_FAILED
from infra.constructs.queues import dead_letter_queue
from infra.constructs.storage import Storage
from infra.context import DeploymentSettings
from infra.nag import acknowledge

_PERIOD = Duration.minutes(5)
NO_OPS_SUBSCRIBER = "crisiswatch:no-ops-subscriber"


def fetch_jobs_max_age_seconds(schedule_minutes: int) -> int:
    """FETCH_JOBS_MAX_AGE_PERIODS schedule periods, but at least one retry cycle (a failed job waits
    out the visibility timeout, counted as the oldest meanwhile) plus a period: one retried job on a
    fast schedule does not page."""
    period = schedule_minutes * 60
    visibility = constants.VISIBILITY_TIMEOUT_FACTOR * constants.FUNCTIONS["fetcher"].timeout_seconds
    return max(constants.FETCH_JOBS_MAX_AGE_PERIODS * period, visibility + period)


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
        push_api: apigw.RestApi,
        fetch_queues: dict[str, sqs.IQueue],
        posts_queue: sqs.IQueue,
        storage: Storage,
        settings: DeploymentSettings,
    ) -> None:
        """`fetch_queues` by platform: their age alarms follow `settings.schedules`. The subscribers
        and the heartbeat's span come from `settings` too."""
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
        # Construct ids by position, never from the address or number (no personal data in ids).
        # Deliveries that SNS gave up on wait in a DLQ (alarmed below, like every DLQ).
        subscribers = [
            (f"OpsEmail{i}", sns.SubscriptionProtocol.EMAIL, e) for i, e in enumerate(settings.ops_emails)
        ]
        subscribers += [
            (f"OpsSms{i}", sns.SubscriptionProtocol.SMS, n) for i, n in enumerate(settings.ops_sms)
        ]
        dead_letter_queues = dict(dead_letter_queues)
        if subscribers:
            delivery_dlq = dead_letter_queue(self, "OpsDeliveryDLQ")
            acknowledge(
                delivery_dlq,
                "AwsSolutions-SQS3",
                "This queue is itself the dead-letter queue of the ops topic's subscriptions (SNS redrive policy).",
            )
            dead_letter_queues["OpsDelivery"] = delivery_dlq
            for subscription_id, protocol, endpoint in subscribers:
                sns.Subscription(
                    self,
                    subscription_id,
                    topic=self.ops_topic,
                    protocol=protocol,
                    endpoint=endpoint,
                    dead_letter_queue=delivery_dlq,
                )
        if not subscribers:
            Annotations.of(self.ops_topic).add_warning_v2(
                NO_OPS_SUBSCRIBER,
                "The ops topic has no subscriber: alarms (dead letters, errors, throttles, silent watches) "
                "reach nobody. Set the `opsEmails` (and/or `opsSms`) context before deploying.",
            )
        action = cw_actions.SnsAction(self.ops_topic)
        self.alarms: list[cw.Alarm] = []

        def alarm(construct_id: str, metric: cw.IMetric, description: str, threshold: float = 1) -> None:
            a = cw.Alarm(
                self,
                construct_id,
                metric=metric,
                threshold=threshold,
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

        # -- work waiting too long, throttles, the push API, the heartbeat -------------------------
        schedules = settings.schedules
        for platform, queue in sorted(fetch_queues.items()):
            max_age = fetch_jobs_max_age_seconds(schedules[platform])
            alarm(
                f"FetchJobs-{platform}MessageAgeAlarm",
                queue.metric_approximate_age_of_oldest_message(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                f"A {platform} fetch job has waited {max_age // 60} min or more: the fetchers fall behind "
                f"the {schedules[platform]}-minute schedule (rate limits, a slow platform, throttling).",
                threshold=max_age,
            )
        max_age = constants.POSTS_MAX_MESSAGE_AGE_SECONDS
        alarm(
            "PostsMessageAgeAlarm",
            posts_queue.metric_approximate_age_of_oldest_message(
                period=Duration.minutes(1), statistic="Maximum"
            ),
            f"Posts have waited {max_age // 60} min or more to be scored: incidents are detected late.",
            threshold=max_age,
        )
        for name, fn in sorted(functions.items()):
            alarm(
                f"{name}ThrottlesAlarm",
                fn.metric_throttles(period=_PERIOD, statistic="Sum"),
                f"The {name} function was throttled: the account's Lambda concurrency is used up.",
                threshold=constants.LAMBDA_THROTTLES_PER_5_MINUTES,
            )
        for name, table, indexes in (
            ("Posts", storage.posts, ()),
            ("Incidents", storage.incidents, (constants.INCIDENTS_BY_STATUS_INDEX,)),
            ("State", storage.state, ()),
        ):
            alarm(
                f"{name}TableThrottlesAlarm",
                _table_throttles(table, indexes),
                f"Requests to the {name} table (or its indexes) were throttled: a hot partition or a "
                "sudden rise in traffic.",
                threshold=constants.DYNAMODB_THROTTLES_PER_5_MINUTES,
            )
        alarm(
            "Push5xxAlarm",
            push_api.metric_server_error(period=_PERIOD, statistic="Sum"),
            "The push API returned 5XX responses: providers' batches were not queued.",
            threshold=constants.PUSH_API_5XX_PER_5_MINUTES,
        )
        alarm(
            "SilentWatchesAlarm",
            cw.Metric(
                namespace=constants.METRICS_NAMESPACE,
                metric_name=SILENT_WATCHES,
                dimensions_map={"service": constants.SERVICE},  # Powertools' default dimension
                period=Duration.minutes(constants.SWEEP_MINUTES),  # one sweep's count per period
                statistic="Maximum",
            ),
            f"A watch that usually sees posts has seen none for {settings.heartbeat_silent_minutes} min: "
            "the scorer's log line 'silent watches' names it.",
            threshold=constants.SILENT_WATCHES_THRESHOLD,
        )
        # One watch failing alone (issue 11): the others carry on, so only these counts tell.
        for construct_id, metric_name, description in (
            (
                "FetchJobsFailedAlarm",
                JOBS_FAILED,
                "A watch's fetch job could not be queued (too large for SQS, or refused): that watch is "
                "not searched; the scheduler's log line 'fetch job not queued' names it and the reason.",
            ),
            (
                "WatchAssessmentsFailedAlarm",
                ASSESSMENT_FAILED,
                "A watch's re-assessment raised: its posts are stored, its incidents are not updated and "
                "its messages head for the posts DLQ; the scorer's log line 'watch assessment failed' "
                "names it, with the traceback.",
            ),
        ):
            alarm(
                construct_id,
                cw.Metric(
                    namespace=constants.METRICS_NAMESPACE,
                    metric_name=metric_name,
                    dimensions_map={"service": constants.SERVICE},
                    period=_PERIOD,
                    statistic="Sum",
                ),
                description,
            )


def _table_throttles(table: dynamodb.ITable, indexes: tuple[str, ...]) -> cw.IMetric:
    """Throttled read and write events of the table and of its global secondary indexes, summed."""
    metrics: dict[str, cw.IMetric] = {}
    for i, index in enumerate(("", *indexes)):
        dimensions = {"TableName": table.table_name} | ({"GlobalSecondaryIndexName": index} if index else {})
        for kind in ("Read", "Write"):
            metrics[f"{kind.lower()}{i}"] = cw.Metric(
                namespace="AWS/DynamoDB",
                metric_name=f"{kind}ThrottleEvents",
                dimensions_map=dimensions,
                period=_PERIOD,
                statistic="Sum",
            )
    return cw.MathExpression(
        expression=" + ".join(sorted(metrics)),
        using_metrics=metrics,
        period=_PERIOD,
        label=f"{table.node.id} throttled events",
    )
