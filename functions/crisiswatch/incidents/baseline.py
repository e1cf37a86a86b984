"""A watch's normal: expected mentions, negatives and engagement per hour, learnt from its history.

The model is multiplicative and seasonal, kept as a few dozen numbers (one small item per watch):

    expected(hour) = slot[China hour of day] x weekday factor[China weekday]

- Each of the 24 hour-of-day slots is an exponentially weighted mean of that hour's counts on past
  days: a running mean for the first days, then weight `ALPHA` (about the last two to four weeks).
- The weekday factor is the ratio of that weekday's EWMA day total to the mean of all seven, used
  once every weekday has been seen twice (1 before).
- Robust to past incidents: an hour is winsorized to `CLIP_SD` standard deviations above its
  expectation before it is learnt, so a crisis moves the normal, and the dispersion, by a bounded
  step (a real, lasting rise is still learnt, over days).
- The dispersion `phi` (variance / mean of hourly counts about their expectation, at least 1) says
  how clumpy the watch's chatter is; the surprise test widens its band by it.
- A watch with less than `WARM_HOURS` of history is cold: its expectation is at least
  `COLD_FLOOR_PER_HOUR` and its dispersion at least `COLD_PHI`, conservative floors until it knows
  better.

Hours are folded in once they are complete (`fold`), from the watch's 5-minute buckets; folding is
pure and deterministic, so two scorers folding the same hour compute the same baseline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from pydantic import BaseModel, ConfigDict, Field

from crisiswatch.incidents.policy import WindowStats

CHINA = timezone(timedelta(hours=8))  # no daylight saving time
ALPHA = 1 / 14  # weight of a new day in its hour-of-day slot once past the running-mean phase
WEEK_ALPHA = 1 / 3  # weight of a new week in its weekday total
PHI_ALPHA = 1 / 168  # weight of an hour in the dispersion (about a week of hours)
CLIP_SD = 4.0  # an hour counts at most this many standard deviations above its expectation
CLIP_SLACK = 3.0
WARM_HOURS = 72  # three days of history before the learnt normal is trusted alone
COLD_FLOOR_PER_HOUR = 6.0  # a cold watch expects at least one post every 10 minutes
COLD_PHI = 1.0  # the floor is the conservative part; the dispersion is learnt
MIN_RATE_PER_HOUR = 0.5  # even a warm, thin watch: no expectation of exactly zero
MAX_PHI = 25.0
MAX_CATCH_UP_HOURS = 28 * 24  # a watch silent for longer starts its folding afresh from the buckets kept


class Baseline(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    through: datetime | None = None  # folded up to (exclusive): an hour boundary, UTC
    hours: int = 0  # hours of history folded in
    mentions: list[float] = Field(default_factory=lambda: [0.0] * 24)
    negatives: list[float] = Field(default_factory=lambda: [0.0] * 24)
    engagement: list[float] = Field(default_factory=lambda: [0.0] * 24)
    slot_days: list[int] = Field(default_factory=lambda: [0] * 24)  # days each slot has learnt
    weekday_totals: list[float] = Field(default_factory=lambda: [0.0] * 7)
    weekday_weeks: list[int] = Field(default_factory=lambda: [0] * 7)
    day_total: float = 0.0  # mentions of the China day being folded, so far
    day_hours: int = 0  # ... and its hours folded (a day learnt for its weekday only when complete)
    phi: float = 1.0

    @property
    def warm(self) -> bool:
        return self.hours >= WARM_HOURS


def china_slot(moment: datetime) -> tuple[int, int]:
    """(hour of day, weekday) in China time."""
    local = moment.astimezone(CHINA)
    return local.hour, local.weekday()


WEEKDAY_FACTOR_RANGE = (0.25, 4.0)  # a weekday is never taken for less than a quarter of the mean day


def weekday_factor(baseline: Baseline, weekday: int) -> float:
    if min(baseline.weekday_weeks) < 2:
        return 1.0
    mean = sum(baseline.weekday_totals) / 7
    if mean <= 0:
        return 1.0
    low, high = WEEKDAY_FACTOR_RANGE
    return min(high, max(low, baseline.weekday_totals[weekday] / mean))


@dataclass(frozen=True)
class Expected:
    """What an ordinary hour of this watch holds at a given moment."""

    mentions_per_hour: float
    negatives_per_hour: float
    engagement_per_hour: float
    phi: float
    warm: bool
    history_hours: int

    @property
    def negative_share(self) -> float:
        return self.negatives_per_hour / self.mentions_per_hour if self.mentions_per_hour else 0.0


def _learnt(baseline: Baseline, moment: datetime) -> tuple[float, float, float]:
    hour, weekday = china_slot(moment)
    factor = weekday_factor(baseline, weekday)
    return (
        baseline.mentions[hour] * factor,
        baseline.negatives[hour] * factor,
        baseline.engagement[hour] * factor,
    )


def learnt_mentions(baseline: Baseline | None, moment: datetime) -> float:
    """Posts per hour the watch's own history says for this hour, with no floor."""
    return _learnt(baseline or Baseline(), moment)[0]


def expected(baseline: Baseline | None, moment: datetime) -> Expected:
    baseline = baseline or Baseline()
    mentions, negatives, engagement = _learnt(baseline, moment)
    if baseline.warm:
        floor, phi = MIN_RATE_PER_HOUR, max(1.0, baseline.phi)
    else:
        floor, phi = COLD_FLOOR_PER_HOUR, max(COLD_PHI, baseline.phi)
    if mentions < floor:
        # Keep the learnt negative share (or a fifth, knowing nothing) at the floor's volume.
        share = negatives / mentions if mentions > 0 else 0.2
        mentions, negatives = floor, floor * share
    return Expected(
        mentions_per_hour=mentions,
        negatives_per_hour=negatives,
        engagement_per_hour=engagement,
        phi=min(phi, MAX_PHI),
        warm=baseline.warm,
        history_hours=baseline.hours,
    )


def _ewma(current: float, value: float, days: int, alpha: float) -> float:
    weight = max(1.0 / (days + 1), alpha)  # a running mean until 1/(days+1) falls below alpha
    return current + weight * (value - current)


def _clipped(value: float, expectation: float, phi: float) -> float:
    expectation = max(expectation, MIN_RATE_PER_HOUR)
    return min(value, expectation + CLIP_SD * math.sqrt(max(phi, 1.0) * expectation) + CLIP_SLACK)


def fold(baseline: Baseline | None, hour_start: datetime, counts: WindowStats) -> Baseline:
    """The baseline after learning one complete hour (its counts: the sum of its buckets)."""
    baseline = baseline or Baseline()
    hour, weekday = china_slot(hour_start)
    learnt_mentions, learnt_negatives, learnt_engagement = _learnt(baseline, hour_start)
    known = baseline.slot_days[hour] > 0
    # Before a slot has any history its expectation is unknown: nothing to clip against.
    phi_now = max(1.0, baseline.phi)
    x_mentions = _clipped(counts.mentions, learnt_mentions, phi_now) if known else float(counts.mentions)
    x_negatives = _clipped(counts.negatives, learnt_negatives, phi_now) if known else float(counts.negatives)
    # Engagement is heavy-tailed (one viral post): clipped at the same number of its own means.
    x_engagement = (
        min(counts.engagement, 5 * max(learnt_engagement, 1.0) + 20) if known else float(counts.engagement)
    )

    phi = baseline.phi
    if known and baseline.hours >= 24:
        mean = max(learnt_mentions, MIN_RATE_PER_HOUR)
        deviation = (x_mentions - learnt_mentions) ** 2 / mean
        phi = min(MAX_PHI, max(1.0, phi + PHI_ALPHA * (deviation - phi)))

    factor = weekday_factor(baseline, weekday)
    days = baseline.slot_days[hour]
    mentions, negatives, engagement = (
        list(baseline.mentions),
        list(baseline.negatives),
        list(baseline.engagement),
    )
    mentions[hour] = _ewma(mentions[hour], x_mentions / factor, days, ALPHA)
    negatives[hour] = _ewma(negatives[hour], x_negatives / factor, days, ALPHA)
    engagement[hour] = _ewma(engagement[hour], x_engagement / factor, days, ALPHA)
    slot_days = list(baseline.slot_days)
    slot_days[hour] += 1

    day_total, day_hours = baseline.day_total + x_mentions, baseline.day_hours + 1
    weekday_totals, weekday_weeks = list(baseline.weekday_totals), list(baseline.weekday_weeks)
    if hour == 23:  # the China day is over: learn its total for its weekday, if it was all seen
        if day_hours == 24:
            weekday_totals[weekday] = _ewma(
                weekday_totals[weekday], day_total, weekday_weeks[weekday], WEEK_ALPHA
            )
            weekday_weeks[weekday] += 1
        day_total, day_hours = 0.0, 0
    return Baseline(
        through=hour_start.astimezone(UTC) + timedelta(hours=1),
        hours=baseline.hours + 1,
        mentions=mentions,
        negatives=negatives,
        engagement=engagement,
        slot_days=slot_days,
        weekday_totals=weekday_totals,
        weekday_weeks=weekday_weeks,
        day_total=day_total,
        day_hours=day_hours,
        phi=phi,
    )


def hours_to_fold(baseline: Baseline | None, now: datetime, first_seen: datetime | None) -> list[datetime]:
    """The complete hours not yet folded in, oldest first (none before the watch's first bucket)."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = baseline.through if baseline and baseline.through else first_seen
    if start is None:
        return []
    start = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    start = max(start, current - timedelta(hours=MAX_CATCH_UP_HOURS))
    hours = []
    while start < current:
        hours.append(start)
        start += timedelta(hours=1)
    return hours
