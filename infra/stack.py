"""The crisiswatch stack: composes one construct per capability, nothing else."""

from __future__ import annotations

from aws_cdk import Stack
from constructs import Construct

from crisiswatch import constants
from infra.constructs.api import Api
from infra.constructs.escalation import Escalation
from infra.constructs.function import Runtime
from infra.constructs.ingestion import Ingestion
from infra.constructs.layers import Layers
from infra.constructs.observability import Observability
from infra.constructs.push_api import Push
from infra.constructs.scoring import Scoring
from infra.constructs.storage import Storage
from infra.constructs.timers import Timers
from infra.constructs.watch_seed import WatchSeed
from infra.context import DeploymentSettings


class CrisisWatchStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, settings: DeploymentSettings, **kwargs
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            description="crisiswatch: brand-crisis monitoring of Chinese social media",
            **kwargs,
        )
        self.settings = settings
        layers = Layers(self, "Layers")
        shared = Runtime(
            deps_layer=layers.deps,
            nlp_layer=layers.nlp,
            log_levels=settings.log_levels,
            tracing=settings.tracing,
            system_log_levels=settings.system_log_levels,
        )
        self.storage = Storage(self, "Storage")
        self.watch_seed = WatchSeed(self, "WatchSeed", state_table=self.storage.state, settings=settings)
        self.escalation = Escalation(
            self, "Escalation", shared=shared, storage=self.storage, settings=settings
        )
        self.scoring = Scoring(
            self,
            "Scoring",
            shared=shared,
            storage=self.storage,
            state_machine=self.escalation.state_machine,
            settings=settings,
        )
        self.ingestion = Ingestion(
            self,
            "Ingestion",
            shared=shared,
            posts_queue=self.scoring.posts_queue,
            state_table=self.storage.state,
            settings=settings,
        )
        self.api = Api(
            self,
            "Api",
            shared=shared,
            storage=self.storage,
            state_machine=self.escalation.state_machine,
            settings=settings,
        )
        self.push = Push(
            self,
            "Push",
            shared=shared,
            posts_queue=self.scoring.posts_queue,
            state_table=self.storage.state,
            settings=settings,
            cloud_watch_role_api=self.api.rest_api,
        )
        # The deadline clocks wake the notifier; the notifier and the api set and cancel them, the
        # scorer cancels them when it resolves a quiet incident.
        self.timers = Timers(self, "Timers", target=self.escalation.notifier)
        for fn in (self.escalation.notifier, self.api.function, self.scoring.scorer):
            self.timers.grant_manage(fn)
        self.functions = {
            "scheduler": self.ingestion.scheduler,
            "fetcher": self.ingestion.fetcher,
            "scorer": self.scoring.scorer,
            "notifier": self.escalation.notifier,
            "api": self.api.function,
            "push": self.push.function,
        }
        assert set(self.functions) == set(constants.FUNCTIONS), (
            "every constants.FUNCTIONS entry needs a Lambda"
        )
        self.observability = Observability(
            self,
            "Observability",
            functions={constants.FUNCTIONS[k].construct_id: fn for k, fn in self.functions.items()},
            dead_letter_queues={
                **{f"FetchJobs-{p}": dlq for p, dlq in self.ingestion.fetch_dlqs.items()},
                "Posts": self.scoring.posts_dlq,
                "Schedule": self.ingestion.schedule_dlq,
                "AlertsDelivery": self.escalation.delivery_dlq,
                "Timers": self.timers.dead_letter_queue,
            },
            state_machine=self.escalation.state_machine,
            rest_api=self.api.rest_api,
            push_api=self.push.rest_api,
            fetch_queues=self.ingestion.fetch_queues,
            posts_queue=self.scoring.posts_queue,
            storage=self.storage,
            settings=settings,
        )
