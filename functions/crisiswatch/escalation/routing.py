"""Who is told, when, and how: a watch's on-call policy (crisiswatch.vocabulary.OnCall) applied.

A watch without a policy gets the deployment's default, built from the CDK context's subscribers
and chat bots (their `levels` and `watches`), so that a brand's alerts only ever reach the people
named for that brand (or for every brand, with `"watches": ["*"]`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from crisiswatch.constants import DEFAULT_ACK_TIMEOUT_SECONDS
from crisiswatch.vocabulary import LEVELS, Level, OnCall, QuietHours, TierPolicy, Watch

EVERY_WATCH = "*"
# Only these wait for quiet hours to end; orange and red always go out at once.
HELD_IN_QUIET_HOURS = frozenset({Level.BLUE, Level.YELLOW})


class Audience(BaseModel):
    """Someone the deployment can reach (no endpoint here: phone numbers stay in the SNS subscriptions)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    name: str
    levels: list[Level] = Field(default_factory=list)
    watches: list[str] = Field(default_factory=lambda: [EVERY_WATCH])

    def serves(self, watch_id: str) -> bool:
        return EVERY_WATCH in self.watches or watch_id in self.watches


@dataclass(frozen=True)
class Routing:
    subscribers: Sequence[Audience] = ()
    chat_bots: Sequence[Audience] = ()
    ack_timeouts: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_ACK_TIMEOUT_SECONDS))

    def policy(self, watch: Watch | None, watch_id: str) -> OnCall:
        if watch is not None and watch.oncall is not None:
            return watch.oncall
        tiers = {}
        for level in LEVELS:
            notify = [s.name for s in self.subscribers if level in s.levels and s.serves(watch_id)]
            chat = [b.name for b in self.chat_bots if level in b.levels and b.serves(watch_id)]
            if notify or chat:
                tiers[level] = TierPolicy(notify=notify, chat=chat)
        return OnCall(tiers=tiers)

    def tier(self, policy: OnCall, tier: Level) -> TierPolicy:
        return policy.tiers.get(tier, TierPolicy())

    def ack_timeout(self, policy: OnCall, tier: Level) -> int:
        own = self.tier(policy, tier).ack_timeout_seconds
        return int(own if own is not None else self.ack_timeouts.get(tier.value, 0))

    def ack_timeouts_for(self, policy: OnCall) -> dict[str, int]:
        return {lv.value: self.ack_timeout(policy, lv) for lv in LEVELS if lv is not Level.BLUE}


def _local(moment: datetime, quiet: QuietHours) -> datetime:
    return moment.astimezone(ZoneInfo(quiet.timezone))


def _parse_hhmm(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(quiet: QuietHours | None, now: datetime) -> datetime | None:
    """When the quiet period `now` falls in ends (UTC), or None when `now` is not in quiet hours.
    A period may cross midnight (22:00-08:00); start == end means no quiet hours."""
    if quiet is None or quiet.start == quiet.end:
        return None
    local = _local(now, quiet)
    start, end = _parse_hhmm(quiet.start), _parse_hhmm(quiet.end)
    at = local.time()
    crosses_midnight = start > end
    inside = (at >= start or at < end) if crosses_midnight else (start <= at < end)
    if not inside:
        return None
    end_day = local.date() + timedelta(days=1) if crosses_midnight and at >= start else local.date()
    ends = datetime.combine(end_day, end, tzinfo=local.tzinfo)
    return ends.astimezone(UTC)


def held_until(policy: OnCall, tier: Level, now: datetime) -> datetime | None:
    """When an alert to `tier` sent `now` may go out, if quiet hours hold it; None: at once."""
    if tier not in HELD_IN_QUIET_HOURS:
        return None
    return quiet_until(policy.quiet_hours, now)
