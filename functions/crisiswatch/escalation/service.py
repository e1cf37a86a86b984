"""What the notifier does, independent of how it is invoked: deliver an escalation's alert on every
channel of the tier (SNS subscribers, chat bots), each at most once, hold blue and yellow during
quiet hours, start the crisis-PR clocks, and act on the timers they set (reminders, missed
deadlines, digests)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, field_validator

from crisiswatch.escalation import clocks as clockwork
from crisiswatch.escalation.chat_channel import ChatChannel, ChatFailed
from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.escalation.messages import (
    Alert,
    china_hhmm,
    digest_line,
    render_alert,
    render_clock,
    render_digest,
)
from crisiswatch.escalation.routing import Routing, held_until
from crisiswatch.incidents.record import Incident, Notification, ResponseClock, TimelineEvent
from crisiswatch.ports import (
    AlertPublisher,
    Clock,
    HeldAlerts,
    IncidentRepository,
    StaleIncident,
    Timeline,
    Timers,
    WatchCatalogue,
    WatchNotFound,
)
from crisiswatch.vocabulary import Level, OnCall, TierPolicy, Watch

logger = Logger(child=True)
MAX_ATTEMPTS = 5  # re-reads when the clocks changed under us


class DeliveryFailed(Exception):
    """At least one channel of the tier did not take the alert: Step Functions retries the task
    (channels that took it are not sent again), then tells the next tier."""


class NoRecipients(Exception):
    """Nobody is on this tier: Step Functions tells the next tier."""


class NotifyRequest(BaseModel):
    """What the escalation sends the notifier (see infra/constructs/escalation.py)."""

    model_config = ConfigDict(extra="forbid")
    incident_id: str
    tier: Level
    kind: Literal["alert", "unacknowledged"]
    level: Level | None = None  # the escalation's level (its execution is one per level)
    failed_tier: Level | None = None  # set when the tier below could not be reached
    task_token: str | None = None

    @field_validator("failed_tier", mode="before")
    @classmethod
    def _none_when_empty(cls, value: object) -> object:
        return None if value == "" else value


@dataclass(frozen=True)
class Delivered:
    notifications: list[Notification]
    failures: list[str]


@dataclass(frozen=True)
class Notifier:
    incidents: IncidentRepository
    publisher: AlertPublisher
    clock: Clock
    console_url: str = ""
    watches: WatchCatalogue | None = None
    timeline: Timeline | None = None
    timers: Timers | None = None
    held: HeldAlerts | None = None
    chat: ChatChannel | None = None
    routing: Routing = field(default_factory=Routing)
    durations: ClockDurations = field(default_factory=ClockDurations)

    # -- the escalation's notify step ------------------------------------------------------------

    def notify(self, request: NotifyRequest) -> list[Notification]:
        """Tell the tier; raises DeliveryFailed (some channel failed) or NoRecipients."""
        incident = self.incidents.get(request.incident_id)
        now = self.clock.now()
        watch = self._watch(incident.watch_id)
        policy = self.routing.policy(watch, incident.watch_id)
        level = request.level or incident.level
        key = f"{level.value}/{request.tier.value}/{request.kind}"
        until = held_until(policy, request.tier, now) if request.kind == "alert" else None
        if until is not None:
            return [self._hold(incident, request, key, until, now)]
        alert = render_alert(incident, request.tier, request.kind, self.console_url)
        if request.failed_tier is not None:
            alert = _with_note(alert, f"（{request.failed_tier.chinese}层级通知失败，现通知您）")
        done = self._deliver(
            incident, policy, request.tier, request.kind, alert, key, request.task_token, now
        )
        self._start_clocks(incident, policy, now)
        if done.failures:
            raise DeliveryFailed("; ".join(done.failures))
        return done.notifications

    # -- timers ------------------------------------------------------------------------------------

    def on_timer(self, payload: Mapping[str, Any]) -> str:
        """A timer this service set is due; returns what it did (for the log and the tests)."""
        kind = payload.get("kind")
        if kind == "clock":
            return self._clock_due(
                payload["incident_id"], payload["clock"], int(payload["seq"]), payload["phase"]
            )
        if kind == "digest":
            return self._digest(payload["watch_id"], datetime.fromisoformat(payload["until"]))
        if kind == "chat_flush":
            return self._require(self.chat).flush(payload["bot"], self.clock.now())
        raise ValueError(f"unknown timer kind {kind!r}")

    def _clock_due(self, incident_id: str, kind: str, seq: int, phase: str) -> str:
        now = self.clock.now()
        for _ in range(MAX_ATTEMPTS):
            incident = self.incidents.get(incident_id)
            clock = clockwork.find(incident.clocks, kind, seq)
            if clock is None or clock.status != "pending":
                return "nothing to do"
            if incident.status == "resolved":
                self._set_clocks(incident, clockwork.stop(incident.clocks))
                return "stopped: resolved"
            policy = self.routing.policy(self._watch(incident.watch_id), incident.watch_id)
            try:
                if phase == "remind":
                    if clock.reminded_at is not None:
                        return "reminded already"
                    # Told first, then marked: a failed delivery is retried; a retry sends nothing twice.
                    self._tell_clock(incident, policy, clock, clock.tier, missed=False, now=now)
                    self._set_clocks(incident, clockwork.remind(incident.clocks, clock, now))
                    return "reminded"
                changed, up = clockwork.miss(incident.clocks, clock, now, self.durations)
                self._tell_clock(incident, policy, clock, up, missed=True, now=now)
                self._set_clocks(incident, changed)
                return f"missed: told {up.value}"
            except StaleIncident:
                continue
        raise StaleIncident(incident_id)

    def _tell_clock(
        self,
        incident: Incident,
        policy: OnCall,
        clock: ResponseClock,
        tier: Level,
        *,
        missed: bool,
        now: datetime,
    ) -> None:
        alert = render_clock(incident, clock, tier, missed, self.console_url)
        phase = "missed" if missed else "remind"
        key = f"clock/{clock.kind}/{clock.seq}/{phase}/{tier.value}"
        name = clockwork.NAMES[clock.kind]
        summary = (
            f"{name}已超时（北京时间 {china_hhmm(clock.due)} 到期），升级通知 {tier.value} 层级"
            if missed
            else f"{name}提醒已发给 {tier.value} 层级（北京时间 {china_hhmm(clock.due)} 到期）"
        )
        self._log(
            incident.incident_id,
            now,
            "missed" if missed else "reminder",
            key,
            summary,
            {
                "clock": clock.kind,
                "seq": clock.seq,
                "due": clock.due.isoformat(),
                "tier": tier.value,
            },
        )
        done = self._deliver(
            incident, policy, tier, "missed" if missed else "reminder", alert, key, None, now
        )
        if done.failures:
            raise DeliveryFailed("; ".join(done.failures))  # the timer retries (EventBridge retry policy)

    # -- quiet hours -----------------------------------------------------------------------------

    def _hold(
        self, incident: Incident, request: NotifyRequest, key: str, until: datetime, now: datetime
    ) -> Notification:
        line = digest_line(incident, request.tier)
        entry = {
            "at": now.isoformat(),
            "incident_id": incident.incident_id,
            "tier": request.tier.value,
            "line": line,
        }
        self._require(self.held).hold(incident.watch_id, until, f"{incident.incident_id}/{key}", entry)
        self._require(self.timers).set(
            f"digest/{incident.watch_id}/{until.isoformat()}",
            until,
            {"kind": "digest", "watch_id": incident.watch_id, "until": until.isoformat()},
        )
        held = Notification(
            at=now,
            level=incident.level,
            tier=request.tier,
            kind="held",
            message_id="",
            sms="",
            subject=f"held until {until.isoformat()}",
            key=f"{key}/held",
            channel="held",
        )
        self.incidents.record_notification(incident.incident_id, held, request.task_token)
        self._log(
            incident.incident_id,
            now,
            "held",
            held.key,
            f"静默时段：{request.tier.value} 级通知暂缓，北京时间 {china_hhmm(until)} 合并发送",
            {"tier": request.tier.value, "until": until.isoformat()},
        )
        return held

    def _digest(self, watch_id: str, until: datetime) -> str:
        entries = self._require(self.held).take(watch_id, until)
        if not entries:
            return "nothing held"
        now = self.clock.now()
        watch = self._watch(watch_id)
        policy = self.routing.policy(watch, watch_id)
        tiers = sorted({Level(e["tier"]) for e in entries})
        alert = render_digest(
            watch.name if watch else watch_id,
            watch_id,
            [e["line"] for e in entries],
            datetime.fromisoformat(entries[0]["at"]),
            self.console_url,
        )
        first = self.incidents.get(entries[0]["incident_id"])
        key = f"digest/{until.isoformat()}"
        # One digest to everyone any held tier would have told.
        merged = OnCall(tiers={max(tiers): _union(self.routing, policy, tiers)})
        done = self._deliver(first, merged, max(tiers), "digest", alert, key, None, now)
        for incident_id in sorted({e["incident_id"] for e in entries}):
            self._log(
                incident_id,
                now,
                "digest",
                key,
                f"静默时段结束：{len(entries)} 条暂缓通知合并发送",
                {"alerts": len(entries), "failures": done.failures},
            )
        if done.failures:
            raise DeliveryFailed("; ".join(done.failures))
        return f"digest of {len(entries)}"

    # -- delivery --------------------------------------------------------------------------------

    def _deliver(
        self,
        incident: Incident,
        policy: OnCall,
        tier: Level,
        kind: str,
        alert: Alert,
        key: str,
        token: str | None,
        now: datetime,
    ) -> Delivered:
        audience = self.routing.tier(policy, tier)
        if not audience.notify and not audience.chat:
            self._log(
                incident.incident_id,
                now,
                "notify_failed",
                f"{key}/nobody",
                f"{tier.value} 层级无人可通知",
                {"tier": tier.value},
            )
            raise NoRecipients(f"nobody is on the {tier.value} tier of watch {incident.watch_id}")
        channels: list[tuple[str, Callable[[], tuple[str, datetime | None]]]] = []
        if audience.notify:
            channels.append(
                (
                    "sns",
                    lambda: (self.publisher.publish(alert, tier, audience.notify, incident.watch_id), None),
                )
            )
        for bot in audience.chat:
            channels.append((f"chat:{bot}", lambda bot=bot: self._chat(bot, alert, incident, tier, now)))
        notifications, failures = [], []
        for channel, send in channels:
            channel_key = f"{key}/{channel}"
            claim = self.incidents.claim_notification(incident.incident_id, channel_key)
            if claim != "claimed":
                # "sent": a retry, this channel took it already. "in_flight": an earlier attempt
                # stopped between sending and recording; it may have gone out, so it is not sent
                # twice (if it did not, the acknowledgement timeout still escalates).
                if claim == "in_flight":
                    self._log(
                        incident.incident_id,
                        now,
                        "notify_failed",
                        f"{channel_key}/uncertain",
                        f"{channel} 通知 {tier.value} 层级状态不明（上次发送中断），不重发",
                        {"channel": channel, "tier": tier.value},
                    )
                if token:
                    self.incidents.remember_wait(incident.incident_id, token)
                continue
            try:
                message_id, held = send()
            except Exception as e:  # one channel failing never stops the others
                self.incidents.release_notification(incident.incident_id, channel_key)
                failures.append(f"{channel}: {type(e).__name__}: {e}")
                logger.warning(
                    "channel failed",
                    incident_id=incident.incident_id,
                    channel=channel,
                    error=type(e).__name__,
                )
                self._log(
                    incident.incident_id,
                    now,
                    "notify_failed",
                    f"{channel_key}/failed/{now.isoformat()}",
                    f"{channel} 通知 {tier.value} 层级失败：{type(e).__name__}",
                    {"channel": channel, "tier": tier.value, "error": str(e)[:300]},
                )
                continue
            recipients = audience.notify if channel == "sns" else [channel.split(":", 1)[1]]
            note = _note(incident, tier, kind, alert, channel_key, channel, message_id, recipients, now)
            self.incidents.record_notification(incident.incident_id, note, token)
            notifications.append(note)
            what = f"暂缓（限流），北京时间 {china_hhmm(held)} 合并发送" if held else f"消息 {message_id}"
            self._log(
                incident.incident_id,
                now,
                "notified",
                channel_key,
                f"{kind} 已通过 {channel} 发给 {tier.value} 层级 {len(recipients)} 个对象（{what}）",
                {
                    "channel": channel,
                    "tier": tier.value,
                    "kind": kind,
                    "recipients": len(recipients),
                    "message_id": message_id,
                },
            )
            logger.info(
                "alert sent",
                incident_id=incident.incident_id,
                channel=channel,
                tier=tier.value,
                kind=kind,
                message_id=message_id,
            )
        return Delivered(notifications, failures)

    def _chat(
        self, bot: str, alert: Alert, incident: Incident, tier: Level, now: datetime
    ) -> tuple[str, datetime | None]:
        result = self._require(self.chat).deliver(bot, alert, digest_line(incident, tier), now)
        if result.error:
            raise ChatFailed(result.error)
        return (result.message_id or ("held" if result.held_until else "")), result.held_until

    # -- clocks ----------------------------------------------------------------------------------

    def _start_clocks(self, incident: Incident, policy: OnCall, now: datetime) -> None:
        if (
            incident.deadlines is None
            or incident.clocks
            or incident.level < policy.clocks_from
            or self.timers is None
        ):
            return
        started = next((c.at for c in incident.history if c.level >= policy.clocks_from), now)
        new = clockwork.start(
            incident.deadlines, started, incident.level, self.durations, incident.statements
        )
        try:
            self._set_clocks(incident, new)
        except StaleIncident:
            return  # another notifier started them
        self._log(
            incident.incident_id,
            now,
            "level",
            "clocks/started",
            f"响应时限开始（北京时间）：首次声明 {china_hhmm(incident.deadlines.first_statement)}，"
            f"详细声明 {china_hhmm(incident.deadlines.detailed_statement)}，每日进展通报",
            {"deadlines": incident.deadlines.model_dump(mode="json")},
        )

    def _set_clocks(self, incident: Incident, new: list[ResponseClock]) -> Incident:
        stored = self.incidents.set_clocks(
            incident.incident_id, new, incident.statements, incident.clocks_version
        )
        schedule(self._require(self.timers), stored)
        return stored

    # -- helpers ---------------------------------------------------------------------------------

    def _watch(self, watch_id: str) -> Watch | None:
        if self.watches is None:
            return None
        try:
            return self.watches.get(watch_id)
        except WatchNotFound:
            return None

    def _log(self, incident_id: str, at: datetime, kind: str, key: str, summary: str, details: dict) -> None:
        log_event(self.timeline, incident_id, at, kind, key, summary, details)

    @staticmethod
    def _require(port):
        if port is None:
            raise RuntimeError("this notifier was built without the port this needs")
        return port


def log_event(
    timeline: Timeline | None,
    incident_id: str,
    at: datetime,
    kind: str,
    key: str,
    summary: str,
    details: dict,
) -> None:
    """Append one event to the incident's timeline (idempotent by `key`); no timeline: nothing."""
    if timeline is not None:
        timeline.append(
            incident_id, [TimelineEvent(at=at, kind=kind, key=key, summary=summary, details=details)]
        )


def schedule(timers: Timers, incident: Incident) -> None:
    """Set the wake-ups the incident's pending clocks need and cancel those of finished ones."""
    wanted = clockwork.timers(incident.incident_id, incident.clocks)
    for name, at, payload in wanted:
        timers.set(name, at, payload)
    finished = set(clockwork.all_timer_names(incident.incident_id, incident.clocks)) - {w[0] for w in wanted}
    if finished:
        timers.cancel(sorted(finished))


def _note(
    incident: Incident,
    tier: Level,
    kind: str,
    alert: Alert,
    key: str,
    channel: str,
    message_id: str,
    recipients: list[str],
    now: datetime,
) -> Notification:
    return Notification(
        at=now,
        level=incident.level,
        tier=tier,
        kind=kind,
        message_id=message_id,
        sms=alert.sms,
        subject=alert.subject,
        key=key,
        channel=channel,
        recipients=recipients,
    )


def _with_note(alert: Alert, note: str) -> Alert:
    return Alert(subject=alert.subject, sms=alert.sms, email=note + "\n\n" + alert.email)


def _union(routing: Routing, policy: OnCall, tiers):
    notify = sorted({n for t in tiers for n in routing.tier(policy, t).notify})
    chat = sorted({b for t in tiers for b in routing.tier(policy, t).chat})
    return TierPolicy(notify=notify, chat=chat)
