"""What the notifier and the acknowledgement API do, independent of how they are invoked."""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools import Logger

from crisiswatch.escalation.aws import AlertPublisher, TokenReleaser
from crisiswatch.escalation.messages import render_alert
from crisiswatch.incidents.model import Acknowledgement, Incident, Notification
from crisiswatch.models import Level
from crisiswatch.store import IncidentStore

logger = Logger(child=True)


def notify(
    store: IncidentStore,
    publisher: AlertPublisher,
    incident_id: str,
    tier: Level,
    kind: str,
    now: datetime,
    wait_token: str | None = None,
    console_url: str = "",
) -> Notification:
    """Render the alert from the incident as it is now, publish it, and remember the wait token."""
    incident = store.get(incident_id)
    alert = render_alert(incident, tier, kind, console_url)
    message_id = publisher.publish(alert, tier)
    notification = Notification(
        at=now,
        level=incident.level,
        tier=tier,
        kind=kind,
        message_id=message_id,
        sms=alert.sms,
        subject=alert.subject,
    )
    store.record_notification(incident_id, notification, wait_token)
    logger.info("alert published", incident_id=incident_id, tier=tier.value, kind=kind, message_id=message_id)
    return notification


def acknowledge(
    store: IncidentStore,
    releaser: TokenReleaser,
    incident_id: str,
    by: str,
    note: str,
    now: datetime,
    caller: str = "",
) -> tuple[Incident, int]:
    """Record who acknowledged which level, and end every escalation waiting on this incident."""
    current = store.get(incident_id)
    ack = Acknowledgement(by=by, at=now, level=current.level, note=note, caller=caller)
    incident, tokens = store.acknowledge(incident_id, ack)
    released = releaser.release(tokens, {"acknowledged_by": by, "at": now.isoformat()})
    logger.info("incident acknowledged", incident_id=incident_id, level=ack.level.value, released=released)
    return incident, released
