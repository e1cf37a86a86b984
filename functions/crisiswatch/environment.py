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
from crisiswatch.incidents.policy import LevelRule, rules_from_overrides


class _EnvSettings(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        return cls.model_validate(dict(os.environ if environ is None else environ))


class SchedulerSettings(_EnvSettings):
    fetch_queue_urls: Json[dict[str, str]] = Field(alias=Env.FETCH_QUEUE_URLS)
    state_table: str = Field(alias=Env.STATE_TABLE)


class FetcherSettings(_EnvSettings):
    posts_queue_url: str = Field(alias=Env.POSTS_QUEUE_URL)
    state_table: str = Field(alias=Env.STATE_TABLE)
    base_urls: Json[dict[str, str]] = Field(alias=Env.PLATFORM_BASE_URLS)
    platform_secrets: Json[dict[str, str]] = Field(default={}, alias=Env.PLATFORM_SECRETS)
    http_timeout_seconds: float = Field(default=10.0, gt=0, alias=Env.HTTP_TIMEOUT_SECONDS)


class ScorerSettings(_EnvSettings):
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


class NotifierSettings(_EnvSettings):
    incidents_table: str = Field(alias=Env.INCIDENTS_TABLE)
    alerts_topic_arn: str = Field(alias=Env.ALERTS_TOPIC_ARN)
    console_url: str = Field(default="", alias=Env.CONSOLE_URL)


class ApiSettings(_EnvSettings):
    incidents_table: str = Field(alias=Env.INCIDENTS_TABLE)
    state_table: str = Field(alias=Env.STATE_TABLE)


class PushSettings(_EnvSettings):
    posts_queue_url: str = Field(alias=Env.POSTS_QUEUE_URL)
    push_secret_name: str = Field(min_length=1, alias=Env.PUSH_SECRET_NAME)
    state_table: str = Field(alias=Env.STATE_TABLE)
