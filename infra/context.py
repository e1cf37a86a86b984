"""Deployment settings read from CDK context, validated once before any construct is built.

Every key has a default in `crisiswatch.constants` (or in cdk.json for the examples), so a bare
`cdk synth` works. Values given on the command line (`-c key=value`) arrive as strings: structured
keys are decoded from JSON. A bad value fails synth with a message that names the key and the entry.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from crisiswatch import constants, limits
from crisiswatch.escalation.chat import ChatBotConfig
from crisiswatch.escalation.clocks import ClockDurations
from crisiswatch.escalation.routing import Audience, Routing
from crisiswatch.vocabulary import LEVELS, Level, Watch

_PLATFORM = r"^[a-z][a-z0-9-]{0,29}$"
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TRACING_MODES = ("active", "passthrough")
SYSTEM_LOG_LEVELS = ("DEBUG", "INFO", "WARN")  # Lambda's own lines (START, END, REPORT are INFO)
PLACEHOLDER_EMAIL_DOMAINS = {"example.com", "example.org", "example.net"}  # RFC 2606
PLACEHOLDER_PHONE_NUMBERS = {"+8613800000000", "+8613800138000"}


class ContextError(ValueError):
    """A CDK context value is missing or malformed; the message says which and why."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Subscriber(_Strict):
    """One alert recipient: an SNS subscription that only receives the listed levels."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")
    protocol: Literal["sms", "email"]
    endpoint: str
    levels: list[Level] = Field(min_length=1)
    # The watches (brands) whose alerts this person receives under the default on-call policy; "*"
    # is every watch (a central crisis desk). A watch's own `oncall` policy names people itself.
    watches: list[str] = Field(default_factory=lambda: ["*"], min_length=1)

    @field_validator("endpoint")
    @classmethod
    def _endpoint_shape(cls, value: str, info: Any) -> str:
        protocol = info.data.get("protocol")
        if protocol == "sms" and not _E164.match(value):
            raise ValueError("an sms endpoint must be an E.164 phone number such as +8613800000000")
        if protocol == "email" and not _EMAIL.match(value):
            raise ValueError("an email endpoint must be an e-mail address")
        return value

    @property
    def is_placeholder(self) -> bool:
        """The example endpoints in cdk.json: reserved e-mail domains, the textbook +86 number."""
        if self.protocol == "email":
            return self.endpoint.rsplit("@", 1)[-1].lower() in PLACEHOLDER_EMAIL_DOMAINS
        return self.endpoint in PLACEHOLDER_PHONE_NUMBERS

    @property
    def level_values(self) -> list[str]:
        """The levels in severity order, without duplicates."""
        return [lv.value for lv in LEVELS if lv in set(self.levels)]


class ChatBot(ChatBotConfig):
    """A chat bot of the deployment: its kind and address; its secret is in Secrets Manager."""

    levels: list[Level] = Field(default_factory=lambda: [Level.YELLOW, Level.ORANGE, Level.RED], min_length=1)
    watches: list[str] = Field(default_factory=lambda: ["*"], min_length=1)


class ClockSeconds(_Strict):
    """The crisis-PR clocks (seconds): the playbook's 30 min, 2 h and a day, and the reminder."""

    first: int = Field(default=constants.FIRST_STATEMENT_SECONDS, gt=0)
    detailed: int = Field(default=constants.DETAILED_STATEMENT_SECONDS, gt=0)
    progress: int = Field(default=constants.PROGRESS_REPORT_SECONDS, gt=0)
    remind_before: int = Field(default=constants.REMIND_BEFORE_SECONDS, ge=0)


class AckTimeouts(_Strict):
    yellow: int = Field(gt=0)
    orange: int = Field(gt=0)
    red: int = Field(gt=0)


class DeploymentSettings(_Strict):
    watches: list[Watch]
    subscribers: list[Subscriber]
    schedules: dict[str, int]
    base_urls: dict[str, str]
    fetch_concurrency: dict[str, int]
    credentials: dict[str, str]
    ack_timeout_seconds: AckTimeouts
    level_thresholds: dict[str, dict[str, float]]
    console_url: str
    log_levels: dict[str, str]  # per function key (constants.FUNCTIONS)
    tracing: dict[str, str]  # per function key: "active" or "passthrough"
    system_log_levels: dict[str, str]  # per function key: Lambda's own log lines, DEBUG/INFO/WARN
    ops_emails: list[str]
    ops_sms: list[str] = []
    heartbeat_silent_minutes: int = constants.DEFAULT_HEARTBEAT_SILENT_MINUTES
    chat_bots: list[ChatBot] = []
    clock_seconds: ClockSeconds = ClockSeconds()

    def audiences(self) -> list[dict]:
        """Who the notifier can reach, without endpoints (phone numbers stay in the subscriptions)."""
        return [{"name": s.name, "levels": s.level_values, "watches": s.watches} for s in self.subscribers]

    def routing(self) -> Routing:
        """The notifier's view of these settings (what its environment carries)."""
        return Routing(
            subscribers=[Audience.model_validate(a) for a in self.audiences()],
            chat_bots=[Audience.model_validate(b) for b in self.bot_audiences()],
            ack_timeouts=self.ack_timeout_seconds.model_dump(),
        )

    def durations(self) -> ClockDurations:
        return ClockDurations(**self.clock_seconds.model_dump())

    def bot_audiences(self) -> list[dict]:
        return [
            {"name": b.name, "levels": [lv.value for lv in b.levels], "watches": b.watches}
            for b in self.chat_bots
        ]


def _decode(key: str, value: Any) -> Any:
    """`-c key=[...]` on the CLI gives a string: decode JSON for structured keys."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as e:
            raise ContextError(f"CDK context {key!r} must be JSON: {e}") from None
    return value


def _describe(error: ValidationError, key: str, raw: Any) -> str:
    lines = []
    for err in error.errors():
        loc = list(err["loc"])
        where = key
        if loc and isinstance(loc[0], int):
            index = loc.pop(0)
            entry = raw[index] if isinstance(raw, list) and index < len(raw) else None
            label = f" ({entry.get('name') or entry.get('id')!s})" if isinstance(entry, dict) else ""
            where = f"{key}[{index}]{label}"
        if loc:
            where += "." + ".".join(str(part) for part in loc)
        got = f" (got {err['input']!r})" if not isinstance(err.get("input"), dict | list) else ""
        lines.append(f"{where}: {err['msg']}{got}")
    return "; ".join(lines)


def _validated(key: str, raw: Any, type_: Any) -> Any:
    try:
        return TypeAdapter(type_).validate_python(raw)
    except ValidationError as e:
        raise ContextError(f"Invalid CDK context {key!r}: {_describe(e, key, raw)}") from None


def _per_function(key: str, raw: Any, default: str | None, allowed: tuple[str, ...]) -> dict[str, str]:
    """A setting given for every function (``"INFO"``) or per function (``{"default": "INFO",
    "scorer": "WARNING"}``, JSON on the command line): the value of each function key."""
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        raw = _decode(key, raw)
    if not isinstance(raw, dict):
        raw = {"default": raw}
    unknown = sorted(set(raw) - set(constants.FUNCTIONS) - {"default"})
    if unknown:
        raise ContextError(
            f"Invalid CDK context {key!r}: unknown function(s) {unknown}; one of {sorted(constants.FUNCTIONS)} "
            "or 'default'"
        )
    fallback = raw.get("default", default)
    chosen = {name: raw.get(name, fallback) for name in constants.FUNCTIONS}
    values = {
        name: str(v).strip().lower() if allowed == TRACING_MODES else str(v).strip().upper()
        for name, v in chosen.items()
        if v is not None
    }
    for name, v in values.items():
        if v not in allowed:
            raise ContextError(f"Invalid CDK context {key!r}: {name} must be one of {allowed} (got {v!r})")
    return values


def load_settings(get: Any) -> DeploymentSettings:
    """Validate the deployment settings. `get(key)` returns a context value or None."""

    def value(key: str, default: Any, structured: bool = True) -> Any:
        raw = get(key)
        if raw is None:
            return default
        return _decode(key, raw) if structured else raw

    watches_raw = value("watches", [])
    watches = _validated("watches", watches_raw, list[Watch])
    ids = [w.id for w in watches]
    if len(set(ids)) != len(ids):
        raise ContextError(f"Invalid CDK context 'watches': duplicate watch ids in {ids}")
    if len(watches) > limits.MAX_WATCHES:
        raise ContextError(
            f"Invalid CDK context 'watches': {len(watches):,} watches; a deployment takes at most "
            f"{limits.MAX_WATCHES:,} (crisiswatch.limits.MAX_WATCHES)"
        )

    subscribers_raw = value("subscribers", [])
    subscribers = _validated("subscribers", subscribers_raw, list[Subscriber])
    names = [s.name for s in subscribers]
    if len(set(names)) != len(names):
        raise ContextError(f"Invalid CDK context 'subscribers': duplicate subscriber names in {names}")

    schedules = value("schedules", dict(constants.DEFAULT_SCHEDULES_MINUTES))
    if not isinstance(schedules, dict) or not schedules:
        raise ContextError("Invalid CDK context 'schedules': expected an object such as {\"weibo\": 2}")
    for platform, minutes in schedules.items():
        if not re.match(_PLATFORM, str(platform)):
            raise ContextError(f"Invalid CDK context 'schedules': bad platform name {platform!r}")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 1440:
            raise ContextError(
                f"Invalid CDK context 'schedules': {platform} must be whole minutes between 1 and 1440 "
                f"(got {minutes!r})"
            )

    ack_raw = value("ackTimeoutSeconds", dict(constants.DEFAULT_ACK_TIMEOUT_SECONDS))
    ack = _validated("ackTimeoutSeconds", ack_raw, AckTimeouts)

    thresholds = _validated("levelThresholds", value("levelThresholds", {}), dict[str, dict[str, float]])
    try:  # the scorer's own parser, so a typo fails synth rather than the scorer's cold start
        from crisiswatch.incidents.policy import rules_from_overrides
    except ImportError:  # pragma: no cover - the domain module is optional for the infra
        rules_from_overrides = None
    if rules_from_overrides is not None:
        try:
            rules_from_overrides(thresholds)
        except ValueError as e:
            raise ContextError(f"Invalid CDK context 'levelThresholds': {e}") from None

    base_urls = dict(constants.DEFAULT_BASE_URLS) | _validated(
        "baseUrls", value("baseUrls", {}), dict[str, str]
    )
    weibo = get("weiboBaseUrl")  # shorthand for baseUrls.weibo
    if weibo is not None:
        base_urls["weibo"] = str(weibo)
    for platform, url in base_urls.items():
        if not url.startswith(("https://", "http://")):
            raise ContextError(
                f"Invalid CDK context 'baseUrls': {platform} needs an http(s) URL (got {url!r})"
            )
    missing = sorted(set(schedules) - set(base_urls))
    if missing:
        raise ContextError(
            f"Invalid CDK context 'baseUrls': scheduled platform(s) {missing} have no base URL"
        )
    concurrency = {p: constants.FETCHER_MAX_CONCURRENCY for p in schedules} | _validated(
        "fetchConcurrency", value("fetchConcurrency", {}), dict[str, int]
    )
    for platform, cap in concurrency.items():
        if not 2 <= cap <= 1000:  # Lambda's SQS event source accepts 2 to 1000
            raise ContextError(
                f"Invalid CDK context 'fetchConcurrency': {platform} must be 2..1000 (got {cap})"
            )
    console_url = str(value("consoleUrl", "", structured=False))
    log_levels = _per_function("logLevel", value("logLevel", "INFO", structured=False), "INFO", LOG_LEVELS)
    tracing = constants.TRACING | _per_function(
        "tracing", value("tracing", {}, structured=False), None, TRACING_MODES
    )
    system_log_levels = _per_function(
        "systemLogLevel", value("systemLogLevel", "WARN", structured=False), "WARN", SYSTEM_LOG_LEVELS
    )
    ops_emails = _validated("opsEmails", value("opsEmails", []), list[str])
    for email in ops_emails:
        if not _EMAIL.match(email):
            raise ContextError("Invalid CDK context 'opsEmails': every entry must be an e-mail address")
    ops_sms = _validated("opsSms", value("opsSms", []), list[str])
    for number in ops_sms:
        if not _E164.match(number):
            raise ContextError(
                "Invalid CDK context 'opsSms': every entry must be an E.164 phone number such as +8613800000000"
            )
    silent_minutes = _validated(
        "heartbeatSilentMinutes",
        value("heartbeatSilentMinutes", constants.DEFAULT_HEARTBEAT_SILENT_MINUTES),
        int,
    )
    low, high = constants.HEARTBEAT_SILENT_MINUTES_RANGE
    if not low <= silent_minutes <= high:
        raise ContextError(
            f"Invalid CDK context 'heartbeatSilentMinutes': whole minutes between {low} and {high} "
            f"(got {silent_minutes!r})"
        )

    credentials = _validated("credentials", value("credentials", {}), dict[str, str])
    for platform, secret_name in credentials.items():
        if not re.match(r"^[A-Za-z0-9/_+=.@-]{1,512}$", secret_name):
            raise ContextError(
                f"Invalid CDK context 'credentials': {platform} needs a Secrets Manager secret name (got {secret_name!r})"
            )

    chat_bots = _validated("chatBots", value("chatBots", []), list[ChatBot])
    bot_names = [b.name for b in chat_bots]
    if len(set(bot_names)) != len(bot_names):
        raise ContextError(f"Invalid CDK context 'chatBots': duplicate bot names in {bot_names}")
    for watch in watches:
        for tier, policy in watch.oncall.tiers.items() if watch.oncall else []:
            unknown = sorted(set(policy.notify) - set(names)) + sorted(set(policy.chat) - set(bot_names))
            if unknown:
                raise ContextError(
                    f"Invalid CDK context 'watches' ({watch.id}): oncall.tiers.{tier.value} names {unknown}, "
                    "which are not in 'subscribers' or 'chatBots'"
                )
    clock_seconds = _validated("clockSeconds", value("clockSeconds", {}), ClockSeconds)

    return DeploymentSettings(
        watches=watches,
        chat_bots=chat_bots,
        clock_seconds=clock_seconds,
        subscribers=subscribers,
        schedules=schedules,
        base_urls={platform: url.rstrip("/") for platform, url in base_urls.items()},
        fetch_concurrency=concurrency,
        credentials=credentials,
        ack_timeout_seconds=ack,
        level_thresholds=thresholds,
        console_url=console_url,
        log_levels=log_levels,
        tracing=tracing,
        system_log_levels=system_log_levels,
        ops_emails=ops_emails,
        ops_sms=ops_sms,
        heartbeat_silent_minutes=silent_minutes,
    )
