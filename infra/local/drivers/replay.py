"""`crisiswatch replay`: recorded Weibo cascades (THU CED) through the whole local loop.

    crisiswatch replay --events events.csv.gz --posts posts.csv.gz --speed 600 --events-limit 20

The platform simulator serves the selected cascades as Weibo search results over simulated time
(``infra/local/simulator/cascades.py``); every schedule tick (2 simulated minutes, the template's
EventBridge rate) runs scheduler -> fetcher -> scorer on the embedded local AWS, as the demo does,
and prints what was fetched, stored and alerted. One watch follows ``--keywords`` (by default the
nouns that most of the selected source posts share).

Time. Every function's wiring takes its clock (``crisiswatch.wiring``); here they all run on the
*simulated* clock (the recording's own time, e.g. 2012-09-11 11:36 +08:00), moved tick by tick,
and the simulator serves ``created_at`` relative to the same simulated now ("N分钟前" = simulated age). Parsed times
are then the recorded times, the scorer's 6-hour window, the hourly buckets, the fetch cursor and
overlap, incident history and deadlines are all in simulated time, whatever ``--speed`` is. Serving
ages against the real clock instead would be right only at the moment of the fetch: at ``--speed
N`` the posts stored earlier would age N times too slowly, so the window would hold N x 6 simulated
hours (everything, at ``--speed 0``), and the fetch overlap (10 real minutes) would re-read every
earlier post. What stays on the real clock: moto (queues, the state machine) and the escalation's
wait for an acknowledgement (``--ack-timeout`` wall seconds per tier).

Idle stretches are skipped: when no post appears in the next tick, the clock jumps to the tick of
the next post (printed; those ticks would only re-read old posts). ``--speed N`` paces the ticks that
run so that N simulated seconds take one wall second (never sleeping once behind); ``--speed 0``
runs as fast as it can. ``--hours`` replays only each cascade's first hours (default 24: 80% of a
cascade's reposts; its tail of single reposts over weeks would cost one tick each).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from crisiswatch.clock import SimulatedClock
from infra.local.drivers.common import SUBSCRIBERS, Printer
from infra.local.drivers.engines import Engine, open_engine
from infra.local.emulator import ACCOUNT, REGION
from infra.local.simulator import TICK_SECONDS
from infra.local.simulator.cascades import CHINA_TZ, ReplayScenario, load_replay, parse_moment

WATCH_ID = "replay"
TICK_PLATFORM = "weibo"


@dataclass
class ReplayReport:
    engine: str = "moto"
    keywords: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    ticks: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    posts_replayed: int = 0
    posts_fetched: int = 0
    posts_stored: int = 0
    duplicates: int = 0
    ticks_run: int = 0
    ticks_skipped: int = 0
    setup_seconds: float = 0.0  # synthesizing the template, provisioning the local AWS
    wall_seconds: float = 0.0  # the ticks, from the first to the last alert
    simulated_seconds: int = 0
    stage_seconds: dict = field(default_factory=dict)  # memory engine: wall seconds per consumer

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append((name, bool(ok), detail))
        return ok

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(ok for _, ok, _ in self.checks)

    @property
    def effective_speed(self) -> float:
        return self.simulated_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def to_json(self) -> dict:
        return {
            "passed": self.passed,
            "engine": self.engine,
            "checks": [{"name": n, "ok": ok, "detail": d} for n, ok, d in self.checks],
            "keywords": self.keywords,
            "events": self.events,
            "posts_replayed": self.posts_replayed,
            "posts_fetched": self.posts_fetched,
            "posts_stored": self.posts_stored,
            "duplicates": self.duplicates,
            "ticks_run": self.ticks_run,
            "ticks_skipped": self.ticks_skipped,
            "setup_seconds": round(self.setup_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "simulated_seconds": self.simulated_seconds,
            "effective_speed": round(self.effective_speed, 1),
            "posts_replayed_per_second": round(self.posts_replayed / self.wall_seconds, 1)
            if self.wall_seconds
            else 0,
            "stage_seconds": self.stage_seconds,
            "incidents": self.incidents,
            "alerts": self.alerts,
            "ticks": self.ticks,
        }


class Pacer:
    """Wall-clock pacing: ``speed`` simulated seconds take one wall second (0: no pacing). Ticks
    are scheduled from the last ``restart``; once processing is behind, nothing sleeps."""

    def __init__(
        self,
        speed: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if speed < 0:
            raise ValueError("speed must not be negative")
        self.speed, self._monotonic, self._sleep = speed, monotonic, sleep
        self.restart()

    def restart(self) -> None:
        self._origin, self._simulated = self._monotonic(), 0.0

    def wait(self, simulated_seconds: float) -> float:
        """Wait until the previous ticks' simulated time is due, then count ``simulated_seconds``
        more; returns how long it slept."""
        slept = 0.0
        if self.speed:
            ahead = self._origin + self._simulated / self.speed - self._monotonic()
            if ahead > 0:
                self._sleep(ahead)
                slept = ahead
        self._simulated += simulated_seconds
        return slept


def replay_context(keywords: list[str], weibo_base_url: str, ack_timeout: int | None) -> dict:
    context: dict = {
        "account": ACCOUNT,
        "region": REGION,
        "weiboBaseUrl": weibo_base_url,
        "watches": [
            {
                "id": WATCH_ID,
                "name": "、".join(keywords),
                "keywords": keywords,
                "exclude": [],
                "brand_terms": keywords,
            }
        ],
        "subscribers": SUBSCRIBERS,
    }
    if ack_timeout is not None:
        context["ackTimeoutSeconds"] = {
            "yellow": ack_timeout,
            "orange": ack_timeout,
            "red": max(60, ack_timeout),
        }
    return context


def _cst(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    return (f"{days} d " if days else "") + f"{hours} h {rest // 60:02d} min"


class _Loop:
    """One replay on one engine: the ticks, what they printed, the alerts seen so far."""

    def __init__(self, engine: Engine, replay: ReplayScenario, clock: SimulatedClock, say: Printer):
        self.engine, self.replay, self.clock, self.say = engine, replay, clock, say
        self.seen_alerts: set[str] = set()
        self.stored = 0
        self.failures: list[str] = []

    @property
    def epoch(self) -> float:
        return self.clock.now().timestamp()

    def new_alerts(self, incidents: list[dict], report: ReplayReport) -> None:
        for incident in incidents:
            for n in incident.get("notifications", []):
                if n["message_id"] in self.seen_alerts:
                    continue
                self.seen_alerts.add(n["message_id"])
                at = datetime.fromisoformat(n["at"]).timestamp()
                report.alerts.append({**n, "incident_id": incident["incident_id"]})
                self.say(
                    f"  ALERT {_cst(at)} tier {n['tier']:6} (level {n['level']}, {n['kind']}): {n['sms']}"
                )

    def tick(self, current: int, report: ReplayReport) -> None:
        started = time.monotonic()
        new = len(self.replay.new_at(current))
        posts, failed = self.engine.tick(TICK_PLATFORM)
        stored = self.engine.stored_posts()
        every = self.engine.incidents()
        incidents = [i for i in every if i["status"] != "resolved"]
        took = time.monotonic() - started
        report.posts_fetched += posts
        line = (
            f"{_cst(self.epoch)}  +{new:4} new, {self.replay.visible_count(current):6} visible | "
            f"fetched {posts:4}, stored +{stored - self.stored:4} | "
        )
        if incidents:
            i = max(incidents, key=lambda d: d["updated_at"])
            stats = i["stats"]
            line += (
                f"{i['level']:6} {stats['negatives']:4} neg of {stats['mentions']:4} in {stats['window_hours']} h, "
                f"{stats['high_risk']} high-risk"
            )
        else:
            line += "no incident"
        self.say(f"{line}  ({took * 1000:.0f} ms)")
        report.ticks.append(
            {
                "tick": current,
                "at": self.epoch,
                "new": new,
                "fetched": posts,
                "stored": stored - self.stored,
                "level": max((i["level"] for i in incidents), default=None, key=_rank),
                "negatives": sum(i["stats"]["negatives"] for i in incidents),
                "mentions": sum(i["stats"]["mentions"] for i in incidents),
                "wall_ms": round(took * 1000, 1),
            }
        )
        self.stored = stored
        if failed:
            self.failures.append(f"{_cst(self.epoch)}: {failed}")
        self.new_alerts(every, report)

    def settle(self, report: ReplayReport, timeout: float) -> list[dict]:
        """Wait (wall clock) for the alerts of the last level changes: escalations run async."""
        deadline = time.monotonic() + timeout
        while True:
            incidents = self.engine.incidents()
            self.new_alerts(incidents, report)
            waiting = [i for i in incidents if i["status"] != "resolved"]
            done = all(any(n["tier"] == i["level"] for n in i.get("notifications", [])) for i in waiting)
            if done or not self.engine.escalates_on_wall_clock or time.monotonic() > deadline:
                return incidents
            time.sleep(0.2)


def _rank(level: str) -> int:
    return ["blue", "yellow", "orange", "red"].index(level)


def run_replay(
    events_path: str | Path,
    posts_path: str | Path,
    speed: float = 0.0,
    *,
    event_ids: list[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    events_limit: int | None = 20,
    hours: float | None = 24.0,
    keywords: list[str] | None = None,
    ack_timeout: int | None = None,
    engine: str = "moto",
    out: TextIO = sys.stdout,
    handler_log: TextIO | None = None,
    log_level: str = "WARNING",
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayReport:
    """Replay the selected cascades through the local loop, printing to ``out``; the handlers'
    own logs go to ``handler_log`` (to ``out`` when none is given)."""
    if speed < 0:
        raise ValueError("speed must not be negative")
    with contextlib.redirect_stdout(handler_log or out):
        return _run(
            Printer(out),
            events_path,
            posts_path,
            speed,
            event_ids,
            since,
            until,
            events_limit,
            hours,
            keywords,
            ack_timeout,
            engine,
            log_level,
            sleep,
        )


def _run(
    say: Printer,
    events_path,
    posts_path,
    speed,
    event_ids,
    since,
    until,
    events_limit,
    hours,
    keywords,
    ack_timeout,
    engine,
    log_level,
    sleep,
) -> ReplayReport:
    report = ReplayReport(engine=engine)
    say.section("Reading the recording")
    loading = time.monotonic()
    replay = load_replay(
        events_path,
        posts_path,
        event_ids=event_ids,
        since=since,
        until=until,
        limit=events_limit,
        hours=hours,
    )
    report.events = [e.event_id for e in replay.events]
    report.posts_replayed = len(replay.posts)
    labels = Counter(e.label for e in replay.events)
    say(
        f"{len(replay.events)} events ({', '.join(f'{n} {label}' for label, n in sorted(labels.items()))}), "
        f"{len(replay.posts)} posts"
        + (f" (each cascade's first {hours:g} h)" if hours else "")
        + f", {_cst(replay.start)} to {_cst(replay.posts[-1].time_epoch)} CST, read in "
        f"{time.monotonic() - loading:.1f} s"
    )
    for e in replay.events:
        say(f"  {_cst(e.time_epoch)}  {e.label:9} {e.n_repost_records:5} reposts  {e.text[:50]}")
    if not keywords:
        keywords = replay.frequent_terms()
        say(f"keywords (the nouns most source posts share): {', '.join(keywords)}")
    else:
        say(f"keywords: {', '.join(keywords)}")
    if not keywords:
        report.check("keywords to watch", False, "none given and none found")
        return report
    report.keywords = keywords

    clock = SimulatedClock(datetime.fromtimestamp(replay.start, UTC))
    started = time.monotonic()
    with open_engine(
        engine, replay, clock, lambda base_url: replay_context(keywords, base_url, ack_timeout), log_level
    ) as running:
        say(f"running on the {running.describe()}")
        loop = _Loop(running, replay, clock, say)
        say.section(
            f"Replaying at {'full speed' if not speed else f'{speed:g} simulated s per wall s'} "
            "(one tick = 2 simulated minutes)"
        )
        report.setup_seconds = time.monotonic() - started
        started = time.monotonic()
        pacer = Pacer(speed, sleep=sleep)
        current = -1
        while (nxt := replay.next_tick(current)) is not None:
            if nxt > current + 1:
                if current >= 0:
                    say(f"  ... {_duration((nxt - current - 1) * TICK_SECONDS)} without new posts skipped")
                report.ticks_skipped += nxt - current - 1
                pacer.restart()  # an idle stretch is skipped, not waited for
            pacer.wait(TICK_SECONDS)
            running.simulator.advance(nxt - current)
            current = nxt
            clock.set(datetime.fromtimestamp(replay.now_at(current), UTC))
            loop.tick(current, report)
            report.ticks_run += 1
        report.simulated_seconds = replay.now_at(current) - replay.start
        report.check(
            "every fetch job and every post was processed, in every tick",
            not loop.failures,
            "; ".join(loop.failures[:5])
            + (f" and {len(loop.failures) - 5} more" if len(loop.failures) > 5 else ""),
        )
        incidents = loop.settle(report, timeout=10)
        report.wall_seconds = time.monotonic() - started
        report.posts_stored = loop.stored
        report.duplicates = report.posts_fetched - loop.stored
        report.incidents = incidents
        report.stage_seconds = running.stage_seconds()
        _summary(say, report, incidents)
    return report


def _summary(say: Printer, report: ReplayReport, incidents: list[dict]) -> None:
    say.section("Summary")
    say(
        f"posts replayed {report.posts_replayed}, fetched {report.posts_fetched} "
        f"(stored {report.posts_stored}, duplicates {report.duplicates})"
    )
    say(
        f"ticks run {report.ticks_run}, idle ticks skipped {report.ticks_skipped}; simulated "
        f"{_duration(report.simulated_seconds)} in {report.wall_seconds:.1f} s wall "
        f"(+ {report.setup_seconds:.1f} s setting up): "
        f"{report.effective_speed:,.0f}x, {report.posts_replayed / max(report.wall_seconds, 1e-9):,.0f} posts "
        f"replayed per wall second"
    )
    if not incidents:
        say("no incident was opened")
    for incident in incidents:
        say(
            f"incident {incident['incident_id']}: {incident['level']}, {incident['status']} ({incident['level_reason']})"
        )
        if incident.get("resolution"):
            say(f"  resolved {incident['resolution']['at']}: {incident['resolution']['reason']}")
        for change in incident["history"]:
            at = datetime.fromisoformat(change["at"]).timestamp()
            say(f"  {_cst(at)} -> {change['level']:6} {change['reason']}")
    tiers = Counter(a["tier"] for a in report.alerts)
    say(
        f"notifications: {len(report.alerts)}"
        + (
            f" ({', '.join(f'{n} {t}' for t, n in sorted(tiers.items(), key=lambda x: _rank(x[0])))})"
            if tiers
            else ""
        )
    )
    failed = [c for c in report.checks if not c[1]]
    say(f"{'every tick processed' if not failed else f'{len(failed)} CHECKS FAILED'}")
    for name, _, detail in failed[:10]:
        say(f"  [FAIL] {name} ({detail})")


def run_replay_command(args: argparse.Namespace) -> int:
    """``crisiswatch replay`` (the arguments are defined in ``tools.cli``)."""
    kwargs = {
        "event_ids": [i for part in args.event_ids or [] for i in part.split(",") if i] or None,
        "since": parse_moment(args.since) if args.since else None,
        "until": parse_moment(args.until) if args.until else None,
        "events_limit": args.events_limit or None,
        "hours": args.hours or None,
        "keywords": [k for part in args.keywords or [] for k in part.split(",") if k] or None,
        "ack_timeout": args.ack_timeout,
        "engine": args.engine,
    }
    if args.verbose:
        report = run_replay(args.events, args.posts, args.speed, log_level="INFO", **kwargs)
    else:
        with tempfile.NamedTemporaryFile(
            "w", prefix="crisiswatch-replay-", suffix=".log", delete=False
        ) as log:
            report = run_replay(args.events, args.posts, args.speed, handler_log=log, **kwargs)
        print(f"(the handlers' own logs are in {log.name}; --verbose shows them inline)")
    if args.report:
        Path(args.report).write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1))
    return 0 if report.passed else 1
