"""Turning a watch's readings and a story's numbers into incident decisions. Pure: no AWS, no clock.

evidence = Evidence(readings, story_stats, story_readings, normal)
decision = decide_level(evidence, rules)      # level (or None) and the reason, in numbers
incident = assess(current, watch, story_id, evidence, candidates, now, rules)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.incidents.baseline import Expected
from crisiswatch.incidents.policy import (
    DEFAULT_RULES,
    MIN_WINDOW_MENTIONS,
    SPREAD_ENGAGEMENT,
    SPREAD_HIGH_RISK,
    SPREAD_INFLUENTIAL,
    SPREAD_REACH,
    STORY_DOMINANT_SHARE,
    STORY_MIN_IN_WINDOW,
    STORY_SHARE_OF_EXCESS,
    STORY_WINDOW_HOURS,
    LevelRule,
    WindowStats,
)
from crisiswatch.incidents.record import Incident, IncidentStats, LevelChange, Resolution, TopPost
from crisiswatch.incidents.surprise import Reading
from crisiswatch.vocabulary import Level, Watch

TOP_POSTS = 5
# The clocks start when an incident first needs a public response.
CLOCK_LEVEL = Level.ORANGE
# An incident whose story has been quiet this long resolves itself (crisiswatch.constants overrides).
QUIET_RESOLVE_MINUTES = 6 * 60
RESOLVED_BY_DETECTION = "crisiswatch"
DEFAULT_DURATIONS = ClockDurations()


def incident_id_for(watch: Watch, story_id: str, now: datetime) -> str:
    """Readable and unique: the watch, the minute it opened, and its story."""
    story = hashlib.blake2b(story_id.encode(), digest_size=3).hexdigest() if story_id else "0"
    return f"{watch.id}-{now:%Y%m%d-%H%M}-{story}"


def execution_name(incident: Incident, level: Level | None = None) -> str:
    """Deterministic, so a redelivered batch cannot start the same escalation twice."""
    return f"{incident.incident_id}-{(level or incident.level).value}"


def merge_top_posts(
    current: Iterable[TopPost], new: Iterable[TopPost], keep: int = TOP_POSTS
) -> list[TopPost]:
    by_key = {p.key: p for p in current}
    by_key.update({p.key: p for p in new})
    return sorted(by_key.values(), key=lambda p: (-p.risk, p.key))[:keep]


@dataclass(frozen=True)
class Evidence:
    """What one assessment of one story knows."""

    readings: Sequence[Reading]  # the watch's short windows against its normal
    story: WindowStats  # the story over STORY_WINDOW_HOURS
    story_in_windows: Sequence[WindowStats]  # the story within each of `readings`' windows
    normal: Expected
    whole_watch: bool = False  # the "story" is the watch itself: a surge no single story carries

    @property
    def burst(self) -> tuple[Reading, WindowStats] | None:
        """The watch's most surprising window that holds enough posts, and the story's part of it."""
        best = None
        for reading, story in zip(self.readings, self.story_in_windows, strict=True):
            if reading.stats.mentions < MIN_WINDOW_MENTIONS:
                continue
            if best is None or reading.surprise > best[0].surprise:
                best = (reading, story)
        return best

    @property
    def carried(self) -> bool:
        """The story holds a fair part of the burst's excess (not a burst elsewhere on the watch)."""
        burst = self.burst
        if burst is None:
            return False
        reading, story = burst
        return story.mentions >= max(STORY_MIN_IN_WINDOW, STORY_SHARE_OF_EXCESS * reading.excess)

    @property
    def dominant(self) -> bool:
        """The story holds most of the burst's posts."""
        burst = self.burst
        return burst is not None and burst[1].mentions >= STORY_DOMINANT_SHARE * burst[0].stats.mentions

    @property
    def surprise(self) -> float:
        burst = self.burst
        return burst[0].surprise if burst and self.carried else 0.0

    @property
    def spread(self) -> list[str]:
        """The ways the story has spread (red needs one)."""
        s = self.story
        found = []
        if s.influential >= SPREAD_INFLUENTIAL:
            found.append(f"{s.influential} 个认证或大V账号")
        if s.high_risk >= SPREAD_HIGH_RISK:
            found.append(f"高风险帖 {s.high_risk} 条")
        if s.reach >= SPREAD_REACH:
            found.append(f"覆盖粉丝 {s.reach:,}")
        if s.engagement >= SPREAD_ENGAGEMENT:
            found.append(f"转发评论 +{s.engagement:,}")
        return found

    @property
    def active(self) -> bool:
        """Still busy: the story had posts in the last hour, or carries a burst."""
        last_hour = self.story_in_windows[-1] if self.story_in_windows else WindowStats()
        return self.carried or last_hour.mentions >= STORY_MIN_IN_WINDOW


def _holds(rule: LevelRule, e: Evidence) -> bool:
    s = e.story
    return (
        e.surprise >= rule.min_surprise
        and s.mentions >= rule.min_mentions
        and s.negatives >= rule.min_negatives
        and s.negative_share >= rule.min_negative_share
        and (
            rule.min_negative_lift is None
            or s.negative_share - e.normal.negative_share >= rule.min_negative_lift
        )
        and (not rule.needs_spread or bool(e.spread))
    )


def _count(n: float) -> str:
    return "不到 1" if n < 1 else f"{n:.0f}" if n < 10 else f"{n:,.0f}"


def explain(e: Evidence) -> str:
    """The numbers behind a decision, as a PR person reads them, e.g.
    过去30分钟提及 142 条，平时 6 条 (23 倍)；负面 71%，平时 15%；本话题近6小时 260 条；转发评论 +1,240/30分钟；3 个认证或大V账号"""
    parts = []
    burst = e.burst
    if burst is None:
        longest = e.readings[-1] if e.readings else None
        if longest is not None:
            parts.append(
                f"过去{longest.minutes}分钟提及 {longest.stats.mentions} 条，平时 {_count(longest.expected_mentions)} 条"
            )
    else:
        reading, story = burst
        ratio = reading.ratio
        times = f" ({ratio:.0f} 倍)" if ratio >= 2 else ""
        parts.append(
            f"过去{reading.minutes}分钟提及 {reading.stats.mentions} 条，平时 {_count(reading.expected_mentions)} 条{times}"
        )
        if not e.carried:
            parts.append(f"其中本话题仅 {story.mentions} 条")
        if story.engagement:
            parts.append(f"转发评论 +{story.engagement:,}/{reading.minutes}分钟")
    s = e.story
    parts.append(f"负面 {s.negative_share:.0%}，平时 {e.normal.negative_share:.0%}")
    if e.whole_watch:
        parts.append(f"无单一主导话题（{s.mentions} 条分散在多个话题）")
    else:
        parts.append(f"本话题近{STORY_WINDOW_HOURS}小时 {s.mentions} 条")
    if s.influential:
        parts.append(f"{s.influential} 个认证或大V账号")
    if s.unknown_reach and s.unknown_reach == s.mentions:
        parts.append("作者粉丝数未知")
    if not e.normal.warm:
        parts.append(f"历史 {e.normal.history_hours} 小时，按保守基线")
    return "；".join(parts)


@dataclass(frozen=True)
class LevelDecision:
    level: Level | None
    reason: str


def decide_level(evidence: Evidence, rules: tuple[LevelRule, ...] = DEFAULT_RULES) -> LevelDecision:
    """The most severe level whose rule holds, with the numbers that made it hold."""
    for rule in rules:  # most severe first
        if _holds(rule, evidence):
            return LevelDecision(rule.level, f"{rule.level.chinese}: {explain(evidence)}")
    return LevelDecision(None, f"未达{rules[-1].level.chinese}: {explain(evidence)}")


def _stats(e: Evidence) -> IncidentStats:
    s = e.story
    burst = e.burst
    return IncidentStats(
        window_hours=STORY_WINDOW_HOURS,
        mentions=s.mentions,
        negatives=s.negatives,
        negative_share=round(s.negative_share, 4),
        high_risk=s.high_risk,
        reach=s.reach,
        unknown_reach=s.unknown_reach,
        influential=s.influential,
        engagement=s.engagement,
        normal_negative_share=round(e.normal.negative_share, 4),
        burst_minutes=burst[0].minutes if burst else 0,
        burst_mentions=burst[0].stats.mentions if burst else 0,
        burst_expected=round(burst[0].expected_mentions, 2) if burst else 0.0,
        surprise=round(burst[0].surprise, 2) if burst else 0.0,
    )


def assess(
    incident: Incident | None,
    watch: Watch,
    story_id: str,
    evidence: Evidence,
    candidates: Iterable[TopPost],
    now: datetime,
    rules: tuple[LevelRule, ...] = DEFAULT_RULES,
    durations: ClockDurations = DEFAULT_DURATIONS,
) -> Incident | None:
    """The story's incident after this assessment: opened, updated, raised, or still none.
    Its deadlines are set when it first reaches the watch's `clocks_from` level.

    Levels only rise while an incident is open: a quieter hour does not lower what the team is
    already responding to. A rise above what was acknowledged re-opens the incident, because the
    new level needs its own acknowledgement.
    """
    decision = decide_level(evidence, rules)
    clocks_from = watch.oncall.clocks_from if watch.oncall else CLOCK_LEVEL
    if incident is None:
        if decision.level is None:
            return None
        return Incident(
            incident_id=incident_id_for(watch, story_id, now),
            watch_id=watch.id,
            watch_name=watch.name,
            story_id=story_id,
            opened_at=now,
            updated_at=now,
            level=decision.level,
            level_reason=decision.reason,
            history=[LevelChange(level=decision.level, at=now, reason=decision.reason)],
            stats=_stats(evidence),
            top_posts=merge_top_posts([], candidates),
            deadlines=durations.deadlines(now) if decision.level >= clocks_from else None,
            last_active_at=now,
        )

    changes: dict = {
        "updated_at": now,
        "stats": _stats(evidence),
        "top_posts": merge_top_posts(incident.top_posts, candidates),
    }
    if evidence.active:
        changes["last_active_at"] = now
    if incident.status != "resolved" and decision.level is not None and decision.level > incident.level:
        changes |= {
            "level": decision.level,
            "level_reason": decision.reason,
            "history": [*incident.history, LevelChange(level=decision.level, at=now, reason=decision.reason)],
        }
        if incident.status == "acknowledged":
            changes["status"] = "open"
        if incident.deadlines is None and decision.level >= clocks_from:
            changes["deadlines"] = durations.deadlines(now)
    return incident.model_copy(update=changes)


def quiet_resolution(
    incident: Incident, now: datetime, quiet_minutes: int = QUIET_RESOLVE_MINUTES
) -> Resolution | None:
    """A resolution when the incident's story has been quiet for `quiet_minutes`, else None."""
    last = incident.last_active_at or incident.updated_at
    quiet = now - last
    if incident.status == "resolved" or quiet < timedelta(minutes=quiet_minutes):
        return None
    hours = quiet.total_seconds() / 3600
    return Resolution(
        at=now,
        by=RESOLVED_BY_DETECTION,
        reason=f"本话题已平静 {hours:.1f} 小时（自动结束阈值 {quiet_minutes // 60} 小时）；最高级别 {incident.level.chinese}",
    )


def escalation_input(incident: Incident, ack_timeouts: dict[str, int], held_seconds: int = 0) -> dict:
    """The escalation state machine's input (its contract is in infra/constructs/escalation.py).
    `held_seconds`: how long quiet hours hold the first alert back; its wait is that much longer,
    so nobody is paged one tier up at night for an alert they could not have seen."""
    tier = incident.level
    timeouts = {lv: int(ack_timeouts[lv]) for lv in ("yellow", "orange", "red")}
    return {
        "incident_id": incident.incident_id,
        "watch_id": incident.watch_id,
        "level": incident.level.value,
        "current": {
            "tier": tier.value,
            "timeout_seconds": timeouts.get(tier.value, 0) + held_seconds,
            "failed_from": "",  # set by the state machine when a tier below could not be reached
        },
        "timeouts": timeouts,
    }
