"""What people do about an incident (the API) and what detection reports of it: acknowledgements,
published statements, resolution; each recorded on the incident's timeline, each stopping what it
answers (waiting escalations, a clock, every clock and escalation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from crisiswatch.escalation import clocks as clockwork
from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.escalation.service import log_event, schedule
from crisiswatch.incidents.detection import execution_name
from crisiswatch.incidents.record import (
    Acknowledgement,
    ClockKind,
    Incident,
    Resolution,
    Statement,
)
from crisiswatch.ports import (
    Clock,
    EscalationWorkflow,
    IncidentRepository,
    IncidentResolved,
    StaleIncident,
    Timeline,
    Timers,
)
from crisiswatch.vocabulary import LEVELS

logger = Logger(child=True)
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class IncidentLog:
    """The timeline entries (and the clean-up) for what detection does to an incident. The scorer
    calls it after each write; an append is idempotent by its key, so a redelivered batch adds nothing."""

    timeline: Timeline
    incidents: IncidentRepository
    timers: Timers | None = None

    def opened(self, incident: Incident) -> None:
        self._append(
            incident, "opened", "opened", f"事件开启：{incident.level.chinese} — {incident.level_reason}"
        )

    def raised(self, incident: Incident) -> None:
        self._append(
            incident,
            "level",
            f"level/{incident.level.value}",
            f"级别升至{incident.level.chinese} ({incident.level.value}) — {incident.level_reason}",
        )

    def resolved(self, incident: Incident) -> None:
        """Resolved by detection (quiet): its clocks stop and their timers go, as on a person's resolve."""
        wind_down(self.incidents, self.timers, incident)
        reason = incident.resolution.reason if incident.resolution else ""
        self._append(incident, "resolved", "resolved", f"事件结束：{reason}")

    def _append(self, incident: Incident, kind: str, key: str, summary: str) -> None:
        details = {"level": incident.level.value}
        log_event(self.timeline, incident.incident_id, incident.updated_at, kind, key, summary, details)


def wind_down(incidents: IncidentRepository, timers: Timers | None, incident: Incident) -> Incident:
    """Stop every pending clock of a resolved incident (as just stored) and cancel its timers."""
    incident_id = incident.incident_id
    for _ in range(MAX_ATTEMPTS):
        if not any(c.status == "pending" for c in incident.clocks):
            break
        try:
            incident = incidents.set_clocks(
                incident_id, clockwork.stop(incident.clocks), incident.statements, incident.clocks_version
            )
            break
        except StaleIncident:  # a notifier changed the clocks meanwhile: read them again
            incident = incidents.get(incident_id)
    if timers is not None and incident.clocks:
        timers.cancel(clockwork.all_timer_names(incident_id, incident.clocks))
    return incident


@dataclass(frozen=True)
class ResponseDesk:
    incidents: IncidentRepository
    workflow: EscalationWorkflow
    clock: Clock
    timeline: Timeline | None = None
    timers: Timers | None = None
    durations: ClockDurations = ClockDurations()

    def acknowledge(self, incident_id: str, by: str, note: str, caller: str = "") -> tuple[Incident, int]:
        """Record who acknowledged which level, and end every escalation waiting on this incident."""
        now = self.clock.now()
        current = self.incidents.get(incident_id)
        ack = Acknowledgement(by=by, at=now, level=current.level, note=note, caller=caller)
        incident, tokens = self.incidents.acknowledge(incident_id, ack)
        released = self.workflow.release(tokens, {"acknowledged_by": by, "at": now.isoformat()})
        self._log(
            incident_id,
            now,
            "acknowledged",
            f"ack/{now.isoformat()}/{by}",
            f"{by} 确认了{ack.level.chinese}预警" + (f"：{note}" if note else ""),
            {"by": by, "level": ack.level.value, "released_escalations": released},
        )
        logger.info(
            "incident acknowledged", incident_id=incident_id, level=ack.level.value, released=released
        )
        return incident, released

    def statement(
        self, incident_id: str, kind: ClockKind, by: str, url: str = "", text: str = "", caller: str = ""
    ) -> Incident:
        """Record a published statement: it meets its clock (a progress report starts the next day's)."""
        now = self.clock.now()
        statement = Statement(kind=kind, at=now, by=by, url=url, text=text, caller=caller)
        for _ in range(MAX_ATTEMPTS):
            incident = self.incidents.get(incident_id)
            if incident.status == "resolved":
                raise IncidentResolved(incident_id)
            clocks = clockwork.meet(incident.clocks, statement, self.durations)
            try:
                stored = self.incidents.set_clocks(
                    incident_id, clocks, [*incident.statements, statement], incident.clocks_version
                )
                break
            except StaleIncident:
                continue
        else:
            raise StaleIncident(incident_id)
        if self.timers is not None:
            schedule(self.timers, stored)
        met = clockwork.current(incident.clocks, kind)
        on_time = "" if met is None else ("，按时" if met.status == "pending" else "，已超时后补发")
        self._log(
            incident_id,
            now,
            "statement",
            f"statement/{kind}/{now.isoformat()}",
            f"{by} 登记{clockwork.NAMES[kind]}{on_time}" + (f"：{url}" if url else ""),
            {"kind": kind, "by": by, "url": url},
        )
        return stored

    def resolve(self, incident_id: str, by: str, summary: str) -> Incident:
        """Resolve it: clocks and escalations stop; a later rise of its story opens a new incident."""
        now = self.clock.now()
        for _ in range(MAX_ATTEMPTS):
            incident = self.incidents.get(incident_id)
            if incident.status == "resolved":
                raise IncidentResolved(incident_id)
            try:
                resolved = self.incidents.resolve(incident, Resolution(at=now, by=by, reason=summary))
                break
            except StaleIncident:
                continue
        else:
            raise StaleIncident(incident_id)
        stopped = 0
        for level in LEVELS:
            if incident.escalated_level is not None and level <= incident.escalated_level:
                stopped += self.workflow.stop(execution_name(incident, level), cause=f"resolved by {by}")
        resolved = wind_down(self.incidents, self.timers, resolved)
        self._log(
            incident_id,
            now,
            "resolved",
            "resolved",
            f"{by} 结束了事件：{summary}",
            {"by": by, "stopped_escalations": stopped},
        )
        return resolved

    def _log(self, incident_id: str, at: datetime, kind: str, key: str, summary: str, details: dict) -> None:
        log_event(self.timeline, incident_id, at, kind, key, summary, details)
