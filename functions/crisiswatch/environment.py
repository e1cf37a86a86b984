"""Each handler's settings: one pydantic model of the environment, validated once at cold start.

A missing or malformed variable fails the cold start with a message that names it, instead of
failing later inside domain code.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, Json

from crisiswatch.constants import (
    DEFAULT_ACK_TIMEOUT_SECONDS,
    DEFAULT_HEARTBEAT_SILENT_MINUTES,
    HEARTBEAT_SILENT_MINUTES_RANGE,
    Env,
)
from crisiswatch.escalation.chat import ChatBotConfig
from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.escalation.routing import Audience, Routing
from crisiswatch.incidents.policy import LevelRule, rules_from_overrides


class _EnvSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    clock_seconds: Json[dict[str, int]] = Field(default={}, alias=Env.CLOCK_SECONDS)

    @property
    def durations(self) -> ClockDurations:
        return ClockDurations(**self.clock_seconds)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class TimerSettings(_EnvSettings):
    """Where the response clocks' timers live (infra/constructs/timers.py)."""

    timer_group: str = Field(alias=Env.TIMER_GROUP)
    timer_role_arn: str = Field(alias=Env.TIMER_ROLE_ARN)
    timer_dlq_arn: str = Field(alias=Env.TIMER_DLQ_ARN)
    # The notifier is the target: its own ARN is not in its environment (a circular reference for
    # CloudFormation), its handler sets it from the invocation.
    timer_target_arn: str = Field(alias=Env.TIMER_TARGET_ARN)

    def timer_target(self) -> tuple[str, str, str, str]:
        """SchedulerTimers' group, target, role and dead-letter queue."""
        return self.timer_group, self.timer_target_arn, self.timer_role_arn, self.timer_dlq_arn


class SchedulerSettings(_EnvSettings):
    fetch_queue_urls: Json[dict[str, str]] = Field(alias=Env.FETCH_QUEUE_URLS)
    state_table: str = Field(alias=Env.STATE_TABLE)


class FetcherSettings(_EnvSettings):
    posts_queue_url: str = Field(alias=Env.POSTS_QUEUE_URL)
    fetch_queue_urls: Json[dict[str, str]] = Field(alias=Env.FETCH_QUEUE_URLS)  # continuations
    state_table: str = Field(alias=Env.STATE_TABLE)
    base_urls: Json[dict[str, str]] = Field(alias=Env.PLATFORM_BASE_URLS)
    platform_secrets: Json[dict[str, str]] = Field(default={}, alias=Env.PLATFORM_SECRETS)
    http_timeout_seconds: float = Field(default=10.0, gt=0, alias=Env.HTTP_TIMEOUT_SECONDS)


class ScorerSettings(TimerSettings):
    posts_table: str = Field(alias=Env.POSTS_TABLE)
    incidents_table: str = Field(alias=Env.INCIDENTS_TABLE)
    state_table: str = Field(alias=Env.STATE_TABLE)
    state_machine_arn: str = Field(alias=Env.ESCALATION_STATE_MACHINE_ARN)
    ack_timeout_seconds: Json[dict[str, int]] = Field(
        default=DEFAULT_ACK_TIMEOUT_SECONDS, alias=Env.ACK_TIMEOUT_SECONDS
    )
    level_thresholds: Json[dict[str, dict[str, float]]] = Field(default={}, alias=Env.LEVEL_THRESHOLDS)
    heartbeat_silent_minutes: int = Field(
        default=DEFAULT_HEARTBEAT_SILENT_MINUTES,
        ge=HEARTBEAT_SILENT_MINUTES_RANGE[0],
        le=HEARTBEAT_SILENT_MINUTES_RANGE[1],
        alias=Env.HEARTBEAT_SILENT_MINUTES,
    )

    @property
    def rules(self) -> tuple[LevelRule, ...]:
        """The level policy: the defaults with these overrides (checked at synth, see infra.context)."""
        return rules_from_overrides(self.level_thresholds)


class AudienceSettings(TimerSettings):
    """Who the deployment can reach: subscriber and chat-bot names (no endpoints, no secrets)."""

    subscribers: Json[list[Audience]] = Field(default=[], alias=Env.SUBSCRIBERS)
    chat_bots: Json[list[dict]] = Field(default=[], alias=Env.CHAT_BOTS)

    @property
    def known_names(self) -> tuple[frozenset[str], frozenset[str]]:
        return frozenset(s.name for s in self.subscribers), frozenset(b["name"] for b in self.chat_bots)


class NotifierSettings(AudienceSettings):
    incidents_table: str = Field(alias=Env.INCIDENTS_TABLE)
    state_table: str = Field(alias=Env.STATE_TABLE)
    alerts_topic_arn: str = Field(alias=Env.ALERTS_TOPIC_ARN)
    console_url: str = Field(default="", alias=Env.CONSOLE_URL)
    ack_timeout_seconds: Json[dict[str, int]] = Field(
        default=DEFAULT_ACK_TIMEOUT_SECONDS, alias=Env.ACK_TIMEOUT_SECONDS
    )

    @property
    def routing(self) -> Routing:
        bots = [Audience.model_validate(b) for b in self.chat_bots]
        return Routing(subscribers=self.subscribers, chat_bots=bots, ack_timeouts=self.ack_timeout_seconds)

    @property
    def bots(self) -> dict[str, ChatBotConfig]:
        fields = set(ChatBotConfig.model_fields)
        return {
            b["name"]: ChatBotConfig(**{k: v for k, v in b.items() if k in fields}) for b in self.chat_bots
        }


class ApiSettings(AudienceSettings):
    incidents_table: str = Field(alias=Env.INCIDENTS_TABLE)
    state_table: str = Field(alias=Env.STATE_TABLE)
    state_machine_arn: str = Field(alias=Env.ESCALATION_STATE_MACHINE_ARN)  # a resolve stops escalations


class PushSettings(_EnvSettings):
    posts_queue_url: str = Field(alias=Env.POSTS_QUEUE_URL)
    push_secret_name: str = Field(min_length=1, alias=Env.PUSH_SECRET_NAME)
    state_table: str = Field(alias=Env.STATE_TABLE)
