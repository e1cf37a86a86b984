"""Posts (SQS) -> score -> store once -> re-assess each touched watch's incident -> escalate.

A record that cannot be parsed or scored fails alone (partial batch response) and, after the
maximum receive count, goes to the dead-letter queue. A post for a watch that was deleted since it
was fetched is dropped with a warning. If re-assessing fails, the whole batch is
retried: its posts are then duplicates (stored once) and the re-assessment simply runs again.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import boto3
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from crisiswatch.escalation.aws import Workflow
from crisiswatch.incidents.levels import LevelRule, rules_from_overrides
from crisiswatch.incidents.model import TopPost
from crisiswatch.incidents.service import reassess_watch, top_post
from crisiswatch.models import Post, Watch, utcnow
from crisiswatch.observability import MetricUnit, logger, metrics, tracer
from crisiswatch.scoring import Scorer
from crisiswatch.settings import ScorerSettings
from crisiswatch.store import IncidentStore, PostStore
from crisiswatch.store.watches import WatchCatalog, WatchStore

processor = BatchProcessor(event_type=EventType.SQS)


@dataclass
class _Deps:
    settings: ScorerSettings
    watches: WatchCatalog
    scorers: dict[tuple[str, ...], Scorer]
    rules: tuple[LevelRule, ...]
    posts: PostStore
    incidents: IncidentStore
    workflow: Workflow


@lru_cache(maxsize=1)
def _deps() -> _Deps:
    settings = ScorerSettings.from_env()
    dynamodb = boto3.client("dynamodb")
    return _Deps(
        settings=settings,
        watches=WatchCatalog(WatchStore(dynamodb, settings.state_table)),
        scorers={},
        rules=rules_from_overrides(settings.level_thresholds),
        posts=PostStore(dynamodb, settings.posts_table, settings.state_table),
        incidents=IncidentStore(dynamodb, settings.incidents_table, settings.state_table),
        workflow=Workflow(boto3.client("stepfunctions"), settings.state_machine_arn),
    )


def _scorer_for(deps: _Deps, watch: Watch) -> Scorer:
    """One scorer per set of brand terms (its jieba dictionary keeps them whole)."""
    terms = tuple(watch.brand_terms or watch.keywords)
    if terms not in deps.scorers:
        deps.scorers[terms] = Scorer(brand_terms=terms)
    return deps.scorers[terms]


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    deps = _deps()
    now = utcnow()
    watches = deps.watches.all()
    touched: dict[str, list[TopPost]] = {}
    counts = {"PostsScored": 0, "DuplicatePosts": 0, "PostsForUnknownWatches": 0}

    def score_and_store(record: SQSRecord) -> None:
        post = Post.model_validate_json(record.body)
        watch = watches.get(post.watch_id)
        if watch is None:
            logger.warning(
                "post for an unknown or deleted watch dropped", post_key=post.key, watch_id=post.watch_id
            )
            counts["PostsForUnknownWatches"] += 1
            return
        score = _scorer_for(deps, watch).score(post)
        stored = deps.posts.save(post, score, now)
        # Duplicates count too: the watch is re-assessed in case the first delivery's run failed.
        candidates = touched.setdefault(post.watch_id, [])
        if score.is_negative:
            candidates.append(top_post(post, score))
        counts["PostsScored" if stored else "DuplicatePosts"] += 1
        logger.debug("scored", post_key=post.key, risk=score.risk, stored=stored)

    response = process_partial_response(
        event=event, record_handler=score_and_store, processor=processor, context=context
    )
    for name, value in counts.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    for failed in response.get("batchItemFailures", []):
        logger.warning("record failed", message_id=failed["itemIdentifier"])
    for watch_id, candidates in touched.items():
        _, raised = reassess_watch(
            watches[watch_id],
            candidates,
            now,
            deps.posts,
            deps.incidents,
            deps.workflow,
            deps.rules,
            deps.settings.ack_timeout_seconds,
        )
        if raised:
            metrics.add_metric(name="LevelRaised", unit=MetricUnit.Count, value=1)
    return response
