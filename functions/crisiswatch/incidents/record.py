"""The incident record as analysts see it (the API returns it; the store persists it)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from crisiswatch.vocabulary import Level

Status = Literal["open", "acknowledged", "resolved"]
# Written only by their own atomic writes (IncidentRepository.record_notification, .acknowledge,
# .set_clocks): an update made from an earlier read never puts them back as they were then, or a
# notification sent or a statement recorded meanwhile would be lost (acknowledgements also bump the
# version; notifications and clocks do not: clocks have their own `clocks_version`).
WRITTEN_APART = frozenset({"notifications", "acknowledgements", "clocks", "statements", "clocks_version"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class TopPost(_Model):
    key: str
    url: str = ""
    author: str = ""
    followers: int | None = 0  # None: unknown (not zero)
    verified_type: int = -1
    text: str
    created_at: datetime
    risk: float
    negative: float
    categories: dict[str, list[str]] = Field(default_factory=dict)
    reasons: list[str] = Field(default_factory=list)


class LevelChange(_Model):
    level: Level
    at: datetime
    reason: str


class Deadlines(_Model):
    """The crisis-PR clocks, started when the incident first reached orange or red."""

    first_statement: datetime
    detailed_statement: datetime
    progress_report: datetime


class Acknowledgement(_Model):
    by: str
    at: datetime
    level: Level
    note: str = ""
    caller: str = ""  # the IAM identity that called the API


class Notification(_Model):
    at: datetime
    level: Level  # the incident's level when it was sent
    tier: Level  # who was told: subscribers of this level (above `level` after an escalation)
    kind: str
    message_id: str
    sms: str
    subject: str
    key: str = ""  # the dedupe key (crisiswatch.escalation.delivery): a retry never sends it twice
    channel: str = "sns"  # "sns" (SMS and e-mail subscribers) or "chat:<bot name>"
    recipients: list[str] = Field(default_factory=list)  # subscriber names the publish was for


class IncidentStats(_Model):
    """The story's numbers over its last `window_hours`, and the watch's burst that raised it."""

    window_hours: int
    mentions: int
    negatives: int
    negative_share: float
    high_risk: int
    reach: int
    unknown_reach: int = 0  # posts whose author's followers are unknown
    influential: int = 0
    engagement: int = 0  # reposts + comments gained
    normal_negative_share: float = 0.0  # the watch's, at this hour
    burst_minutes: int = 0  # the watch's most surprising window ...
    burst_mentions: int = 0  # ... what it held ...
    burst_expected: float = 0.0  # ... against its normal
    surprise: float = 0.0  # -log10 of the chance of that window on an ordinary day


class Resolution(_Model):
    at: datetime
    by: str  # a person, or "crisiswatch" for a quiet incident resolved by itself
    reason: str


ClockKind = Literal["first", "detailed", "progress"]
ClockStatus = Literal["pending", "met", "missed", "met_late", "stopped"]


class Statement(_Model):
    """A public statement the team published (POST /incidents/{id}/statements)."""

    kind: ClockKind
    at: datetime
    by: str
    url: str = ""
    text: str = ""
    caller: str = ""


class ResponseClock(_Model):
    """One crisis-PR deadline: reminded `remind_at`, due `due`; a miss escalates one tier."""

    kind: ClockKind
    seq: int = 1  # progress reports count up, one clock per day
    started_at: datetime
    remind_at: datetime
    due: datetime
    status: ClockStatus = "pending"
    reminded_at: datetime | None = None
    met_at: datetime | None = None
    met_by: str = ""
    missed_at: datetime | None = None
    tier: Level  # who is reminded (and, on a miss, the tier above is told)


class TimelineEvent(_Model):
    """One entry of an incident's timeline (crisiswatch.ports.Timeline)."""

    at: datetime
    kind: Literal[
        "opened",
        "level",
        "notified",
        "notify_failed",
        "held",
        "digest",
        "reminder",
        "acknowledged",
        "statement",
        "missed",
        "resolved",
    ]
    key: str  # idempotency: the same event appended twice is stored once
    summary: str  # one line a PR manager reads
    details: dict = Field(default_factory=dict)


class Incident(_Model):
    incident_id: str
    watch_id: str
    watch_name: str
    story_id: str = ""  # the story (crisiswatch.incidents.stories) this incident follows
    status: Status = "open"
    opened_at: datetime
    updated_at: datetime
    level: Level
    level_reason: str
    history: list[LevelChange]
    escalated_level: Level | None = None
    stats: IncidentStats
    top_posts: list[TopPost] = Field(default_factory=list)
    deadlines: Deadlines | None = None
    last_active_at: datetime | None = None  # the story's last busy assessment (quiet resolve counts from it)
    resolution: Resolution | None = None
    acknowledgements: list[Acknowledgement] = Field(default_factory=list)
    notifications: list[Notification] = Field(default_factory=list)
    clocks: list[ResponseClock] = Field(default_factory=list)  # written only by IncidentRepository.set_clocks
    statements: list[Statement] = Field(default_factory=list)
    clocks_version: int = 0
    version: int = 0

    @property
    def acknowledged_level(self) -> Level | None:
        return max((a.level for a in self.acknowledgements), default=None)

    def busy_after(self, moment: datetime | None) -> bool:
        """Its story was busy after `moment` (the last busy moment of an earlier read): a quiet
        resolve decided on that read is stale."""
        return self.last_active_at is not None and (moment is None or self.last_active_at > moment)

    @property
    def needs_escalation(self) -> bool:
        return self.escalated_level is None or self.level > self.escalated_level
