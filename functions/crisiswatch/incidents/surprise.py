"""How surprising a count is against its expectation: short windows read against the baseline.

Surprise is -log10 of the chance that an ordinary window holds at least the observed count: 5
means "one window in 100,000 of an ordinary day holds this much". The count is quasi-Poisson: its
variance is phi x its mean, phi being the watch's learnt dispersion (1 is Poisson). The tail is a
Poisson tail in units of phi posts, P(X >= n/phi) for X ~ Poisson(mean/phi), continuous in n (the
regularized lower incomplete gamma function P(n/phi, mean/phi)). So:

- a window that holds what is expected is not surprising (about 0.3);
- for the same count, a higher expectation is never more surprising (a burst on a quieter watch is
  never less surprising than the same burst on a busier one);
- scaling a watch's whole stream (its history, hence its learnt mean and dispersion, and the burst)
  by any factor leaves the surprise unchanged: n/phi and mean/phi do not move.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from crisiswatch.incidents.baseline import Expected
from crisiswatch.incidents.policy import BUCKET_MINUTES, WindowStats, bucket_start

WINDOWS_MINUTES = (10, 30, 60)
MAX_SURPRISE = 99.0
_LN10 = math.log(10)


def tail_surprise(observed: float, mean: float, phi: float = 1.0) -> float:
    """-log10 P(n/phi, mean/phi) (see the module docstring); 0 within a standard deviation of the mean."""
    phi = max(phi, 1.0)
    if mean <= 0:
        return MAX_SURPRISE if observed > 0 else 0.0
    if observed - mean < math.sqrt(phi * mean):  # not surprising at all: skip the series
        return 0.0
    a, x = observed / phi, mean / phi
    # P(a, x) = x^a e^-x / Gamma(a + 1) x sum_k x^k / ((a + 1) ... (a + k)); every ratio is x / (a + k) < 1.
    log_first = a * math.log(x) - x - math.lgamma(a + 1)
    total, term, k = 1.0, 1.0, 1
    while k < 100_000:
        term *= x / (a + k)
        total += term
        if term < 1e-6 * total:
            break
        k += 1
    return min(MAX_SURPRISE, max(0.0, -(log_first + math.log(total)) / _LN10))


@dataclass(frozen=True)
class Reading:
    """One short window of one watch (or story) against the watch's normal."""

    minutes: int  # the nominal window
    covered_minutes: float  # what its buckets really span (the current bucket is partial)
    stats: WindowStats
    expected_mentions: float
    expected_negatives: float
    expected_engagement: float
    surprise: float  # of the mentions
    negative_surprise: float

    @property
    def ratio(self) -> float:
        return self.stats.mentions / self.expected_mentions if self.expected_mentions else math.inf

    @property
    def excess(self) -> float:
        return max(0.0, self.stats.mentions - self.expected_mentions)


def window_start(now: datetime, minutes: int) -> datetime:
    """The start of the first bucket a `minutes` window ending at `now` overlaps."""
    return bucket_start(now - timedelta(minutes=minutes) + timedelta(microseconds=1))


def sums_since(
    buckets: Sequence[tuple[datetime, WindowStats]], starts: Sequence[datetime]
) -> list[WindowStats]:
    """For each start, the sum of the buckets at or after it: one pass over the buckets (oldest
    first), newest to oldest."""
    order = sorted(range(len(starts)), key=lambda i: starts[i], reverse=True)
    sums: list[WindowStats] = [WindowStats()] * len(starts)
    acc = [0, 0, 0, 0.0, 0, 0, 0, 0]
    position = len(buckets) - 1
    for i in order:
        while position >= 0 and buckets[position][0] >= starts[i]:
            s = buckets[position][1]
            acc[0] += s.mentions
            acc[1] += s.negatives
            acc[2] += s.high_risk
            acc[3] += s.risk_sum
            acc[4] += s.reach
            acc[5] += s.unknown_reach
            acc[6] += s.influential
            acc[7] += s.engagement
            position -= 1
        sums[i] = WindowStats(*acc)  # type: ignore[arg-type]
    return sums


def _integral(
    normal_at: Callable[[datetime], Expected], start: datetime, end: datetime
) -> tuple[float, float, float]:
    """Expected (mentions, negatives, engagement) between start and end: each hour at its own
    rate (a window across 23:00-00:00 expects each hour's own share, not the later one's)."""
    mentions = negatives = engagement = 0.0
    moment = start
    while moment < end:
        boundary = min(end, moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1))
        hours = (boundary - moment).total_seconds() / 3600
        rate = normal_at(moment)
        mentions += rate.mentions_per_hour * hours
        negatives += rate.negatives_per_hour * hours
        engagement += rate.engagement_per_hour * hours
        moment = boundary
    return mentions, negatives, engagement


def read_windows(
    buckets: Sequence[tuple[datetime, WindowStats]],
    now: datetime,
    normal_at: Callable[[datetime], Expected],
    windows: Sequence[int] = WINDOWS_MINUTES,
) -> list[Reading]:
    """Each window's counts (sums of the watch's buckets) against what the normal expects of it,
    hour by hour (`normal_at`: the watch's expectation at a moment)."""
    now = now.astimezone(UTC)
    phi = normal_at(now).phi
    readings = []
    starts = [window_start(now, minutes) for minutes in windows]
    for minutes, start, stats in zip(windows, starts, sums_since(buckets, starts), strict=True):
        covered = max((now - start).total_seconds() / 60, BUCKET_MINUTES / 5)
        hours = covered / 60
        mean, mean_negatives, mean_engagement = _integral(normal_at, now - timedelta(minutes=covered), now)
        readings.append(
            Reading(
                minutes=minutes,
                covered_minutes=covered,
                stats=stats,
                expected_mentions=mean,
                expected_negatives=mean_negatives,
                expected_engagement=mean_engagement,
                surprise=tail_surprise(stats.mentions, mean, phi),
                negative_surprise=tail_surprise(stats.negatives, max(mean_negatives, 0.2 * hours), phi),
            )
        )
    return readings
