"""Ingestion: a schedule per platform, the scheduler that fans out one fetch job per watch x platform,
the fetch-jobs queue (with its DLQ), and the fetcher that pages through a platform and enqueues posts.
"""

from __future__ import annotations

import json

from aws_cdk import Duration, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from crisiswatch import constants
from crisiswatch.aws.cursors import CURSOR_PREFIX
from crisiswatch.constants import Env
from infra.constructs.function import Runtime, make_function
from infra.constructs.queues import dead_letter_queue, work_queue
from infra.constructs.scoring import acknowledge_sqs_consumer
from infra.constructs.storage import grant_watch_access
from infra.context import DeploymentSettings
from infra.nag import acknowledge


class Ingestion(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Runtime,
        posts_queue: sqs.IQueue,
        state_table: dynamodb.ITable,
        settings: DeploymentSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        fetcher_spec = constants.FUNCTIONS["fetcher"]
        # One fetch-jobs queue per platform, each drained by at most `fetch_concurrency[platform]`
        # fetchers: a platform's rate limit holds however many watches there are, and one slow
        # platform does not hold up the others.
        self.fetch_queues: dict[str, sqs.Queue] = {}
        self.fetch_dlqs: dict[str, sqs.Queue] = {}
        for platform in sorted(settings.schedules):
            queue_id = f"FetchJobs{platform.title().replace('-', '')}Queue"
            queue, dlq = work_queue(self, queue_id, consumer_timeout_seconds=fetcher_spec.timeout_seconds)
            self.fetch_queues[platform], self.fetch_dlqs[platform] = queue, dlq
        # Schedule ticks that EventBridge could not deliver, and scheduler runs that failed after
        # Lambda's own async retries.
        self.schedule_dlq = dead_letter_queue(self, "ScheduleDLQ")
        acknowledge(
            self.schedule_dlq,
            "AwsSolutions-SQS3",
            "This queue is itself a dead-letter queue: for the schedule rules' targets and for the "
            "scheduler's asynchronous invocations.",
        )

        self.scheduler = make_function(
            self,
            "scheduler",
            shared,
            {
                Env.STATE_TABLE: state_table.table_name,
                Env.FETCH_QUEUE_URLS: Stack.of(self).to_json_string(
                    {platform: queue.queue_url for platform, queue in self.fetch_queues.items()}
                ),
            },
            description="Fans a schedule tick out into one fetch job per watch on the platform",
            dead_letter_queue=self.schedule_dlq,
        )
        for queue in self.fetch_queues.values():
            queue.grant_send_messages(self.scheduler)
        grant_watch_access(self.scheduler, state_table, ["dynamodb:Query"])

        self.rules: dict[str, events.Rule] = {}
        for platform, minutes in sorted(settings.schedules.items()):
            rule = events.Rule(
                self,
                f"Schedule-{platform}",
                description=f"crisiswatch: fetch {platform} every {minutes} min",
                schedule=events.Schedule.rate(Duration.minutes(minutes)),
            )
            rule.add_target(
                targets.LambdaFunction(
                    self.scheduler,
                    event=events.RuleTargetInput.from_object({"platform": platform}),
                    dead_letter_queue=self.schedule_dlq,
                    retry_attempts=2,
                    # A tick older than its own interval is superseded by the next one.
                    max_event_age=Duration.seconds(max(60, minutes * 60)),
                )
            )
            self.rules[platform] = rule

        self.fetcher = make_function(
            self,
            "fetcher",
            shared,
            {
                Env.POSTS_QUEUE_URL: posts_queue.queue_url,
                Env.PLATFORM_BASE_URLS: json.dumps(settings.base_urls, separators=(",", ":")),
                Env.STATE_TABLE: state_table.table_name,
                Env.HTTP_TIMEOUT_SECONDS: str(constants.DEFAULT_HTTP_TIMEOUT_SECONDS),
                Env.PLATFORM_SECRETS: json.dumps(settings.credentials, separators=(",", ":")),
                Env.FETCH_QUEUE_URLS: Stack.of(self).to_json_string(
                    {platform: queue.queue_url for platform, queue in self.fetch_queues.items()}
                ),
            },
            description="Fetches one watch on one platform (paging, cursor, backoff) and enqueues posts",
        )
        for platform, queue in self.fetch_queues.items():
            self.fetcher.add_event_source(
                sources.SqsEventSource(
                    queue,
                    batch_size=constants.FETCH_JOBS_BATCH_SIZE,
                    report_batch_item_failures=True,
                    max_concurrency=settings.fetch_concurrency[platform],
                )
            )
        posts_queue.grant_send_messages(self.fetcher)
        for queue in self.fetch_queues.values():  # a job out of time queues its continuation
            queue.grant_send_messages(self.fetcher)
        # Cursors only: the fetcher may read and write the state table's CURSOR# items, nothing else.
        self.fetcher.add_to_role_policy(
            iam.PolicyStatement(
                actions=["dynamodb:GetItem", "dynamodb:UpdateItem"],
                resources=[state_table.table_arn],
                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{CURSOR_PREFIX}*"]}},
            )
        )
        # Each platform's request headers (cookie, provider API key): ops create the secrets; the
        # fetcher may read exactly those.
        for platform, secret_name in sorted(settings.credentials.items()):
            secret = secretsmanager.Secret.from_secret_name_v2(self, f"Credentials-{platform}", secret_name)
            secret.grant_read(self.fetcher)
            acknowledge(
                self.fetcher.role,
                "AwsSolutions-IAM5",
                f"Read access to the {platform} credentials secret named in the context: Secrets Manager "
                "appends six random characters to a secret's ARN, which only a wildcard can match.",
                finding=f"Resource::arn:<AWS::Partition>:secretsmanager:{Stack.of(self).region}:"
                f"{Stack.of(self).account}:secret:{secret_name}-??????",
            )
        acknowledge_sqs_consumer(self.fetcher, "the per-platform FetchJobs queues", "their DLQs")
