"""The response after the alert, on the in-memory adapters and a simulated clock: the clocks fire
(reminder, miss), statements stop them, a resolve stops everything, each channel is sent once,
one failing channel never blocks another, and quiet hours hold blue and yellow for one digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from crisiswatch.clock import SimulatedClock
from crisiswatch.escalation.chat_channel import ChatResult
from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.escalation.messages import Alert
from crisiswatch.escalation.response import ResponseDesk
from crisiswatch.escalation.routing import Audience, Routing
from crisiswatch.escalation.service import DeliveryFailed, NoRecipients, Notifier, NotifyRequest
from crisiswatch.memory.held import MemoryHeldAlerts
from crisiswatch.memory.messaging import MemoryAlertPublisher
from crisiswatch.memory.store import MemoryIncidentRepository, MemoryWatchCatalogue
from crisiswatch.memory.timeline import MemoryTimeline
from crisiswatch.memory.timers import MemoryTimers
from crisiswatch.memory.workflow import MemoryWorkflow
from crisiswatch.vocabulary import Level, OnCall, QuietHours, TierPolicy
from tests.builders import incident, watch

START = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)  # 14:00 in Beijing
DURATIONS = ClockDurations(first=30 * 60, detailed=2 * 3600, progress=24 * 3600, remind_before=10 * 60)
ROUTING = Routing(
    subscribers=[
        Audience(name="analysts", levels=list(Level)),
        Audience(name="pr-duty", levels=[Level.ORANGE, Level.RED]),
        Audience(name="management", levels=[Level.RED]),
    ],
    chat_bots=[Audience(name="pr-wecom", levels=[Level.YELLOW, Level.ORANGE, Level.RED])],
    ack_timeouts={"yellow": 7200, "orange": 1800, "red": 600},
)


class FakeChat:
    """A chat channel that records what it was given and can be told to fail."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []
        self.failing = False

    def deliver(self, bot: str, alert: Alert, line: str, now: datetime) -> ChatResult:
        if self.failing:
            return ChatResult(error="unavailable: HTTP 502")
        self.sent.append((bot, alert.subject))
        return ChatResult(message_id=f"chat-{len(self.sent)}")

    def flush(self, bot: str, now: datetime) -> str:
        return "empty"


class FlakyPublisher(MemoryAlertPublisher):
    def __init__(self) -> None:
        super().__init__()
        self.failures = 0

    def publish(self, alert, tier, recipients, watch_id):
        if self.failures:
            self.failures -= 1
            raise ConnectionError("sns unreachable")
        return super().publish(alert, tier, recipients, watch_id)


class World:
    def __init__(self, oncall: OnCall | None = None, at: datetime = START, level: Level = Level.ORANGE):
        self.clock = SimulatedClock(at)
        self.incidents = MemoryIncidentRepository()
        self.publisher = FlakyPublisher()
        self.timeline = MemoryTimeline()
        self.timers = MemoryTimers(self.clock)
        self.chat = FakeChat()
        self.watches = MemoryWatchCatalogue([watch().model_copy(update={"oncall": oncall})])
        self.notifier = Notifier(
            self.incidents,
            self.publisher,
            self.clock,
            watches=self.watches,
            timeline=self.timeline,
            timers=self.timers,
            held=MemoryHeldAlerts(),
            chat=self.chat,
            routing=ROUTING,
            durations=DURATIONS,
        )
        self.workflow = MemoryWorkflow(self.notifier.notify, self.clock)
        self.desk = ResponseDesk(
            self.incidents, self.workflow, self.clock, self.timeline, self.timers, DURATIONS
        )
        opened = incident(level=level).model_copy(
            update={
                "opened_at": at,
                "updated_at": at,
                "deadlines": DURATIONS.deadlines(at) if level >= Level.ORANGE else None,
                "history": [incident(level=level).history[0].model_copy(update={"at": at})],
            }
        )
        self.incidents.create(opened)
        self.id = opened.incident_id

    def until(self, moment: datetime) -> list[str]:
        """Move the clock to `moment`, firing each timer at its own time on the way."""
        done = []
        while (pending := self.timers.pending()) and pending[0][1] <= moment:
            self.clock.set(max(self.clock.now(), pending[0][1]))
            done += [self.notifier.on_timer(payload) for _, payload in self.timers.due()]
        self.clock.set(moment)
        return done

    def events(self) -> list[str]:
        return [e.kind for e in self.timeline.page(self.id, 200)[0]]

    def sms(self) -> list[tuple[tuple[str, ...], str]]:
        return [(p.recipients, p.alert.sms) for p in self.publisher.published]


def notify(world: World, tier=Level.ORANGE, kind="alert", token=None):
    return world.notifier.notify(
        NotifyRequest(incident_id=world.id, tier=tier, kind=kind, level=Level.ORANGE, task_token=token)
    )


def test_an_orange_alert_reaches_its_tier_on_every_channel_and_starts_the_clocks():
    world = World()
    sent = notify(world)
    assert [n.channel for n in sent] == ["sns", "chat:pr-wecom"]
    assert world.publisher.published[0].recipients == ("analysts", "pr-duty")
    stored = world.incidents.get(world.id)
    assert [(c.kind, c.status) for c in stored.clocks] == [
        ("first", "pending"),
        ("detailed", "pending"),
        ("progress", "pending"),
    ]
    assert len(world.timers) == 6
    assert sorted(world.events()) == ["level", "notified", "notified"]


def test_a_reminder_goes_to_the_owning_tier_ten_minutes_before_the_first_statement():
    world = World()
    notify(world)
    assert world.until(START + timedelta(minutes=19)) == []
    assert world.until(START + timedelta(minutes=20)) == ["reminded"]
    recipients, sms = world.sms()[-1]
    assert recipients == ("analysts", "pr-duty") and sms.startswith("【首次声明提醒】") and len(sms) <= 70
    assert "reminder" in world.events()


def test_a_statement_stops_its_clock_and_a_missed_one_escalates_one_tier():
    world = World()
    notify(world)
    world.until(START + timedelta(minutes=25))
    world.desk.statement(world.id, "first", "王经理", url="https://weibo.com/123")
    world.until(START + timedelta(minutes=31))  # the first statement's due time passes quietly
    assert not any("首次声明已超时" in sms for _, sms in world.sms())
    done = world.until(START + timedelta(hours=2, minutes=1))  # nobody publishes the detailed statement
    assert done == ["reminded", "missed: told red"]
    recipients, sms = world.sms()[-1]
    assert recipients == ("analysts", "management", "pr-duty") and sms.startswith("【详细声明已超时】")
    clocks = {c.kind: c for c in world.incidents.get(world.id).clocks}
    assert (clocks["first"].status, clocks["first"].met_by) == ("met", "王经理")
    assert clocks["detailed"].status == "missed" and clocks["detailed"].missed_at is not None
    assert world.events().count("missed") == 1 and "statement" in world.events()


def test_a_progress_report_schedules_the_next_days_and_a_resolve_stops_everything():
    world = World()
    notify(world)
    world.until(START + timedelta(hours=20))
    world.desk.statement(world.id, "progress", "王经理", text="已完成整改")
    progress = [c for c in world.incidents.get(world.id).clocks if c.kind == "progress"]
    assert [(c.seq, c.status) for c in progress] == [(1, "met"), (2, "pending")]
    assert progress[1].due == START + timedelta(hours=44)
    world.until(START + timedelta(hours=21))
    resolved = world.desk.resolve(world.id, "王经理", "产品已召回，舆情平息")
    assert resolved.status == "resolved"
    assert {c.status for c in resolved.clocks} <= {"met", "missed", "stopped"}
    assert world.timers.pending() == []
    assert world.until(START + timedelta(days=3)) == []
    assert world.events()[-1] == "resolved"


def test_a_retry_never_sends_a_channel_twice_and_one_failing_channel_never_blocks_another():
    world = World()
    world.publisher.failures = 1
    with pytest.raises(DeliveryFailed, match="sns"):
        notify(world, token="t-1")
    assert world.chat.sent and not world.publisher.published  # chat went out although SNS failed
    notify(world, token="t-2")  # the Step Functions retry
    notify(world, token="t-3")  # and a redelivery after success
    assert len(world.publisher.published) == 1 and len(world.chat.sent) == 1
    assert "notify_failed" in world.events()


def test_a_failing_tier_is_retried_then_the_next_tier_is_told():
    world = World()
    world.publisher.failures = 3  # the first attempt and both retries
    world.chat.failing = True
    world.workflow.start(
        f"{world.id}-orange",
        {
            "incident_id": world.id,
            "watch_id": "xianweifang",
            "level": "orange",
            "current": {"tier": "orange", "timeout_seconds": 1800, "failed_from": ""},
            "timeouts": {"yellow": 7200, "orange": 1800, "red": 600},
        },
    )
    world.chat.failing = False
    assert world.publisher.published[-1].tier is Level.RED
    assert "橙色层级通知失败" in world.publisher.published[-1].alert.email
    assert world.workflow.executions[f"{world.id}-orange"].path[:2] == ["NotifyAndWait", "FailedToRed"]


def test_a_tier_with_nobody_on_it_says_so():
    world = World(oncall=OnCall(tiers={Level.RED: TierPolicy(notify=["management"])}))
    with pytest.raises(NoRecipients):
        notify(world)
    assert world.events() == ["notify_failed"]


NIGHT = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)  # 23:30 in Beijing
QUIET = OnCall(
    tiers={
        Level.YELLOW: TierPolicy(notify=["analysts"], chat=["pr-wecom"]),
        Level.ORANGE: TierPolicy(notify=["pr-duty"]),
    },
    quiet_hours=QuietHours(start="22:00", end="08:00"),
)


def test_quiet_hours_hold_yellow_for_one_digest_in_the_morning_but_never_orange():
    world = World(oncall=QUIET, at=NIGHT, level=Level.YELLOW)
    held = notify(world, tier=Level.YELLOW)
    assert [n.kind for n in held] == ["held"] and world.publisher.published == [] and world.chat.sent == []
    world.clock.advance(3600)
    notify(world, tier=Level.YELLOW, kind="alert")  # the same alert again (a retry): held once
    orange = notify(world, tier=Level.ORANGE)
    assert [p.tier for p in world.publisher.published] == [Level.ORANGE] and orange
    morning = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)  # 08:00 in Beijing
    assert world.until(morning - timedelta(seconds=1)) == []
    assert world.until(morning) == ["digest of 1"]
    digest = world.publisher.published[-1]
    assert digest.alert.sms.startswith("【舆情摘要】") and digest.recipients == ("analysts",)
    assert world.chat.sent[-1][0] == "pr-wecom"
    assert world.events().count("digest") == 1


def test_a_crash_between_sending_and_recording_never_sends_that_channel_again():
    world = World()
    record = world.incidents.record_notification
    calls = []

    def crash_once(incident_id, notification, token):
        calls.append(notification.channel)
        if len(calls) == 1:
            raise RuntimeError("the function stopped here")
        return record(incident_id, notification, token)

    world.incidents.record_notification = crash_once
    with pytest.raises(RuntimeError):
        notify(world, token="t-1")
    sent = notify(world, token="t-2")  # the Step Functions retry
    assert len(world.publisher.published) == 1  # the SMS went out once
    assert [n.channel for n in sent] == ["chat:pr-wecom"]  # the channel never reached still goes
    assert any(e.key.endswith("/uncertain") for e in world.timeline.page(world.id, 50)[0])
    _, tokens = world.incidents.acknowledge(world.id, _ack())
    assert "t-2" in tokens  # the retry's wait can still be answered


def _ack():
    from crisiswatch.incidents.record import Acknowledgement

    return Acknowledgement(by="王经理", at=START, level=Level.ORANGE)
