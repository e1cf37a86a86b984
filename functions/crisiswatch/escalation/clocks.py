"""The crisis-PR clocks: first statement, detailed statement, a progress report every day.

Pure functions over `ResponseClock` records. The clocks start from the incident's deadlines
(crisiswatch.incidents.detection sets them when the incident first reaches the watch's
`clocks_from` level); each pending clock has two timers, a reminder `remind_before` its due time
and the due time itself. A statement meets its clock; a progress report starts the next day's. A
missed clock tells the tier above its owner (docs/response.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from crisiswatch.constants import (
    DETAILED_STATEMENT_SECONDS,
    FIRST_STATEMENT_SECONDS,
    PROGRESS_REPORT_SECONDS,
    REMIND_BEFORE_SECONDS,
)
from crisiswatch.incidents.record import ClockKind, Deadlines, ResponseClock, Statement
from crisiswatch.vocabulary import Level

KINDS: tuple[ClockKind, ...] = ("first", "detailed", "progress")
NAMES = {"first": "首次声明", "detailed": "详细声明", "progress": "进展通报"}
PHASES = ("remind", "due")


@dataclass(frozen=True)
class ClockDurations:
    """Seconds from the clocks' start (settings, so tests and the demo run in seconds)."""

    first: int = FIRST_STATEMENT_SECONDS
    detailed: int = DETAILED_STATEMENT_SECONDS
    progress: int = PROGRESS_REPORT_SECONDS
    remind_before: int = REMIND_BEFORE_SECONDS

    def deadlines(self, now: datetime) -> Deadlines:
        return Deadlines(
            first_statement=now + timedelta(seconds=self.first),
            detailed_statement=now + timedelta(seconds=self.detailed),
            progress_report=now + timedelta(seconds=self.progress),
        )

    def clock(
        self, kind: ClockKind, seq: int, started: datetime, due: datetime, tier: Level
    ) -> ResponseClock:
        # Never remind before the clock starts (a short clock in tests or a late start).
        remind = max(started, due - timedelta(seconds=self.remind_before))
        return ResponseClock(kind=kind, seq=seq, started_at=started, remind_at=remind, due=due, tier=tier)


def start(
    deadlines: Deadlines,
    started: datetime,
    tier: Level,
    durations: ClockDurations,
    statements: Sequence[Statement],
) -> list[ResponseClock]:
    """The three clocks; a kind already stated (a statement made before the clocks started) is met."""
    dues = {"first": deadlines.first_statement, "detailed": deadlines.detailed_statement}
    clocks = [durations.clock(kind, 1, started, due, tier) for kind, due in dues.items()]
    clocks.append(durations.clock("progress", 1, started, deadlines.progress_report, tier))
    for statement in sorted(statements, key=lambda s: s.at):
        if statement.kind != "progress":
            clocks = meet(clocks, statement, durations)
    return clocks


def current(clocks: Sequence[ResponseClock], kind: ClockKind) -> ResponseClock | None:
    """The newest clock of this kind (progress reports have one per day)."""
    mine = [c for c in clocks if c.kind == kind]
    return max(mine, key=lambda c: c.seq) if mine else None


def _replace(clocks: Sequence[ResponseClock], new: ResponseClock) -> list[ResponseClock]:
    return [new if (c.kind, c.seq) == (new.kind, new.seq) else c for c in clocks]


def meet(
    clocks: Sequence[ResponseClock], statement: Statement, durations: ClockDurations
) -> list[ResponseClock]:
    """Record `statement` on its clock: met (or met late, when it was missed). A progress report
    also starts the next day's clock, counted from the report."""
    clock = current(clocks, statement.kind)
    if clock is None or clock.status in ("met", "met_late", "stopped"):
        return list(clocks)
    status = "met" if clock.status == "pending" else "met_late"
    met = clock.model_copy(update={"status": status, "met_at": statement.at, "met_by": statement.by})
    clocks = _replace(clocks, met)
    if statement.kind == "progress":
        due = statement.at + timedelta(seconds=durations.progress)
        clocks.append(durations.clock("progress", clock.seq + 1, statement.at, due, clock.tier))
    return clocks


def remind(clocks: Sequence[ResponseClock], clock: ResponseClock, now: datetime) -> list[ResponseClock]:
    return _replace(clocks, clock.model_copy(update={"reminded_at": now}))


def miss(
    clocks: Sequence[ResponseClock], clock: ResponseClock, now: datetime, durations: ClockDurations
) -> tuple[list[ResponseClock], Level]:
    """Mark it missed; returns the clocks and the tier now told (one above the owner, red at most).
    A missed progress report starts the next day's clock at once (still owed, one tier up)."""
    up = clock.tier.next_up() or Level.RED
    clocks = _replace(clocks, clock.model_copy(update={"status": "missed", "missed_at": now}))
    if clock.kind == "progress":
        due = clock.due + timedelta(seconds=durations.progress)
        clocks.append(durations.clock("progress", clock.seq + 1, now, due, up))
    return clocks, up


def stop(clocks: Sequence[ResponseClock]) -> list[ResponseClock]:
    return [c.model_copy(update={"status": "stopped"}) if c.status == "pending" else c for c in clocks]


def timer_name(incident_id: str, clock: ResponseClock, phase: str) -> str:
    return f"clock/{incident_id}/{clock.kind}/{clock.seq}/{phase}"


def timers(incident_id: str, clocks: Sequence[ResponseClock]) -> list[tuple[str, datetime, dict]]:
    """The wake-ups the pending clocks need: (timer name, when, payload)."""
    wanted = []
    for clock in clocks:
        if clock.status != "pending":
            continue
        phases = (
            [("due", clock.due)] if clock.reminded_at else [("remind", clock.remind_at), ("due", clock.due)]
        )
        for phase, at in phases:
            payload = {
                "kind": "clock",
                "incident_id": incident_id,
                "clock": clock.kind,
                "seq": clock.seq,
                "phase": phase,
            }
            wanted.append((timer_name(incident_id, clock, phase), at, payload))
    return wanted


def all_timer_names(incident_id: str, clocks: Sequence[ResponseClock]) -> list[str]:
    return [timer_name(incident_id, c, phase) for c in clocks for phase in PHASES]


def find(clocks: Sequence[ResponseClock], kind: str, seq: int) -> ResponseClock | None:
    return next((c for c in clocks if c.kind == kind and c.seq == seq), None)
