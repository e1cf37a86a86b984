"""The domain's vocabulary: posts, scores, watches and alert levels.

Every payload that crosses a boundary (platform JSON, SQS body, state-machine input, API body) is
parsed into one of these models at the edge; domain code only ever sees validated models.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

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


# What no queue can carry: lone surrogates (a platform's JSON may hold half an emoji; UTF-8 has no
# bytes for it) and U+FFFE / U+FFFF (SQS takes XML characters only). Text and names keep their place
# with U+FFFD; an identifier holding one is refused.
_UNSENDABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")


def sendable_text(text: Any) -> Any:
    """``text`` with what no queue or UTF-8 body can carry replaced by U+FFFD (a split pair rejoined)."""
    if not isinstance(text, str) or not _UNSENDABLE.search(text):
        return text
    rejoined = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")  # a split pair is one again
    return _UNSENDABLE.sub("\ufffd", rejoined)


def refuse_unsendable(value: str | None) -> str | None:
    if value is not None and _UNSENDABLE.search(value):
        raise ValueError("holds a lone surrogate, U+FFFE or U+FFFF, which no queue can carry")
    return value


def _clamped(count: Any) -> Any:
    """A count as DynamoDB and JSON hold it exactly: at most limits.COUNTER_MAX, whether it comes as
    an int or as a float (1e+40, as JavaScript writes 10**40); a count at the maximum is reported as
    clamped (Post.bounded). Anything else is left to the field's own validation."""
    if isinstance(count, bool) or not isinstance(count, int | float):
        return count
    return limits.COUNTER_MAX if limits.COUNTER_MAX < count < float("inf") else count


class Author(_Model):
    id: str = Field(max_length=limits.POST_ID_MAX_CHARS)
    name: str = Field(default="", max_length=limits.AUTHOR_NAME_MAX_CHARS)
    followers: int | None = Field(
        default=0, ge=0, description="None: unknown (a recording without it), not zero"
    )
    # Weibo's verified_type: -1 none, 0 personal (orange V), 1-7 organisations (blue V:
    # 1 government, 2 enterprise, 3 media, 4 campus, 5 website, 6 app, 7 group), 220+ big V.
    verified_type: int = Field(default=-1, ge=-limits.COUNTER_MAX, le=limits.COUNTER_MAX)

    _clamp = field_validator("followers", mode="before")(_clamped)
    _sendable_name = field_validator("name", mode="before")(sendable_text)
    _sendable_id = field_validator("id")(refuse_unsendable)


class Engagement(_Model):
    reposts: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    likes: int = Field(default=0, ge=0)
    views: int = Field(default=0, ge=0)

    _clamp = field_validator("reposts", "comments", "likes", "views", mode="before")(_clamped)


class Post(_Model):
    """One normalized item from any platform, as it travels on the posts queue.

    Every adapter and the push build this model, so the limits of crisiswatch.limits hold here for
    all of them: a text over POST_TEXT_MAX_CHARS is cut (its original length kept in
    `text_length`), counts over COUNTER_MAX are clamped, over-long identifiers are refused.
    """

    platform: str
    post_id: str = Field(max_length=limits.POST_ID_MAX_CHARS)
    url: str = Field(default="", max_length=limits.POST_URL_MAX_CHARS)
    author: Author
    text: str
    text_length: int | None = Field(
        default=None, ge=0, description="the original number of characters when `text` was cut; None: whole"
    )
    created_at: datetime
    engagement: Engagement = Engagement()
    repost_of: str | None = Field(default=None, max_length=limits.POST_ID_MAX_CHARS)
    fetched_at: datetime
    watch_id: str
    matched_terms: list[str] = Field(default_factory=list, description="the watch's terms this post hit")

    _sendable_ids = field_validator("post_id", "url", "repost_of")(refuse_unsendable)

    @model_validator(mode="before")
    @classmethod
    def _cut_text(cls, data: Any) -> Any:
        text = data.get("text") if isinstance(data, dict) else None
        if not isinstance(text, str):
            return data
        if len(text) > limits.POST_TEXT_MAX_CHARS:
            cut = sendable_text(text[: limits.POST_TEXT_MAX_CHARS + 1])[: limits.POST_TEXT_MAX_CHARS]
            return data | {"text": cut, "text_length": len(text)}
        return data | {"text": sendable_text(text)} if _UNSENDABLE.search(text) else data

    @field_validator("created_at", "fetched_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    @property
    def bounded(self) -> list[str]:
        """What the limits changed in this post: "text" (cut) and each count at COUNTER_MAX (clamped)."""
        counts = {"author.followers": self.author.followers} | {
            f"engagement.{name}": value for name, value in self.engagement
        }
        return (["text"] if self.text_length is not None else []) + [
            name for name, value in counts.items() if value == limits.COUNTER_MAX
        ]

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
