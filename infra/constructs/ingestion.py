"""Ingestion: a schedule per platform, the scheduler that fans out one fetch job per watch x platform,
the fetch-jobs queue (with its DLQ), and the fetcher that pages through a platform and enqueues posts.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from crisiswatch import config
from crisiswatch.config import Env
from infra.constructs.function import Runtime, make_function
from infra.constructs.queues import dead_letter_queue, work_queue
from infra.constructs.scoring import acknowledge_sqs_consumer
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
        settings: DeploymentSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        fetcher_spec = config.FUNCTIONS["fetcher"]
        self.fetch_queue, self.fetch_dlq = work_queue(
            self, "FetchJobsQueue", consumer_timeout_seconds=fetcher_spec.timeout_seconds
        )
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
                Env.WATCHES: settings.watches_json,
                Env.FETCH_QUEUE_URL: self.fetch_queue.queue_url,
            },
            description="Fans a schedule tick out into one fetch job per watch on the platform",
            dead_letter_queue=self.schedule_dlq,
        )
        self.fetch_queue.grant_send_messages(self.scheduler)

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
                Env.WEIBO_BASE_URL: settings.weibo_base_url,
                Env.HTTP_TIMEOUT_SECONDS: str(config.DEFAULT_HTTP_TIMEOUT_SECONDS),
            },
            description="Fetches one watch on one platform (paging, cursor, backoff) and enqueues posts",
        )
        self.fetcher.add_event_source(
            sources.SqsEventSource(
                self.fetch_queue,
                batch_size=config.FETCH_JOBS_BATCH_SIZE,
                report_batch_item_failures=True,
                max_concurrency=config.FETCHER_MAX_CONCURRENCY,
            )
        )
        posts_queue.grant_send_messages(self.fetcher)
        acknowledge_sqs_consumer(self.fetcher, "FetchJobsQueue", "FetchJobsDLQ")
