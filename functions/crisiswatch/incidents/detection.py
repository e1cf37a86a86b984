"""Turning a watch's window statistics into incident decisions. Pure: no AWS, no clock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from crisiswatch.constants import DETAILED_STATEMENT_SECONDS, FIRST_STATEMENT_SECONDS, PROGRESS_REPORT_SECONDS
from crisiswatch.incidents.policy import DEFAULT_RULES, LevelRule, WindowStats, decide_level
from crisiswatch.incidents.record import Deadlines, Incident, IncidentStats, LevelChange, TopPost
from crisiswatch.vocabulary import Level, Watch

WINDOW_HOURS = 6
TOP_POSTS = 5
# The clocks start when an incident first needs a public response.
CLOCK_LEVEL = Level.ORANGE


def incident_id_for(watch: Watch, now: datetime) -> str:
    return f"{watch.id}-{now:%Y%m%d-%H%M}"


def execution_name(incident: Incident, level: Level | None = None) -> str:
    """Deterministic, so a redelivered batch cannot start the same escalation twice."""
    return f"{incident.incident_id}-{(level or incident.level).value}"


def merge_top_posts(
    current: Iterable[TopPost], new: Iterable[TopPost], keep: int = TOP_POSTS
) -> list[TopPost]:
    by_key = {p.key: p for p in current}
    by_key.update({p.key: p for p in new})
    return sorted(by_key.values(), key=lambda p: (-p.risk, p.key))[:keep]


def _stats(stats: WindowStats) -> IncidentStats:
    return IncidentStats(
        window_hours=WINDOW_HOURS,
        mentions=stats.mentions,
        negatives=stats.negatives,
        negative_share=round(stats.negative_share, 4),
        high_risk=stats.high_risk,
        reach=stats.reach,
    )


def _deadlines(now: datetime) -> Deadlines:
    return Deadlines(
        first_statement=now + timedelta(seconds=FIRST_STATEMENT_SECONDS),
        detailed_statement=now + timedelta(seconds=DETAILED_STATEMENT_SECONDS),
        progress_report=now + timedelta(seconds=PROGRESS_REPORT_SECONDS),
    )


def assess(
    incident: Incident | None,
    watch: Watch,
    stats: WindowStats,
    candidates: Iterable[TopPost],
    now: datetime,
    rules: tuple[LevelRule, ...] = DEFAULT_RULES,
) -> Incident | None:
    """The watch's incident after this window: opened, updated, raised, or still none.

    Levels only rise while an incident is open: a quieter hour does not lower what the team is
    already responding to. A rise above what was acknowledged re-opens the incident, because the
    new level needs its own acknowledgement.
    """
    decision = decide_level(stats, rules)
    if incident is None:
        if decision.level is None:
            return None
        return Incident(
            incident_id=incident_id_for(watch, now),
            watch_id=watch.id,
            watch_name=watch.name,
            opened_at=now,
            updated_at=now,
            level=decision.level,
            level_reason=decision.reason,
            history=[LevelChange(level=decision.level, at=now, reason=decision.reason)],
            stats=_stats(stats),
            top_posts=merge_top_posts([], candidates),
            deadlines=_deadlines(now) if decision.level >= CLOCK_LEVEL else None,
        )

    changes: dict = {
        "updated_at": now,
        "stats": _stats(stats),
        "top_posts": merge_top_posts(incident.top_posts, candidates),
    }
    if incident.status != "resolved" and decision.level is not None and decision.level > incident.level:
        changes |= {
            "level": decision.level,
            "level_reason": decision.reason,
            "history": [*incident.history, LevelChange(level=decision.level, at=now, reason=decision.reason)],
        }
        if incident.status == "acknowledged":
            changes["status"] = "open"
        if incident.deadlines is None and decision.level >= CLOCK_LEVEL:
            changes["deadlines"] = _deadlines(now)
    return incident.model_copy(update=changes)


def escalation_input(incident: Incident, ack_timeouts: dict[str, int]) -> dict:
    """The escalation state machine's input (its contract is in infra/constructs/escalation.py)."""
    tier = incident.level
    timeouts = {lv: int(ack_timeouts[lv]) for lv in ("yellow", "orange", "red")}
    return {
        "incident_id": incident.incident_id,
        "watch_id": incident.watch_id,
        "level": incident.level.value,
        "current": {"tier": tier.value, "timeout_seconds": timeouts.get(tier.value, 0)},
        "timeouts": timeouts,
    }
