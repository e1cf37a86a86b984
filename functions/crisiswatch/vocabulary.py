"""The domain's vocabulary: posts, scores, watches and alert levels.

Every payload that crosses a boundary (platform JSON, SQS body, state-machine input, API body) is
parsed into one of these models at the edge; domain code only ever sees validated models.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from crisiswatch import limits
from crisiswatch.constants import PLATFORMS
from crisiswatch.rules import RuleSyntaxError, parse_rule


class Level(StrEnum):
    """The four colours of China's emergency-response law, least severe first."""

    BLUE = "blue"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        return LEVELS.index(self)

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank >= other.rank

    def next_up(self) -> Level | None:
        """The tier above this one, or None at red."""
        return LEVELS[self.rank + 1] if self.rank + 1 < len(LEVELS) else None

    @property
    def chinese(self) -> str:
        return {"blue": "蓝色", "yellow": "黄色", "orange": "橙色", "red": "红色"}[self.value]


LEVELS: list[Level] = [Level.BLUE, Level.YELLOW, Level.ORANGE, Level.RED]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Author(_Model):
    id: str
    name: str = ""
    followers: int | None = Field(
        default=0, ge=0, description="None: unknown (a recording without it), not zero"
    )
    # Weibo's verified_type: -1 none, 0 personal (orange V), 1-7 organisations (blue V:
    # 1 government, 2 enterprise, 3 media, 4 campus, 5 website, 6 app, 7 group), 220+ big V.
    verified_type: int = -1


class Engagement(_Model):
    reposts: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    likes: int = Field(default=0, ge=0)
    views: int = Field(default=0, ge=0)


class Post(_Model):
    """One normalized item from any platform, as it travels on the posts queue."""

    platform: str
    post_id: str
    url: str = ""
    author: Author
    text: str
    created_at: datetime
    engagement: Engagement = Engagement()
    repost_of: str | None = None
    fetched_at: datetime
    watch_id: str
    matched_terms: list[str] = Field(default_factory=list, description="the watch's terms this post hit")

    @field_validator("created_at", "fetched_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @property
    def key(self) -> str:
        """The business key every write is idempotent on."""
        return f"{self.platform}#{self.post_id}"


class Score(_Model):
    """What the scorer concluded about one post, with the reasons a person can check."""

    negative: float = Field(ge=0.0, le=1.0, description="probability that the post is negative")
    categories: dict[str, list[str]] = Field(
        default_factory=dict, description="crisis category -> the words that hit it"
    )
    risk: float = Field(ge=0.0, le=1.0)
    reasons: list[str] = Field(default_factory=list)

    @property
    def is_negative(self) -> bool:
        return self.negative >= 0.5


_HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class QuietHours(_Model):
    """Blue and yellow alerts wait from `start` to `end` (local time of `timezone`) and then go out
    as one digest; orange and red always go out at once; detection never pauses."""

    start: str = Field(default="22:00", pattern=_HHMM)
    end: str = Field(default="08:00", pattern=_HHMM)
    timezone: str = Field(default="Asia/Shanghai", min_length=1, max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; e.g. Asia/Shanghai") from None
        return value


# A platform some adapter serves (crisiswatch.constants.PLATFORMS); the OpenAPI document lists them.
Platform = Literal[PLATFORMS]  # type: ignore[valid-type]
# The strings of a watch, each at most its limit's characters (crisiswatch.limits); blank terms
# are allowed and ignored (crisiswatch.ingest.matching).
Keyword = Annotated[str, StringConstraints(max_length=limits.KEYWORD_MAX_CHARS)]
ExcludeWord = Annotated[str, StringConstraints(max_length=limits.EXCLUDE_MAX_CHARS)]
BrandTerm = Annotated[str, StringConstraints(max_length=limits.BRAND_TERM_MAX_CHARS)]
RuleExpression = Annotated[str, StringConstraints(min_length=1, max_length=limits.RULE_MAX_CHARS)]
OnCallName = Annotated[str, StringConstraints(min_length=1, max_length=limits.ONCALL_NAME_MAX_CHARS)]


class TierPolicy(_Model):
    """Who is told when an alert reaches this tier, and how long they have to acknowledge."""

    notify: list[OnCallName] = Field(
        default_factory=list,
        max_length=limits.ONCALL_MAX_NAMES_PER_TIER,
        description="subscriber names (context `subscribers`): SMS or e-mail",
    )
    chat: list[OnCallName] = Field(
        default_factory=list,
        max_length=limits.ONCALL_MAX_NAMES_PER_TIER,
        description="chat bot names (context `chatBots`)",
    )
    ack_timeout_seconds: int | None = Field(
        default=None,
        gt=0,
        le=limits.ACK_TIMEOUT_MAX_SECONDS,
        description="None: the deployment's `ackTimeoutSeconds` for this level",
    )


class OnCall(_Model):
    """A watch's escalation policy: one entry per tier (a tier without an entry tells no one)."""

    tiers: dict[Level, TierPolicy] = Field(default_factory=dict)
    quiet_hours: QuietHours | None = None
    # The crisis-PR clocks (first statement, detailed statement, daily progress) start when an
    # incident first reaches this level.
    clocks_from: Level = Level.ORANGE


class Watch(_Model):
    """What one team monitors: a brand, product or person. Its limits are crisiswatch.limits'."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")
    name: str = Field(max_length=limits.WATCH_NAME_MAX_CHARS)
    keywords: list[Keyword] = Field(
        min_length=1, max_length=limits.WATCH_MAX_KEYWORDS, description="any of these terms matches (OR)"
    )
    exclude: list[ExcludeWord] = Field(
        default_factory=list,
        max_length=limits.WATCH_MAX_EXCLUDE,
        description="a post with any of these is dropped",
    )
    brand_terms: list[BrandTerm] = Field(
        default_factory=list, max_length=limits.WATCH_MAX_BRAND_TERMS, description="kept whole by jieba"
    )
    platforms: list[Platform] = Field(default_factory=lambda: ["weibo"], max_length=len(PLATFORMS))
    # Per platform, a rule expression that a fetched post must match (see crisiswatch.rules);
    # where none is given, any keyword matches and any exclusion word drops the post.
    rules: dict[Platform, RuleExpression] = Field(default_factory=dict)
    # Who is told, at which tier, by which channel; None: the deployment's default policy (the
    # subscribers' `levels` in the CDK context, crisiswatch.escalation.routing.default_oncall).
    oncall: OnCall | None = None

    @field_validator("platforms")
    @classmethod
    def _platforms_once(cls, platforms: list[str]) -> list[str]:
        if len(set(platforms)) != len(platforms):
            raise ValueError(f"a platform is named twice in {platforms}")
        return platforms

    @field_validator("rules")
    @classmethod
    def _rules_parse(cls, rules: dict[str, str]) -> dict[str, str]:
        if rules:
            for platform, expression in rules.items():
                try:
                    parse_rule(expression)
                except RuleSyntaxError as e:
                    raise ValueError(f"rules[{platform!r}]: {e}") from None
        return rules

    @model_validator(mode="after")
    def _fits_its_item(self) -> Watch:
        size = len(self.model_dump_json().encode())
        if size > limits.WATCH_MAX_STORED_BYTES:
            raise ValueError(
                f"the watch is {size:,} bytes as stored (JSON, UTF-8); at most "
                f"{limits.WATCH_MAX_STORED_BYTES:,}: fewer or shorter keywords, exclusions or rules"
            )
        return self


class FetchJob(_Model):
    """One unit of fetching work on the fetch-jobs queue: one watch on one platform."""

    watch: Watch
    platform: str
    scheduled_at: datetime
    # Page back until posts are older than this (an overlap of several schedule periods, so that
    # posts the platform indexes late are still found; duplicates are stored once).
    since: datetime | None = None
    # A continuation: the keywords a run had no time left for, searched back to `since` (not the
    # cursor's, which that run moved on for its other keywords). None: every keyword of the watch.
    keywords: list[str] | None = None
