"""A watch that has gone silent: it usually sees posts, and has seen none for a while.

Silence is what the surprise test cannot see (it looks for more posts than normal, never for
none): a platform that changed its page, an expired cookie or a keyword that stopped matching
leaves a busy watch with no posts and no error. The heartbeat judges a span against the watch's
own normal, hour by hour, so a watch that is busy by day is not silent at night.

    if usually_busy(baseline, now, silent_minutes):     # cheap: no bucket read for quiet watches
        buckets = posts.buckets(watch.id, now - timedelta(minutes=silent_minutes), now)
        silent = is_silent(baseline, buckets, now, silent_minutes)

Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from crisiswatch.incidents.baseline import Baseline, learnt_mentions
from crisiswatch.incidents.policy import WindowStats

# The count of silent watches that each sweep emits (one number: per-watch dimensions would cost a
# metric per watch; the sweep's log line names the silent watches instead).
SILENT_WATCHES = "SilentWatches"
# A watch "usually sees posts" over a span when its normal expects at least this many in it: at
# that rate a span with none happens by chance less than once in 20,000 (Poisson, e^-10).
MIN_EXPECTED_POSTS = 10.0
_HOUR = timedelta(hours=1)


def expected_posts(baseline: Baseline | None, start: datetime, end: datetime) -> float:
    """The posts the watch's normal expects in [start, end), each hour at its own rate."""
    total, moment = 0.0, start
    while moment < end:
        # China is UTC+8 with no daylight saving time: its hours start on UTC hours.
        step_end = min(end, moment.replace(minute=0, second=0, microsecond=0) + _HOUR)
        # What it learnt, without the detection's floor: a watch that never sees posts is not busy.
        total += learnt_mentions(baseline, moment) * ((step_end - moment) / _HOUR)
        moment = step_end
    return total


def usually_busy(
    baseline: Baseline | None,
    now: datetime,
    silent_minutes: int,
    min_expected: float = MIN_EXPECTED_POSTS,
) -> bool:
    """Its normal is learnt (warm) and expects at least `min_expected` posts in the last
    `silent_minutes`. A cold watch's expectation is a conservative floor, not its own: never busy."""
    if baseline is None or not baseline.warm:
        return False
    return expected_posts(baseline, now - timedelta(minutes=silent_minutes), now) >= min_expected


def is_silent(
    baseline: Baseline | None,
    buckets: Sequence[tuple[datetime, WindowStats]],
    now: datetime,
    silent_minutes: int,
    min_expected: float = MIN_EXPECTED_POSTS,
) -> bool:
    """The watch usually sees posts over the last `silent_minutes` and `buckets` (its buckets of
    that span, `PostRepository.buckets`) hold none."""
    if not usually_busy(baseline, now, silent_minutes, min_expected):
        return False
    return sum(stats.mentions for _, stats in buckets) == 0
