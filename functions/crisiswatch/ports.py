"""What the domain needs from the world, as small Protocols, and the errors they raise.

Each port has two adapters that pass the same contract tests (tests/contract): one on AWS
(`crisiswatch.aws`: DynamoDB, Step Functions, SNS, SQS, Secrets Manager) and one in memory
(`crisiswatch.memory`: the replay, the evaluation and the fast tests). Domain services take ports,
never adapters, so they run the same on Lambda, on the embedded local AWS and in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from crisiswatch.escalation.messages import Alert
    from crisiswatch.incidents.policy import WindowStats
    from crisiswatch.incidents.record import Acknowledgement, Incident, Notification, Status
    from crisiswatch.vocabulary import Level, Post, Score, Watch


# -- errors the ports raise (the AWS adapters translate their service's errors into these) ---------


class StoreError(Exception):
    """Base of the domain errors a repository raises."""


class IncidentNotFound(StoreError):
    def __init__(self, incident_id: str):
        super().__init__(f"no incident {incident_id!r}")
        self.incident_id = incident_id


class IncidentAlreadyOpen(StoreError):
    """Another writer opened an incident for this watch first."""


class StaleIncident(StoreError):
    """The incident changed since it was read (optimistic locking on its version)."""


class IncidentResolved(StoreError):
    def __init__(self, incident_id: str):
        super().__init__(f"incident {incident_id!r} is resolved")
        self.incident_id = incident_id


class WatchNotFound(StoreError):
    def __init__(self, watch_id: str):
        super().__init__(f"no watch {watch_id!r}")
        self.watch_id = watch_id


class WatchExists(StoreError):
    def __init__(self, watch_id: str):
        super().__init__(f"watch {watch_id!r} exists already")
        self.watch_id = watch_id


class QueueSendError(Exception):
    """The queue refused some messages: the caller must retry its unit of work as a whole."""


# -- ports ---------------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware (UTC) current time."""
        ...


class PostRepository(Protocol):
    """Scored posts, stored once per `platform#post_id`, and each watch's additive hourly counters."""

    def save(self, post: Post, score: Score, counts: WindowStats, now: datetime) -> bool:
        """Store the post and add `counts` to its watch's bucket of the hour it was created (never
        later than `now`), both or neither. False, and no counter changed, when this watch already
        counted the post; its engagement is refreshed then (keeping the previous poll's)."""
        ...

    def window(self, watch_id: str, now: datetime, hours: int) -> WindowStats:
        """The sum of the watch's last `hours` hourly buckets, the current one included."""
        ...

    def get(self, post_key: str) -> dict[str, Any] | None:
        """The stored post as plain JSON (`post`, `watch_ids`, `score#<watch>`, ...)."""
        ...


class IncidentRepository(Protocol):
    """Incidents, each watch's open-incident pointer, and the escalations' wait tokens (kept out of
    the Incident model, so they never reach the API or the logs)."""

    def get(self, incident_id: str) -> Incident: ...  # IncidentNotFound

    def open_incident(self, watch_id: str) -> Incident | None: ...

    def list(
        self, status: Status, limit: int, cursor: str | None = None
    ) -> tuple[list[Incident], str | None]:
        """Newest first (by `opened_at`); `cursor` is the opaque value the previous page returned."""
        ...

    def create(self, incident: Incident) -> None:
        """Open it and point its watch at it; IncidentAlreadyOpen if the watch has one open."""
        ...

    def update(self, incident: Incident) -> Incident:
        """Write it if its version is still the stored one (StaleIncident otherwise); returns it
        with the version incremented. The append-only lists (record.APPEND_ONLY) are left as stored."""
        ...

    def record_notification(
        self, incident_id: str, notification: Notification, wait_token: str | None
    ) -> None: ...  # IncidentNotFound

    def acknowledge(self, incident_id: str, ack: Acknowledgement) -> tuple[Incident, list[str]]:
        """Record it and take out every stored wait token, atomically (two people acknowledging at
        once release each token once). IncidentNotFound, IncidentResolved."""
        ...

    def mark_escalated(self, incident: Incident, level: Level) -> Incident: ...  # StaleIncident


class CursorStore(Protocol):
    """Per watch and platform, the newest post time already queued: a mark that only moves forward."""

    def get(self, watch_id: str, platform: str) -> datetime | None: ...

    def advance(self, watch_id: str, platform: str, high_water: datetime, now: datetime) -> bool:
        """Move the mark forward; False (and nothing changed) if it is already at or past it."""
        ...


class WatchCatalogue(Protocol):
    def list(self) -> list[Watch]: ...

    def get(self, watch_id: str) -> Watch: ...  # WatchNotFound

    def create(self, watch: Watch, now: datetime, by: str = "") -> None: ...  # WatchExists

    def replace(self, watch: Watch, now: datetime, by: str = "") -> None: ...  # WatchNotFound

    def delete(self, watch_id: str) -> None: ...  # WatchNotFound


class EscalationWorkflow(Protocol):
    """The escalation of one incident level: notify, wait for an acknowledgement, escalate."""

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        """Start once per name. Starting a running one again (same payload) changes nothing and
        answers True, as Step Functions does; once it has ended, the name is taken: False."""
        ...

    def stop(self, name: str, cause: str) -> bool:
        """Stop a running escalation (a higher level superseded it); False if none runs."""
        ...

    def release(self, tokens: Sequence[str], output: dict[str, Any]) -> int:
        """Answer waiting escalations (an acknowledgement); returns how many still waited."""
        ...


class AlertPublisher(Protocol):
    def publish(self, alert: Alert, tier: Level) -> str:
        """One publish for the subscribers of `tier`; returns the message id."""
        ...


class Queue(Protocol):
    def send_all(self, bodies: Sequence[str]) -> int:
        """Queue every body, or raise QueueSendError (the caller then retries the whole unit)."""
        ...


class SecretReader(Protocol):
    def get(self, name: str) -> str:
        """The secret's current value (cached for a few minutes by the AWS adapter)."""
        ...
