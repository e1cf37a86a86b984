"""After posts are stored: re-assess each touched watch and start escalations for rises."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from aws_lambda_powertools import Logger

from crisiswatch.incidents.detection import WINDOW_HOURS, assess, escalation_input, execution_name
from crisiswatch.incidents.policy import LevelRule
from crisiswatch.incidents.record import Incident, TopPost
from crisiswatch.ports import (
    EscalationWorkflow,
    IncidentAlreadyOpen,
    IncidentRepository,
    PostRepository,
    StaleIncident,
)
from crisiswatch.vocabulary import Post, Score, Watch

logger = Logger(child=True)
MAX_ATTEMPTS = 3


def top_post(post: Post, score: Score) -> TopPost:
    return TopPost(
        key=post.key,
        url=post.url,
        author=post.author.name,
        followers=post.author.followers,
        verified_type=post.author.verified_type,
        text=post.text[:280],
        created_at=post.created_at,
        risk=score.risk,
        negative=score.negative,
        categories=score.categories,
        reasons=score.reasons,
    )


def reassess_watch(
    watch: Watch,
    candidates: Iterable[TopPost],
    now: datetime,
    posts: PostRepository,
    incidents: IncidentRepository,
    workflow: EscalationWorkflow,
    rules: tuple[LevelRule, ...],
    ack_timeouts: dict[str, int],
) -> tuple[Incident | None, bool]:
    """Bring the watch's incident up to date and make sure its current level is escalated.

    Returns the incident (None while the watch is below every level) and whether its level rose.

    Safe to repeat: it derives everything from stored counters, and the escalation's execution
    name is deterministic, so a redelivered batch re-runs it without double effects. Concurrent
    scorers are serialised by the incident's version (retry on a stale read).
    """
    candidates = list(candidates)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        stats = posts.window(watch.id, now, WINDOW_HOURS)
        current = incidents.open_incident(watch.id)
        updated = assess(current, watch, stats, candidates, now, rules)
        if updated is None:
            return None, False
        try:
            if current is None:
                incidents.create(updated)
                logger.info("incident opened", incident_id=updated.incident_id, level=updated.level.value)
            else:
                updated = incidents.update(updated)
                if updated.level > current.level:
                    logger.info("level raised", incident_id=updated.incident_id, level=updated.level.value)
            raised = current is None or updated.level > current.level
            return _escalate_if_needed(updated, incidents, workflow, ack_timeouts), raised
        except (IncidentAlreadyOpen, StaleIncident):
            logger.info("incident changed concurrently; re-reading", watch_id=watch.id, attempt=attempt)
    raise StaleIncident(f"watch {watch.id}: incident kept changing over {MAX_ATTEMPTS} attempts")


def _escalate_if_needed(
    incident: Incident,
    incidents: IncidentRepository,
    workflow: EscalationWorkflow,
    ack_timeouts: dict[str, int],
) -> Incident:
    if not incident.needs_escalation:
        return incident
    started = workflow.start(execution_name(incident), escalation_input(incident, ack_timeouts))
    logger.info("escalation", incident_id=incident.incident_id, level=incident.level.value, started=started)
    if incident.escalated_level is not None:
        # The new level's escalation notifies its own tiers; the lower one must not go on in parallel.
        workflow.stop(
            execution_name(incident, incident.escalated_level),
            cause=f"superseded by the {incident.level.value} escalation",
        )
    return incidents.mark_escalated(incident, incident.level)
