"""`crisiswatch eval detection`: recorded cascades through the real detection path, in memory.

    crisiswatch eval detection --events E.csv.gz --posts P.csv.gz [--event-ids ID,...]
        [--background B.csv.gz --background-rate N --warmup-days W] [--seed S] [--workers K]
        --out alerts.jsonl
    crisiswatch eval detection --chatter-only --days D --background B.csv.gz --background-rate N
        [--warmup-days W] [--watches M] --out alerts.jsonl

Each cascade is the story of one watch that matches every post of it. Every 2 simulated minutes
(the Weibo schedule) the watch's new posts reach the scorer's own service (`Intake`: score, story,
store once, the watch's baseline and surprise, levels, incidents) on the in-memory adapters, in the
posts queue's batches of 25, as Weibo search returns them:
- newest first, at most FETCH_MAX_PAGES pages of 10 per tick (a busier tick loses its oldest posts,
  as the fetcher would), and with each repost the original it embeds, at its counts of the moment
  (so engagement growth is seen as the fetcher sees it);
- texts as `crisiswatch replay` serves them (infra/local/simulator/cascades.py: `//@` chains,
  "转发微博" for empty reposts); what the fetcher's overlap re-reads is left out: those duplicates
  change no counter (tests/contract), and the replay test checks that both give the same alerts.

The background is ordinary chatter: posts sampled from B (CED posts layout, see
tools/evaluation/background.py), re-timed as a Poisson stream of N posts a day with Weibo's daily
cycle (`DAILY_CYCLE`), from W days before the cascade. The warm-up days reach the watch's counters
as the sums `Intake` would store for them (`MemoryPostRepository.add_counts`), without storing each
post: the baseline only reads counters, and this keeps a 14-day warm-up to milliseconds.

A cascade's first `--hours` (24) are played tick by tick, post by post through `Intake`, from 10
minutes before each of its posts to an hour after it; between those stretches only chatter happens,
and it reaches the counters as in the warm-up (then the quiet sweep runs). An alert is every moment
a notification would go out: an incident opens or its level rises (quiet hours play no part in
detection). Onset, the 15-minute and 60-minute figures: `summarize_cascades`; docs/detection.md.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing
import os
import random
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

DAY = 86400
TICK = 120
PLAY_BEFORE_TICKS, PLAY_AFTER_TICKS = 5, 30  # ticks played around each cascade post
PAGE_SIZE = 10
# Weibo's activity by China hour of day (relative; mean 1): quiet at night, peaks at noon and 21-23.
_CYCLE = [
    0.55,
    0.35,
    0.22,
    0.15,
    0.12,
    0.15,
    0.3,
    0.6,
    0.9,
    1.1,
    1.2,
    1.3,
    1.35,
    1.2,
    1.15,
    1.2,
    1.2,
    1.15,
    1.15,
    1.3,
    1.5,
    1.65,
    1.6,
    1.05,
]
DAILY_CYCLE = [c * 24 / sum(_CYCLE) for c in _CYCLE]
ONSET_POSTS, ONSET_WINDOW = 50, 3600
BIG_CASCADE = 500
CHINA_OFFSET = 8 * 3600


def onset_of(times: Sequence[int]) -> int | None:
    """The first post (epoch seconds) at which the trailing 60 minutes hold ONSET_POSTS posts."""
    ordered = sorted(times)
    j = 0
    for i, t in enumerate(ordered):
        while ordered[j] <= t - ONSET_WINDOW:
            j += 1
        if i - j + 1 >= ONSET_POSTS:
            return t
    return None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, _china()).isoformat()


def _china():
    from infra.local.simulator.cascades import CHINA_TZ

    return CHINA_TZ


# -- the background ---------------------------------------------------------------------------


@dataclass
class Background:
    """Chatter posts to sample, with each one's score-derived counts computed once per worker."""

    pool: list  # tools.evaluation.background.BackgroundPost
    rate_per_day: float

    def per_tick(self, epoch: float) -> float:
        hour = int((epoch + CHINA_OFFSET) // 3600) % 24
        return self.rate_per_day * DAILY_CYCLE[hour] * TICK / DAY


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 50:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


# -- one watch in memory ------------------------------------------------------------------------


@dataclass
class Alert:
    at: float
    level: str
    incident_id: str
    reason: str

    def to_json(self) -> dict:
        return {
            "at": _iso(self.at),
            "level": self.level,
            "incident_id": self.incident_id,
            "reason": self.reason,
        }


# Per worker process: the scorers (with their text caches, made large here: chatter repeats its
# pool's texts across cascades) and the counters each chatter post adds.
_SCORERS: dict = {}
_CHATTER_COUNTS: dict = {}
EVAL_TEXT_CACHE = 1 << 17


def _large_text_cache() -> None:
    from functools import lru_cache

    from crisiswatch.incidents import stories
    from crisiswatch.scoring import scorer

    if scorer.TEXT_CACHE != EVAL_TEXT_CACHE:
        scorer.TEXT_CACHE = EVAL_TEXT_CACHE
        stories._cached_fingerprint = lru_cache(maxsize=EVAL_TEXT_CACHE)(stories._fingerprint)


class WatchUnderTest:
    """One watch on the in-memory adapters, fed as the scorer is fed."""

    def __init__(self, watch_id: str, name: str, start: float, brand_terms: tuple[str, ...] = ()) -> None:
        from crisiswatch.clock import SimulatedClock
        from crisiswatch.vocabulary import Watch
        from infra.local.memory_runtime import memory_intake

        self.clock = SimulatedClock(datetime.fromtimestamp(start, _china()))
        # A cascade's watch matches every post of it: its scorer has no brand terms to look for
        # (crisiswatch.scoring.risk: subject 1.0), whatever its keyword is called.
        self.watch = Watch(id=watch_id, name=name, keywords=[watch_id])
        self.world = memory_intake(
            [self.watch], self.clock, brand_terms={watch_id: brand_terms}, scorers=_SCORERS
        )
        self.alerts: list[Alert] = []
        self.resolved = 0
        self.posts_in = 0

    def feed(self, now: float, posts: list) -> list:
        """One tick's posts, in batches of the queue's size; returns their scores."""
        from crisiswatch.constants import POSTS_BATCH_SIZE

        self.clock.set(datetime.fromtimestamp(now, _china()))
        for i in range(0, len(posts), POSTS_BATCH_SIZE):
            chunk = posts[i : i + POSTS_BATCH_SIZE]
            batch = self.world.intake.batch_of(chunk)
            for post in chunk:
                batch.add(post)
            assessments = batch.finish()
            if batch.failed:  # measuring detection: a watch that cannot be assessed is a bug, not noise
                raise next(iter(batch.failed.values()))
            self._record(now, assessments)
        self.posts_in += len(posts)

    def sweep(self, now: float) -> None:
        self.clock.set(datetime.fromtimestamp(now, _china()))
        changes = self.world.intake.sweep().changes
        self.resolved += sum(c.resolved for c in changes)
        for change in changes:
            if change.alerts:
                self._alert(now, change)

    def _record(self, now: float, assessments) -> None:
        for assessment in assessments:
            for change in assessment.changes:
                if change.alerts:
                    self._alert(now, change)
                self.resolved += change.resolved

    def _alert(self, now: float, change) -> None:
        incident = change.incident
        self.alerts.append(Alert(now, incident.level.value, incident.incident_id, incident.level_reason))


def _post(
    watch_id: str,
    post_id: str,
    uid: str,
    followers,
    verified_type,
    text: str,
    created: float,
    fetched: float,
    engagement=(0, 0, 0),
    repost_of: str | None = None,
):
    from crisiswatch.vocabulary import Author, Engagement, Post

    tz = _china()
    return Post(
        platform="weibo",
        post_id=post_id,
        url=f"https://m.weibo.cn/detail/{post_id}",
        author=Author(
            id=uid,
            name=f"用户{uid}",
            followers=followers,
            verified_type=verified_type if verified_type is not None else -1,
        ),
        text=text,
        created_at=datetime.fromtimestamp(created, tz),
        engagement=Engagement(reposts=engagement[0], comments=engagement[1], likes=engagement[2]),
        repost_of=repost_of,
        fetched_at=datetime.fromtimestamp(fetched, tz),
        watch_id=watch_id,
        matched_terms=[watch_id],
    )


class ChatterStream:
    """The background as posts, tick by tick, and as counters for the warm-up."""

    def __init__(self, background: Background, watch_id: str, rng: random.Random) -> None:
        self.background, self.watch_id, self.rng = background, watch_id, rng
        self._n = 0

    def _pick(self):
        return self.background.pool[self.rng.randrange(len(self.background.pool))]

    def posts(self, tick_end: float) -> list:
        count = _poisson(self.rng, self.background.per_tick(tick_end - TICK / 2))
        out = []
        for _ in range(count):
            chatter = self._pick()
            self._n += 1
            created = tick_end - self.rng.uniform(0, TICK)
            out.append(
                _post(
                    self.watch_id,
                    f"bg{self._n}",
                    chatter.uid or f"u{self._n}",
                    chatter.followers,
                    chatter.verified_type,
                    chatter.text,
                    created,
                    tick_end,
                )
            )
        return out

    def warm_up(self, watch: WatchUnderTest, start: float, end: float) -> int:
        """Counters of the chatter between start and end, as Intake would have added them."""
        from crisiswatch.incidents.policy import WindowStats, counts_of

        repository = watch.world.posts
        scorer = watch.world.intake.scorer_for(watch.watch)
        cache = _CHATTER_COUNTS  # per worker: a pool post adds the same counts to every watch
        t, n = start, 0
        while t < end:
            # Up to the next 5-minute boundary (so each step falls in one bucket), at most to `end`.
            step = min(300 - t % 300, end - t)
            count = _poisson(self.rng, self.background.per_tick(t + step / 2) * step / TICK)
            total = WindowStats()
            for _ in range(count):
                index = self.rng.randrange(len(self.background.pool))
                counts = cache.get(index)
                if counts is None:
                    chatter = self.background.pool[index]
                    post = _post(
                        self.watch_id,
                        f"w{index}",
                        chatter.uid or "u",
                        chatter.followers,
                        chatter.verified_type,
                        chatter.text,
                        t,
                        t,
                    )
                    counts = cache[index] = counts_of(post, scorer.score(post))
                total = total + counts
            if count:
                repository.add_counts(self.watch_id, datetime.fromtimestamp(t, _china()), total)
                n += count
            t += step
        return n


# -- one cascade ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    hours: float = 24
    warmup_days: float = 0
    seed: int = 7
    background_path: str | None = None
    background_rate: float = 0
    # What the scorer looks for as the brand (its risk's subject factor); none: the watch matches
    # every post of its cascade, so every post is about it.
    brand_terms: tuple[str, ...] = ()


_BACKGROUND: Background | None = None


def _background(settings: Settings) -> Background | None:
    global _BACKGROUND
    if settings.background_path and _BACKGROUND is None:
        from tools.evaluation.background import read_background

        _BACKGROUND = Background(read_background(Path(settings.background_path)), settings.background_rate)
    return _BACKGROUND


def evaluate_cascade(event, rows: list, settings: Settings) -> dict:
    from crisiswatch.constants import FETCH_MAX_PAGES
    from infra.local.simulator.cascades import ReplayScenario

    _large_text_cache()

    scenario = ReplayScenario.build([event], rows)
    first = scenario.posts[0].time_epoch
    cascade = [p for p in scenario.posts if p.time_epoch - first <= settings.hours * 3600]  # oldest first
    onset = onset_of([p.time_epoch for p in cascade])
    by_tick: dict[int, list] = {}
    for p in cascade:
        by_tick.setdefault(scenario.tick_of(p.time_epoch), []).append(p)
    # The ticks played one by one: from a little before each cascade post to an hour after it.
    # Between them only chatter happens; it reaches the counters as in the warm-up.
    played = sorted(
        {t for tick in by_tick for t in range(tick - PLAY_BEFORE_TICKS, tick + PLAY_AFTER_TICKS + 1)}
    )
    watch_id = "cascade"
    start = scenario.now_at(played[0] - 1)
    watch = WatchUnderTest(watch_id, f"CED {event.event_id}", start, settings.brand_terms)
    rng = random.Random(f"{settings.seed}-{event.event_id}")
    background = _background(settings)
    chatter = ChatterStream(background, watch_id, rng) if background else None
    if chatter and settings.warmup_days:
        chatter.warm_up(watch, start - settings.warmup_days * DAY, start)

    source = next((p for p in cascade if p.kind == "source"), None)
    previous, chatter_posts = played[0] - 1, 0
    for tick in played:
        tick_end = scenario.now_at(tick)
        if tick > previous + 1:  # a quiet stretch of the cascade: chatter as counters, then a sweep
            if chatter:
                chatter.warm_up(watch, scenario.now_at(previous), scenario.now_at(tick - 1))
            watch.sweep(scenario.now_at(tick - 1))
        previous = tick
        fresh = by_tick.get(tick, [])
        posts = [_cascade_post(watch_id, p, tick) for p in fresh]
        if source is not None and source.tick < tick and any(p.repost_of == source.id for p in fresh):
            posts.append(_cascade_post(watch_id, source, tick))  # embedded in the reposts, counts of now
        if chatter:
            background_posts = chatter.posts(tick_end)
            chatter_posts += len(background_posts)
            posts += background_posts
        if posts:
            posts.sort(key=lambda p: p.created_at, reverse=True)
            watch.feed(tick_end, posts[: FETCH_MAX_PAGES * PAGE_SIZE])  # what the pages hold
        if tick % 5 == 0:
            watch.sweep(tick_end)
    negatives = 0
    for p in cascade:
        stored = watch.world.posts.get(f"weibo#{p.id}")
        score = stored and stored.get(f"score#{watch_id}")
        negatives += bool(score and score["negative"] >= 0.5)
    return {
        "event_id": event.event_id,
        "label": event.label,
        "posts": len(cascade),
        "onset": _iso(onset) if onset else None,
        "negative_share": round(negatives / len(cascade), 4) if cascade else 0.0,
        "background_posts": chatter_posts,
        "played_minutes": len(played) * TICK // 60,
        "resolved": watch.resolved,
        "alerts": [a.to_json() for a in watch.alerts],
    }


def _cascade_post(watch_id: str, p, tick: int):
    """A recorded post as the Weibo adapter makes it from the search result at `tick`."""
    return _post(
        watch_id,
        p.id,
        str(p.user.id),
        p.user.followers if p.known_followers else None,
        p.user.verified_type,
        p.text,
        p.time_epoch,
        p.time_epoch,
        p.counts_at(tick),
        f"weibo#{p.repost_of}" if p.repost_of else None,
    )


def evaluate_chatter(day_count: int, settings: Settings, watch_index: int = 0) -> list[dict]:
    """The background alone for `day_count` days after the warm-up: one line per day."""
    _large_text_cache()
    background = _background(settings)
    if background is None:
        raise ValueError("--chatter-only needs --background")
    start = 1_600_000_000 - 1_600_000_000 % DAY - CHINA_OFFSET + DAY  # a China midnight (2020-09-14)
    watch_id = "chatter"
    watch = WatchUnderTest(watch_id, f"chatter {watch_index}", start)
    rng = random.Random(f"{settings.seed}-chatter-{watch_index}")
    chatter = ChatterStream(background, watch_id, rng)
    if settings.warmup_days:
        chatter.warm_up(watch, start - settings.warmup_days * DAY, start)
    lines = []
    for day in range(day_count):
        seen = len(watch.alerts)
        day_start = start + day * DAY
        for tick in range(DAY // TICK):
            tick_end = day_start + (tick + 1) * TICK
            posts = chatter.posts(tick_end)
            if posts:
                posts.sort(key=lambda p: p.created_at, reverse=True)
                watch.feed(tick_end, posts)
            if tick % 5 == 0:
                watch.sweep(tick_end)
        lines.append(
            {
                "watch": watch_index,
                "day": datetime.fromtimestamp(day_start, _china()).date().isoformat(),
                "posts": watch.posts_in,
                "alerts": [a.to_json() for a in watch.alerts[seen:]],
            }
        )
    return lines


# -- the figures -------------------------------------------------------------------------------

LEVEL_RANK = {"blue": 0, "yellow": 1, "orange": 2, "red": 3}


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(math.ceil(q * len(ordered))) - 1)]


def summarize_cascades(lines: list[dict]) -> dict:
    """Alerted within 15 minutes of onset (earlier alerts count), latency, levels reached."""
    big = [line for line in lines if line["posts"] > BIG_CASCADE and line["onset"]]
    latencies, within, highest = [], 0, {"none": 0, "blue": 0, "yellow": 0, "orange": 0, "red": 0}
    negative_big, orange_in_60 = 0, 0
    for line in big:
        onset = datetime.fromisoformat(line["onset"])
        alerts = [(datetime.fromisoformat(a["at"]), a["level"]) for a in line["alerts"]]
        if alerts:
            latency = (min(at for at, _ in alerts) - onset).total_seconds() / 60
            latencies.append(latency)
            within += latency <= 15
        top = max((LEVEL_RANK[level] for _, level in alerts), default=-1)
        highest[["none", "blue", "yellow", "orange", "red"][top + 1]] += 1
        if line["negative_share"] >= 0.4:
            negative_big += 1
            orange_in_60 += any(
                LEVEL_RANK[level] >= 2 and (at - onset).total_seconds() <= 3600 for at, level in alerts
            )
    alerted_any = [line for line in lines if line["alerts"]]
    return {
        "cascades": len(lines),
        "big_cascades": len(big),
        "alerted_within_15_min": round(within / len(big), 4) if big else None,
        "latency_median_min": _percentile([max(0.0, x) for x in latencies], 0.5),
        "latency_p90_min": _percentile([max(0.0, x) for x in latencies], 0.9),
        "highest_level_big": highest,
        "negative_big_cascades": negative_big,
        "orange_within_60_min": round(orange_in_60 / negative_big, 4) if negative_big else None,
        "cascades_alerted_any_size": len(alerted_any),
        "small_cascades_alerted": sum(1 for line in alerted_any if line["posts"] <= BIG_CASCADE),
    }


def summarize_chatter(lines: list[dict]) -> dict:
    days = len(lines)
    alerts = sum(len(line["alerts"]) for line in lines)
    levels = {}
    for line in lines:
        for alert in line["alerts"]:
            levels[alert["level"]] = levels.get(alert["level"], 0) + 1
    return {
        "watch_days": days,
        "alerts": alerts,
        "alerts_per_watch_week": round(alerts / days * 7, 3) if days else None,
        "levels": levels,
    }


# -- the command -------------------------------------------------------------------------------


def _cascades(events_path: str, posts_path: str, event_ids, hours: float) -> Iterator[tuple]:
    """(event, its rows) for every selected event, streamed from the posts file."""
    from infra.local.simulator.cascades import read_events, read_posts, select_events

    events = select_events(read_events(events_path), event_ids=event_ids)
    by_id = {e.event_id: e for e in events}
    current, rows = None, []
    for row in read_posts(posts_path, events, hours=hours):
        if row.event_id != current:
            if current is not None:
                yield by_id[current], rows
            current, rows = row.event_id, []
        rows.append(row)
    if current is not None:
        yield by_id[current], rows


def _work(job: tuple) -> dict:
    event, rows, settings = job
    return evaluate_cascade(event, rows, settings)


def _chatter_work(job: tuple) -> list[dict]:
    days, settings, index = job
    return evaluate_chatter(days, settings, index)


class Progress:
    def __init__(self, total: int, what: str, stream=sys.stderr) -> None:
        self.total, self.what, self.stream, self.done, self.started = total, what, stream, 0, time.monotonic()

    def step(self, n: int = 1) -> None:
        self.done += n
        elapsed = time.monotonic() - self.started
        share = self.done / self.total if self.total else 1
        eta = elapsed / share - elapsed if share else 0
        bar = "#" * int(30 * share)
        self.stream.write(
            f"\r[{bar:<30}] {self.done}/{self.total} {self.what} {elapsed:5.0f} s, about {eta:4.0f} s left"
        )
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def run(args: argparse.Namespace) -> int:
    settings = Settings(
        hours=args.hours,
        warmup_days=args.warmup_days,
        seed=args.seed,
        background_path=args.background,
        background_rate=args.background_rate,
    )
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    started = time.monotonic()
    workers = max(1, args.workers)
    context = multiprocessing.get_context("fork")
    out = Path(args.out)
    with out.open("w", encoding="utf-8") as handle, context.Pool(workers) as pool:
        if args.chatter_only:
            jobs = [(args.days, settings, i) for i in range(args.watches)]
            progress = Progress(len(jobs), "watches")
            lines = []
            for result in pool.imap_unordered(_chatter_work, jobs):
                for line in result:
                    handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                lines += result
                progress.step()
            summary = summarize_chatter(lines)
        else:
            event_ids = [i for group in args.event_ids or [] for i in group.split(",") if i] or None
            from infra.local.simulator.cascades import read_events, select_events

            total = len(select_events(read_events(args.events), event_ids=event_ids))
            progress = Progress(total, "cascades")
            jobs = (
                (event, rows, settings)
                for event, rows in _cascades(args.events, args.posts, event_ids, args.hours)
            )
            lines = []
            for line in pool.imap_unordered(_work, jobs, chunksize=4):
                handle.write(json.dumps(line, ensure_ascii=False) + "\n")
                lines.append(line)
                progress.step()
            summary = summarize_cascades(lines)
        summary |= {
            "background_rate": settings.background_rate if settings.background_path else 0,
            "warmup_days": settings.warmup_days,
            "seed": settings.seed,
            "workers": workers,
            "seconds": round(time.monotonic() - started, 1),
        }
        handle.write(json.dumps({"summary": summary}, ensure_ascii=False) + "\n")
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def register(eval_subparsers) -> None:
    cmd = eval_subparsers.add_parser(
        "detection",
        help="recorded cascades (CED layout) through the real detection path, in memory",
        description="Recorded cascades through the scorer's own services on the in-memory adapters "
        "(see docs/detection.md).",
    )
    cmd.add_argument("--events", metavar="E.csv.gz", help="the CED events file")
    cmd.add_argument(
        "--posts",
        metavar="P.csv.gz",
        help="the CED posts file (optionally with user_followers, user_verified_type)",
    )
    cmd.add_argument("--event-ids", action="append", metavar="ID[,ID...]", help="only these events")
    cmd.add_argument("--background", metavar="B.csv.gz", help="chatter to sample (CED posts layout)")
    cmd.add_argument("--background-rate", type=float, default=0, metavar="N", help="chatter posts a day")
    cmd.add_argument(
        "--warmup-days", type=float, default=0, metavar="W", help="days of chatter before the cascade"
    )
    cmd.add_argument(
        "--hours", type=float, default=24, metavar="H", help="each cascade's first H hours (default 24)"
    )
    cmd.add_argument("--chatter-only", action="store_true", help="play the background alone")
    cmd.add_argument("--days", type=int, default=7, metavar="D", help="with --chatter-only: days to play")
    cmd.add_argument(
        "--watches", type=int, default=1, metavar="M", help="with --chatter-only: independent watches"
    )
    cmd.add_argument("--seed", type=int, default=7, metavar="S")
    cmd.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="K")
    cmd.add_argument("--out", required=True, metavar="alerts.jsonl")

    def _run(args: argparse.Namespace) -> int:
        if args.chatter_only:
            if not args.background or not args.background_rate:
                cmd.error("--chatter-only needs --background and --background-rate")
        elif not args.events or not args.posts:
            cmd.error("--events and --posts are required (or --chatter-only)")
        return run(args)

    cmd.set_defaults(func=_run)
