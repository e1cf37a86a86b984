"""The level policy: which numbers make a story blue, yellow, orange or red.

A level needs three things at once, each a number a PR person can check:
- surprise: the watch's mentions in its most surprising short window (10, 30 or 60 minutes) against
  its own normal for that hour (crisiswatch.incidents.baseline, .surprise);
- the story carries it: the story holds a fair part of that window's excess, so a burst elsewhere on
  the watch does not raise this story;
- the story's own numbers over its recent hours: volume, negatives, negative share above the
  watch's normal share, and for red its spread (influential or verified accounts, reach, reposts).

Every rule is a conjunction of thresholds, so a decision is always explained by quoting the numbers
that passed; `explain` writes them as the alert says them, in Chinese.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime

from crisiswatch.vocabulary import LEVELS, Level, Post, Score

BUCKET_MINUTES = 5
STORY_WINDOW_HOURS = 6
# A post's risk is content x exposure x subject (crisiswatch.scoring.risk): an ordinary complaint
# from a small account scores about 0.3; 0.5 and above takes a negative crisis post that can travel.
HIGH_RISK = 0.5
# An account whose word travels: this many followers, or verified (Weibo's blue/orange V, big V).
INFLUENTIAL_FOLLOWERS = 100_000


@dataclass(frozen=True)
class WindowStats:
    """Additive counters of one watch or story over a time window (sums of 5-minute buckets)."""

    mentions: int = 0
    negatives: int = 0
    high_risk: int = 0  # posts whose risk is at least HIGH_RISK
    risk_sum: float = 0.0
    reach: int = 0  # followers of the authors (where known)
    unknown_reach: int = 0  # posts whose author's followers are unknown (not zero)
    influential: int = 0  # posts by influential or verified accounts
    engagement: int = 0  # reposts + comments gained: at first sight, then growth between polls

    @property
    def negative_share(self) -> float:
        return self.negatives / self.mentions if self.mentions else 0.0

    @property
    def mean_risk(self) -> float:
        return self.risk_sum / self.mentions if self.mentions else 0.0

    def __add__(self, other: WindowStats) -> WindowStats:
        # Spelt out: windows add up thousands of buckets per assessment.
        return WindowStats(
            self.mentions + other.mentions,
            self.negatives + other.negatives,
            self.high_risk + other.high_risk,
            self.risk_sum + other.risk_sum,
            self.reach + other.reach,
            self.unknown_reach + other.unknown_reach,
            self.influential + other.influential,
            self.engagement + other.engagement,
        )

    def to_counters(self) -> dict[str, int | float]:
        return {f.name: getattr(self, f.name) for f in fields(WindowStats)}

    @classmethod
    def from_counters(cls, counters: Mapping[str, object]) -> WindowStats:
        values = {}
        for f in fields(WindowStats):
            raw = counters.get(f.name, 0) or 0
            values[f.name] = float(raw) if f.name == "risk_sum" else int(raw)  # type: ignore[arg-type]
        return cls(**values)


def bucket_start(moment: datetime) -> datetime:
    """The 5-minute bucket a moment falls in (UTC)."""
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % BUCKET_MINUTES, second=0, microsecond=0)


def bucket_id(moment: datetime) -> str:
    """ "yyyy-mm-ddThh:mm" of the bucket's start (string order = time order)."""
    return f"{bucket_start(moment):%Y-%m-%dT%H:%M}"


def parse_bucket_id(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)


def is_influential(followers: int | None, verified_type: int) -> bool:
    return (followers or 0) >= INFLUENTIAL_FOLLOWERS or 0 <= verified_type <= 7 or verified_type >= 200


def counts_of(post: Post, score: Score) -> WindowStats:
    """What one stored post adds to its watch's and its story's counters."""
    followers = post.author.followers
    return WindowStats(
        mentions=1,
        negatives=1 if score.is_negative else 0,
        high_risk=1 if score.risk >= HIGH_RISK else 0,
        risk_sum=round(score.risk, 4),
        reach=followers or 0,
        unknown_reach=1 if followers is None else 0,
        influential=1 if is_influential(followers, post.author.verified_type) else 0,
        engagement=post.engagement.reposts + post.engagement.comments,
    )


def engagement_growth(previous: Mapping[str, int], current: Mapping[str, int]) -> int:
    """Reposts and comments a post gained between two polls (never negative: counts get corrected)."""
    gained = sum(int(current.get(k, 0)) - int(previous.get(k, 0)) for k in ("reposts", "comments"))
    return max(0, gained)


@dataclass(frozen=True)
class LevelRule:
    level: Level
    min_surprise: float  # of the watch's mentions, in its most surprising window
    min_mentions: int  # the story's, over STORY_WINDOW_HOURS
    min_negatives: int = 0
    min_negative_share: float = 0.0
    min_negative_lift: float | None = None  # story negative share minus the watch's normal share
    needs_spread: bool = False  # influential accounts, high-risk posts, reach or reposts


# Spread (red): any one of these over the story window.
SPREAD_INFLUENTIAL = 3
SPREAD_HIGH_RISK = 5
SPREAD_REACH = 1_000_000
SPREAD_ENGAGEMENT = 2_000
# A window counts for surprise only with this many mentions, and a story carries a burst when it
# holds at least this share of the window's excess (and at least STORY_MIN_IN_WINDOW posts of it).
MIN_WINDOW_MENTIONS = 10
STORY_SHARE_OF_EXCESS = 0.25
STORY_MIN_IN_WINDOW = 5
# A story that holds this share of a burst's posts is the burst: no incident for the whole watch.
STORY_DOMINANT_SHARE = 0.5

# Calibrated on the CED cascades (docs/detection.md): blue is any burst the watch does not usually
# see; yellow one that is negative beyond the watch's normal; orange a sizeable negative story;
# red one that has also spread to influential accounts or far.
DEFAULT_RULES: tuple[LevelRule, ...] = (
    LevelRule(Level.RED, 12.0, 150, 60, 0.4, needs_spread=True),
    LevelRule(Level.ORANGE, 8.0, 50, 20, 0.35),
    LevelRule(Level.YELLOW, 5.0, 15, 8, 0.25),
    LevelRule(Level.BLUE, 5.0, 10),
)
_FIELDS = (
    "min_surprise",
    "min_mentions",
    "min_negatives",
    "min_negative_share",
    "min_negative_lift",
    "needs_spread",
)


class InvalidThresholds(ValueError):
    pass


def rules_from_overrides(overrides: Mapping[str, Mapping[str, float]]) -> tuple[LevelRule, ...]:
    """The default rules with per-level overrides, e.g. {"red": {"min_mentions": 300}}."""
    by_level = {rule.level: rule for rule in DEFAULT_RULES}
    for name, values in overrides.items():
        try:
            level = Level(name)
        except ValueError:
            raise InvalidThresholds(
                f"unknown level {name!r}; expected one of {[lv.value for lv in LEVELS]}"
            ) from None
        unknown = set(values) - set(_FIELDS)
        if unknown:
            raise InvalidThresholds(
                f"unknown threshold(s) {sorted(unknown)} for level {name}; known: {_FIELDS}"
            )
        cast = {}
        for key, value in values.items():
            if key == "needs_spread":
                cast[key] = bool(value)
            elif key in ("min_mentions", "min_negatives"):
                cast[key] = int(value)
            else:
                cast[key] = float(value)
        by_level[level] = replace(by_level[level], **cast)
    return tuple(sorted(by_level.values(), key=lambda r: r.level.rank, reverse=True))
