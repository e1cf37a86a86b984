"""The level policy: which numbers make an incident blue, yellow, orange or red.

Every rule is a conjunction of thresholds on the watch's window statistics, so a level decision is
always explainable by quoting the numbers against the thresholds they passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from crisiswatch.vocabulary import LEVELS, Level, Post, Score


@dataclass(frozen=True)
class WindowStats:
    """Additive counters of one watch over a time window (sums of hourly buckets)."""

    mentions: int = 0
    negatives: int = 0
    high_risk: int = 0  # posts whose risk is at least HIGH_RISK
    risk_sum: float = 0.0
    reach: int = 0  # followers of the authors of negative posts

    @property
    def negative_share(self) -> float:
        return self.negatives / self.mentions if self.mentions else 0.0

    @property
    def mean_risk(self) -> float:
        return self.risk_sum / self.mentions if self.mentions else 0.0

    def __add__(self, other: WindowStats) -> WindowStats:
        return WindowStats(
            mentions=self.mentions + other.mentions,
            negatives=self.negatives + other.negatives,
            high_risk=self.high_risk + other.high_risk,
            risk_sum=self.risk_sum + other.risk_sum,
            reach=self.reach + other.reach,
        )


# A post's risk is content x exposure x subject (crisiswatch.scoring.risk): an ordinary complaint
# from a small account scores about 0.3; 0.5 and above takes a negative crisis post that can travel
# (an influential or verified author, or one already spreading).
HIGH_RISK = 0.5


def hour_bucket(moment: datetime) -> str:
    """The hourly counter a moment falls in: its UTC hour, "yyyy-mm-ddThh" (string order = time order)."""
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H}"


def counts_of(post: Post, score: Score) -> WindowStats:
    """What one stored post adds to its watch's counters."""
    negative = score.is_negative
    return WindowStats(
        mentions=1,
        negatives=1 if negative else 0,
        high_risk=1 if score.risk >= HIGH_RISK else 0,
        risk_sum=round(score.risk, 4),
        reach=post.author.followers if negative else 0,
    )


@dataclass(frozen=True)
class LevelRule:
    level: Level
    min_negatives: int
    min_negative_share: float
    min_high_risk: int = 0

    def explain(self, stats: WindowStats) -> str:
        parts = [
            f"{stats.negatives} negative of {stats.mentions} posts (>= {self.min_negatives})",
            f"negative share {stats.negative_share:.0%} (>= {self.min_negative_share:.0%})",
        ]
        if self.min_high_risk:
            parts.append(f"{stats.high_risk} high-risk posts (>= {self.min_high_risk})")
        return f"{self.level.value}: " + "; ".join(parts)

    def holds(self, stats: WindowStats) -> bool:
        return (
            stats.negatives >= self.min_negatives
            and stats.negative_share >= self.min_negative_share
            and stats.high_risk >= self.min_high_risk
        )


# A first calibration (see docs/architecture.md): red is a large negative wave that has reached
# several influential voices; orange a sizeable one that has reached some.
DEFAULT_RULES: tuple[LevelRule, ...] = (
    LevelRule(Level.RED, min_negatives=60, min_negative_share=0.6, min_high_risk=5),
    LevelRule(Level.ORANGE, min_negatives=25, min_negative_share=0.5, min_high_risk=2),
    LevelRule(Level.YELLOW, min_negatives=10, min_negative_share=0.4),
    LevelRule(Level.BLUE, min_negatives=3, min_negative_share=0.1),
)


class InvalidThresholds(ValueError):
    pass


def rules_from_overrides(overrides: Mapping[str, Mapping[str, float]]) -> tuple[LevelRule, ...]:
    """The default rules with per-level overrides, e.g. {"red": {"min_negatives": 100}}."""
    by_level = {rule.level: rule for rule in DEFAULT_RULES}
    for name, fields in overrides.items():
        try:
            level = Level(name)
        except ValueError:
            raise InvalidThresholds(
                f"unknown level {name!r}; expected one of {[lv.value for lv in LEVELS]}"
            ) from None
        unknown = set(fields) - {"min_negatives", "min_negative_share", "min_high_risk"}
        if unknown:
            raise InvalidThresholds(f"unknown threshold(s) {sorted(unknown)} for level {name}")
        cast = {k: (float(v) if k == "min_negative_share" else int(v)) for k, v in fields.items()}
        by_level[level] = replace(by_level[level], **cast)
    rules = tuple(sorted(by_level.values(), key=lambda r: r.level.rank, reverse=True))
    return rules


@dataclass(frozen=True)
class LevelDecision:
    level: Level | None
    reason: str


def decide_level(stats: WindowStats, rules: tuple[LevelRule, ...] = DEFAULT_RULES) -> LevelDecision:
    """The most severe level whose rule holds, with the numbers that made it hold."""
    for rule in rules:  # most severe first
        if rule.holds(stats):
            return LevelDecision(rule.level, rule.explain(stats))
    lowest = rules[-1]
    return LevelDecision(None, "below " + lowest.explain(stats))
