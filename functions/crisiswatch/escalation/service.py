"""What the notifier and the acknowledgement API do, independent of how they are invoked."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from crisiswatch.escalation.messages import render_alert
from crisiswatch.incidents.record import Acknowledgement, Incident, Notification
from crisiswatch.ports import AlertPublisher, Clock, EscalationWorkflow, IncidentRepository
from crisiswatch.vocabulary import Level

logger = Logger(child=True)


class NotifyRequest(BaseModel):
    """What the escalation sends the notifier (see infra/constructs/escalation.py)."""

    model_config = ConfigDict(extra="forbid")
    incident_id: str
    tier: Level
    kind: Literal["alert", "unacknowledged"]
    task_token: str | None = None


@dataclass(frozen=True)
class Notifier:
    incidents: IncidentRepository
    publisher: AlertPublisher
    clock: Clock
    console_url: str = ""

    def notify(self, request: NotifyRequest) -> Notification:
        """Render the alert from the incident as it is now, publish it, and remember the wait token."""
        incident = self.incidents.get(request.incident_id)
        alert = render_alert(incident, request.tier, request.kind, self.console_url)
        message_id = self.publisher.publish(alert, request.tier)
        notification = Notification(
            at=self.clock.now(),
            level=incident.level,
            tier=request.tier,
            kind=request.kind,
            message_id=message_id,
            sms=alert.sms,
            subject=alert.subject,
        )
        self.incidents.record_notification(request.incident_id, notification, request.task_token)
        logger.info(
            "alert published",
            incident_id=request.incident_id,
            tier=request.tier.value,
            kind=request.kind,
            message_id=message_id,
        )
        return notification


def acknowledge(
    incidents: IncidentRepository,
    workflow: EscalationWorkflow,
    incident_id: str,
    by: str,
    note: str,
    clock: Clock,
    caller: str = "",
) -> tuple[Incident, int]:
    """Record who acknowledged which level, and end every escalation waiting on this incident."""
    now = clock.now()
    current = incidents.get(incident_id)
    ack = Acknowledgement(by=by, at=now, level=current.level, note=note, caller=caller)
    incident, tokens = incidents.acknowledge(incident_id, ack)
    released = workflow.release(tokens, {"acknowledged_by": by, "at": now.isoformat()})
    logger.info("incident acknowledged", incident_id=incident_id, level=ack.level.value, released=released)
    return incident, released
