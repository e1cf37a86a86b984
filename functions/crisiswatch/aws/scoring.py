"""The scorer's service on the AWS adapters: store, count, detect, open and raise incidents, start
escalations, and record it all on the incidents' timelines."""

from __future__ import annotations

import boto3

from crisiswatch.aws.baselines import DynamoBaselineStore
from crisiswatch.aws.incidents import DynamoIncidentRepository
from crisiswatch.aws.posts import DynamoPostRepository
from crisiswatch.aws.stories import DynamoStoryIndex
from crisiswatch.aws.timeline import DynamoTimeline
from crisiswatch.aws.timers import scheduler_timers
from crisiswatch.aws.watches import DynamoWatchCatalogue
from crisiswatch.aws.workflow import StepFunctionsWorkflow
from crisiswatch.environment import ScorerSettings
from crisiswatch.escalation.response import IncidentLog
from crisiswatch.incidents.intake import Intake
from crisiswatch.incidents.service import Detector
from crisiswatch.ports import Clock
from crisiswatch.watches import WatchCache


def intake(s: ScorerSettings, clock: Clock) -> Intake:
    db = boto3.client("dynamodb")
    incidents = DynamoIncidentRepository(db, s.incidents_table, s.state_table)
    detector = Detector(
        posts=DynamoPostRepository(db, s.posts_table, s.state_table),
        baselines=DynamoBaselineStore(db, s.state_table),
        incidents=incidents,
        workflow=StepFunctionsWorkflow(boto3.client("stepfunctions"), s.state_machine_arn),
        rules=s.rules,
        ack_timeouts=s.ack_timeout_seconds,
        events=IncidentLog(DynamoTimeline(db, s.state_table), incidents, scheduler_timers(s, clock)),
        durations=s.durations,
    )
    watches = WatchCache(DynamoWatchCatalogue(db, s.state_table))
    return Intake(watches, detector, DynamoStoryIndex(db, s.state_table), clock, s.heartbeat_silent_minutes)
