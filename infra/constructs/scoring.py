"""Scoring: the posts queue (with its DLQ) and the scorer that turns posts into scores and incidents."""

from __future__ import annotations

import json

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from crisiswatch import constants
from crisiswatch.constants import Env
from infra.constructs.escalation import grant_stop_escalations
from infra.constructs.function import Runtime, make_function
from infra.constructs.queues import work_queue
from infra.constructs.storage import Storage, grant_partitions, grant_table, grant_watch_access
from infra.context import DeploymentSettings
from infra.nag import acknowledge

# The scorer's partitions of the state table beyond the watches, with what it does there.
SCORER_STATE_PARTITIONS: list[tuple[list[str], list[str]]] = [
    # WATCH#<id>: the open-incident pointers (aws/incidents.py: a transaction's Put on open, Delete
    # on resolve; Get and Query to find them), the baseline (aws/baselines.py: Get, Put) and the
    # watch's counters (aws/posts.py: Update, Query).
    (
        [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "dynamodb:DeleteItem",
        ],
        ["WATCH#*"],
    ),
    # STORY#<watch>#<story>: a story's counters (aws/posts.py).
    (["dynamodb:Query", "dynamodb:UpdateItem"], ["STORY#*"]),
    # STORIES#<watch>: the near-duplicate index (aws/stories.py).
    (["dynamodb:BatchGetItem", "dynamodb:PutItem"], ["STORIES#*"]),
    # TIMELINE#<incident> and TIMELINEKEY#<incident>: appending events (aws/timeline.py).
    (["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:BatchWriteItem"], ["TIMELINE*"]),
]


class Scoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        shared: Runtime,
        storage: Storage,
        state_machine: sfn.IStateMachine,
        settings: DeploymentSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        spec = constants.FUNCTIONS["scorer"]
        self.posts_queue, self.posts_dlq = work_queue(
            self, "PostsQueue", consumer_timeout_seconds=spec.timeout_seconds
        )
        self.scorer = make_function(
            self,
            "scorer",
            shared,
            {
                Env.POSTS_TABLE: storage.posts.table_name,
                Env.INCIDENTS_TABLE: storage.incidents.table_name,
                Env.STATE_TABLE: storage.state.table_name,
                Env.ESCALATION_STATE_MACHINE_ARN: state_machine.state_machine_arn,
                Env.ACK_TIMEOUT_SECONDS: settings.ack_timeout_seconds.model_dump_json(),
                Env.CLOCK_SECONDS: settings.clock_seconds.model_dump_json(),
                Env.LEVEL_THRESHOLDS: json.dumps(settings.level_thresholds, separators=(",", ":")),
                Env.HEARTBEAT_SILENT_MINUTES: str(settings.heartbeat_silent_minutes),
            },
            description="Scores posts (jieba, sentiment, crisis categories), groups incidents, escalates",
        )
        self.scorer.add_event_source(
            sources.SqsEventSource(
                self.posts_queue,
                batch_size=constants.POSTS_BATCH_SIZE,
                max_batching_window=Duration.seconds(constants.POSTS_BATCHING_WINDOW_SECONDS),
                report_batch_item_failures=True,
            )
        )
        # The quiet sweep: incidents of watches that get no posts still resolve when quiet; and the
        # heartbeat, which counts the busy watches that have gone silent.
        self.sweep_rule = events.Rule(
            self,
            "QuietSweep",
            description="crisiswatch: resolve incidents whose story has gone quiet",
            schedule=events.Schedule.rate(Duration.minutes(constants.SWEEP_MINUTES)),
        )
        self.sweep_rule.add_target(
            targets.LambdaFunction(
                self.scorer,
                event=events.RuleTargetInput.from_object({"sweep": True}),
                retry_attempts=0,  # the next sweep does the same work
                max_event_age=Duration.seconds(constants.SWEEP_MINUTES * 60),
            )
        )
        acknowledge(
            self.sweep_rule,
            "Serverless-EventBusDLQ",
            f"A sweep that is not delivered is redone by the next one {constants.SWEEP_MINUTES} minutes later: it "
            "only re-reads open incidents from DynamoDB, so a lost invocation delays a resolve, loses nothing.",
        )
        # Exactly what its adapters call (crisiswatch.aws.scoring wires them): no Scan, and
        # DeleteItem only on the open-incident pointers (a quiet incident's sweep resolves it).
        grant_table(  # aws/posts.py: which are counted (BatchGetItem), then a transaction of updates
            self.scorer, storage.posts, ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:UpdateItem"]
        )
        grant_table(  # aws/incidents.py: create (a transaction's Put), update, get, the sweep's list
            self.scorer,
            storage.incidents,
            ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            query_index=constants.INCIDENTS_BY_STATUS_INDEX,
        )
        grant_watch_access(
            self.scorer, storage.state, ["dynamodb:Query", "dynamodb:GetItem"]
        )  # aws/watches.py
        for actions, patterns in SCORER_STATE_PARTITIONS:
            grant_partitions(self.scorer, storage.state, actions, patterns)
        state_machine.grant_start_execution(self.scorer)
        # A higher level supersedes the running lower-level escalation of the same incident.
        grant_stop_escalations(self.scorer, state_machine)
        acknowledge_sqs_consumer(self.scorer, "PostsQueue", "PostsDLQ")


def acknowledge_sqs_consumer(fn: Construct, queue: str, dlq: str) -> None:
    """A Lambda fed only by an SQS event source: failures go back to the queue, then to its DLQ."""
    acknowledge(
        fn,
        "Serverless-LambdaDLQ",
        f"Invoked only by the SQS event source on {queue}; failed records return to the queue and after "
        f"DLQ_MAX_RECEIVE_COUNT ({constants.DLQ_MAX_RECEIVE_COUNT}) receives move to {dlq}. An async-invoke DLQ "
        "would never receive anything.",
    )
    acknowledge(
        fn,
        "Serverless-LambdaEventSourceMappingDestination",
        f"SQS event sources take no OnFailure destination (only stream and Kafka sources do); the source "
        f"queue's redrive policy to {dlq} is the failure destination.",
    )
