"""What the domain needs from the world, as small Protocols, and the errors they raise.

Each port has two adapters that pass the same contract tests (tests/contract): one on AWS
(`crisiswatch.aws`: DynamoDB, Step Functions, SNS, SQS, Secrets Manager) and one in memory
(`crisiswatch.memory`: the replay, the evaluation and the fast tests). Domain services take ports,
never adapters, so they run the same on Lambda, on the embedded local AWS and in memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from crisiswatch.limits import SQS_MESSAGE_MAX_BYTES

if TYPE_CHECKING:
    from crisiswatch.escalation.chat import ChatBotConfig, ChatLimits
    from crisiswatch.escalation.messages import Alert
    from crisiswatch.incidents.baseline import Baseline
    from crisiswatch.incidents.policy import WindowStats
    from crisiswatch.incidents.record import (
        Acknowledgement,
        Incident,
        IncidentStats,
        Notification,
        Resolution,
        ResponseClock,
        Statement,
        Status,
        TimelineEvent,
    )
    from crisiswatch.ingest.cursor import FetchCursor
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


class UnreadableWatch(StoreError):
    """A stored watch that does not validate (written before a limit existed, or by hand): lists
    skip it (logged, counted); reading it alone raises this."""

    def __init__(self, watch_id: str, reason: str):
        super().__init__(f"watch {watch_id!r} is stored in a form that cannot be read ({reason})")
        self.watch_id = watch_id
        self.reason = reason


class StoreThrottled(StoreError):
    """The store left part of a batch undone after its retries: retry the unit of work later."""


class InvalidCursor(ValueError):
    """A page cursor that no page of this store returned (malformed, tampered, or another list's)."""


class QueueSendError(Exception):
    """The queue refused some messages: the caller must retry its unit of work as a whole."""


class QueueMessageTooLarge(QueueSendError):
    """A body over limits.SQS_MESSAGE_MAX_BYTES: refused before anything of that call was sent (it
    would never fit, so retrying the same unit of work cannot help: drop or split it, with a reason)."""

    def __init__(self, index: int, size: int):
        super().__init__(f"message {index} is {size} bytes; a queue takes at most {SQS_MESSAGE_MAX_BYTES}")
        self.index = index
        self.size = size


def message_sizes(bodies: Sequence[str]) -> list[int]:
    """Each body's size as SQS counts it (UTF-8 bytes); raises QueueMessageTooLarge for the first
    over SQS_MESSAGE_MAX_BYTES. Both queue adapters check with this before sending anything."""
    sizes = [len(body.encode("utf-8", errors="surrogatepass")) for body in bodies]
    for index, size in enumerate(sizes):
        if size > SQS_MESSAGE_MAX_BYTES:
            raise QueueMessageTooLarge(index, size)
    return sizes


# -- ports ---------------------------------------------------------------------------------------


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware (UTC) current time."""
        ...


@dataclass(frozen=True)
class Saved:
    """What saving a post did: stored (and counted) it, or found it counted and saw its growth."""

    stored: bool
    growth: int = 0  # reposts + comments gained since the previous poll (duplicates only)


@dataclass(frozen=True)
class ScoredPost:
    """A post to save, with its score, the counts it adds and its story ("" for none)."""

    post: Post
    score: Score
    counts: WindowStats
    story: str = ""


class PostRepository(Protocol):
    """Scored posts, stored once per `platform#post_id`, and additive 5-minute counters per watch
    and per story (crisiswatch.incidents.policy.bucket_id)."""

    def save_all(self, batch: Sequence[ScoredPost], now: datetime) -> list[Saved]:
        """Store each post and add its `counts` to the bucket of the time it was created (never
        later than `now`) of its watch and, when given, of its story: a post and its counts are
        written together or not at all. When its watch already counted a post (a redelivery, a
        refresh, the same post twice in `batch`), nothing is counted again; its engagement is
        refreshed (keeping the previous poll's) and the reposts and comments it gained are added
        to the current bucket's `engagement` (`Saved.growth`). One `Saved` per item, in order."""
        ...

    def stories(self, watch_id: str, keys: Sequence[str]) -> dict[str, str]:
        """Post key -> the story it was stored with in this watch, for the keys stored in it with
        one (any number of keys; eventually consistent); StoreThrottled."""
        ...

    def buckets(
        self, watch_id: str, start: datetime, end: datetime, story: str = ""
    ) -> list[tuple[datetime, WindowStats]]:
        """The watch's (or its story's) non-empty buckets that overlap [start, end], oldest first."""
        ...

    def story_counts(self, watch_id: str, start: datetime, end: datetime) -> dict[str, int]:
        """Posts per story of the watch in the buckets that overlap [start, end] (kept in the
        watch's own buckets: which stories are busy, whatever batch their posts came in)."""
        ...

    def get(self, post_key: str) -> dict[str, Any] | None:
        """The stored post as plain JSON (`post`, `watch_ids`, `score#<watch>`, ...)."""
        ...


class BaselineStore(Protocol):
    """Each watch's learnt normal (crisiswatch.incidents.baseline), one small item per watch."""

    def get(self, watch_id: str) -> Baseline | None: ...

    def put(self, watch_id: str, baseline: Baseline, previous: datetime | None) -> bool:
        """Write it if the stored one still has `through == previous` (None: none stored); False
        otherwise (another scorer folded the same hours first: the same result, keep theirs)."""
        ...


class IncidentRepository(Protocol):
    """Incidents, each watch's open-incident pointer, and the escalations' wait tokens (kept out of
    the Incident model, so they never reach the API or the logs)."""

    def get(self, incident_id: str) -> Incident: ...  # IncidentNotFound

    def open_incident(self, watch_id: str, story_id: str = "") -> Incident | None:
        """The open (or acknowledged) incident of this watch's story."""
        ...

    def open_incidents(self, watch_id: str) -> list[Incident]:
        """Every story of the watch with an incident not resolved yet."""
        ...

    def list(
        self, status: Status, limit: int, cursor: str | None = None
    ) -> tuple[list[Incident], str | None]:
        """Newest first (by `opened_at`); `cursor` is the opaque value the previous page returned."""
        ...

    def create(self, incident: Incident) -> None:
        """Open it and point its watch's story at it; IncidentAlreadyOpen if that story has one open."""
        ...

    def update(self, incident: Incident) -> Incident:
        """Write it if its version is still the stored one (StaleIncident otherwise); returns it
        with the version incremented. The fields with their own writers (record.WRITTEN_APART)
        are left as stored."""
        ...

    def refresh_figures(
        self, incident_id: str, stats: IncidentStats, last_active_at: datetime | None, at: datetime
    ) -> None:
        """Store the incident's latest figures alone, at a fraction of rewriting it (no version
        change): reads show them, with `updated_at` = `at`, while they are newer than the
        incident's own last write; a refresh older than the one stored changes nothing, and so
        does one for an incident that does not exist."""
        ...

    def record_notification(
        self, incident_id: str, notification: Notification, wait_token: str | None
    ) -> bool:
        """Append it and store the wait token; when a notification with the same (non-empty) `key`
        is recorded already, only the token is stored and the answer is False. IncidentNotFound."""
        ...

    def claim_notification(self, incident_id: str, key: str) -> str:
        """Before a channel sends: "claimed" (send it), "sent" (recorded already: a retry), or
        "in_flight" (an earlier attempt claimed it and never recorded it: it may have gone out, so
        it is not sent again). IncidentNotFound."""
        ...

    def release_notification(self, incident_id: str, key: str) -> None:
        """The claimed send failed (nothing went out): a retry may claim it again."""
        ...

    def remember_wait(self, incident_id: str, wait_token: str) -> None:
        """Store a wait token without a notification (a retry whose channels were all sent)."""
        ...

    def set_clocks(
        self,
        incident_id: str,
        clocks: Sequence[ResponseClock],
        statements: Sequence[Statement],
        expected: int,
    ) -> Incident:
        """Replace the response clocks and statements if `clocks_version` is still `expected`
        (StaleIncident otherwise); returns the incident with clocks_version incremented."""
        ...

    def acknowledge(self, incident_id: str, ack: Acknowledgement) -> tuple[Incident, list[str]]:
        """Record it and take out every stored wait token, atomically (two people acknowledging at
        once release each token once). IncidentNotFound, IncidentResolved."""
        ...

    def mark_escalated(self, incident: Incident, level: Level) -> Incident: ...  # StaleIncident

    def resolve(self, incident: Incident, resolution: Resolution) -> Incident:
        """Resolve it (version checked: StaleIncident) and free its story for a new incident."""
        ...


class CursorStore(Protocol):
    """Per watch and platform, where fetching has reached and what the overlap window already queued
    (crisiswatch.ingest.cursor.FetchCursor). Saves are optimistic: two runs of one watch cannot
    overwrite each other's progress."""

    def get(self, watch_id: str, platform: str, fresh: bool = False) -> FetchCursor:
        """The stored cursor, or an empty one (version 0) before the first run. It may be a moment
        old (a run is minutes after the last: an older one only fails `save`); ``fresh``: the
        latest saved, for the merge after a save lost a race."""
        ...

    def save(self, watch_id: str, platform: str, cursor: FetchCursor, now: datetime) -> bool:
        """Store ``cursor`` if the stored one is still at ``cursor.version`` (the stored version
        then moves on by one); False, and nothing changed, if another run saved since."""
        ...


class StoryIndex(Protocol):
    """Per watch: which story a post key or a text-fingerprint band belongs to (expires after
    STORY_TTL_DAYS). Keys and values are the story assigner's (crisiswatch.incidents.stories), which
    keeps here only what no stored post tells (PostRepository.stories)."""

    def lookup(self, watch_id: str, keys: Sequence[str]) -> dict[str, str]:
        """Key -> value for the keys present (any number of keys); StoreThrottled."""
        ...

    def remember(self, watch_id: str, entries: Mapping[str, str], now: datetime) -> None:
        """Store each entry unless its key is present: the first writer wins, per key."""
        ...


class WatchCatalogue(Protocol):
    def list(self) -> list[Watch]: ...  # in id order; an unreadable watch is skipped (logged, counted)

    def count(self) -> int: ...  # every stored watch, readable or not

    def get(self, watch_id: str) -> Watch: ...  # WatchNotFound, UnreadableWatch

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
    def publish(self, alert: Alert, tier: Level, recipients: Sequence[str], watch_id: str) -> str:
        """One publish that reaches exactly the named subscribers (SMS or e-mail, as each
        subscribed); `tier` and `watch_id` go along for the record. Returns the message id."""
        ...


class Queue(Protocol):
    def send_all(self, bodies: Sequence[str]) -> int:
        """Queue every body, or raise QueueSendError (the caller then retries the whole unit);
        QueueMessageTooLarge, before anything is sent, when one is over SQS_MESSAGE_MAX_BYTES."""
        ...


class SecretReader(Protocol):
    def get(self, name: str) -> str:
        """The secret's current value (cached for a few minutes by the AWS adapter)."""
        ...


class ChatUndelivered(Exception):
    """A chat bot did not take a message (rejected, throttled, unreachable); `reason` says which."""

    def __init__(self, bot: str, reason: str, retry_after: float | None = None):
        super().__init__(f"chat bot {bot!r}: {reason}")
        self.bot = bot
        self.reason = reason
        self.retry_after = retry_after  # seconds, when the bot said how long to wait


class Timers(Protocol):
    """Named one-time wake-ups (EventBridge Scheduler one-time schedules on AWS; see
    docs/response.md). When one is due, its payload is handed to the notifier's timer entry point."""

    def set(self, name: str, at: datetime, payload: dict[str, Any]) -> None:
        """Wake at `at` (UTC) with `payload`; setting a name again replaces it (idempotent)."""
        ...

    def cancel(self, names: Sequence[str]) -> int:
        """Delete these timers; names that do not exist (fired or never set) are ignored.
        Returns how many existed."""
        ...


class Timeline(Protocol):
    """Every event of an incident's life, append-only, oldest first."""

    def append(self, incident_id: str, events: Sequence[TimelineEvent]) -> None:
        """Idempotent by `event.key`: appending the same key again changes nothing."""
        ...

    def page(
        self, incident_id: str, limit: int, cursor: str | None = None
    ) -> tuple[list[TimelineEvent], str | None]:
        """Oldest first; `cursor` is the opaque value the previous page returned (None: no more).
        InvalidCursor (a ValueError) for a cursor this incident's pages never returned."""
        ...


class ChatGate(Protocol):
    """Per chat bot, what it was sent lately and what is held back: the bot's limits are never
    exceeded, and what does not fit waits in a backlog that goes out as one digest."""

    def admit(self, bot: str, now: datetime, limits: ChatLimits, messages: int = 1) -> datetime | None:
        """Record `messages` sends at `now` when the bot's windows take all of them (None); otherwise
        record nothing and answer the earliest moment they would fit."""
        ...

    def hold(self, bot: str, line: str, now: datetime) -> int:
        """Add one line to the bot's backlog; returns the backlog's length. Beyond its cap
        (crisiswatch.escalation.chat.BACKLOG_CAP) a line is only counted: `take_held` then ends
        with "…及另外 N 条", and the length counts it too."""
        ...

    def take_held(self, bot: str) -> list[str]:
        """Remove and return the backlog, oldest first (each line is taken once)."""
        ...

    def put_back(self, bot: str, lines: Sequence[str]) -> int:
        """Return lines that `take_held` gave (a digest that could not go out) to the front of the
        backlog, within its cap; returns the backlog's length."""
        ...


class ChatSender(Protocol):
    def send(self, bot: ChatBotConfig, secret: str, title: str, markdown: str) -> str:
        """One message (already within the bot's size limit); returns an id for the record.
        ChatUndelivered when the bot does not take it."""
        ...


class HeldAlerts(Protocol):
    """Alerts that quiet hours hold back, per watch and the moment they may go out (one digest)."""

    def hold(self, watch_id: str, until: datetime, key: str, entry: dict[str, Any]) -> None:
        """Keep `entry` under `key` (holding the same key again changes nothing)."""
        ...

    def take(self, watch_id: str, until: datetime) -> list[dict[str, Any]]:
        """Remove and return what is held for that moment, oldest first (by the entries' `at`)."""
        ...
