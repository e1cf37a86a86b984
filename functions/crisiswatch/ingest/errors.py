"""What can go wrong while fetching from a platform, in the domain's words.

The fetcher handler only ever sees these (never urllib's, socket's or json's exceptions):

- ``FetchError``: the platform could not be read (transport failure, timeout, an HTTP status that is
  not retried, or retries exhausted). The job fails and is retried by the queue; no cursor moves.
- ``MalformedResponse``: the platform answered, but not with what we can read (not JSON, or JSON of
  the wrong shape). A subclass of ``FetchError``, so a handler that fails the job on ``FetchError``
  treats both alike; it is raised at once, without HTTP-level retries.
- ``UnsupportedPlatform``: a job names a platform that has no registered adapter (a configuration
  error: retrying will not help).
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of every ingest error."""


class FetchError(IngestError):
    """The platform could not be read.

    ``status`` is the last HTTP status seen (None for transport errors), ``attempts`` how many
    requests were made, ``retry_after`` the server's requested wait when it asked for one.
    """

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        attempts: int = 0,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.url = url
        self.status = status
        self.attempts = attempts
        self.retry_after = retry_after


class MalformedResponse(FetchError):
    """The body is not JSON, or not of the shape the adapter expects. The message says why."""


class UnsupportedPlatform(IngestError, LookupError):
    """No adapter is registered for this platform."""

    def __init__(self, platform: str, known: list[str]) -> None:
        super().__init__(f"no ingest adapter for platform {platform!r}; registered: {', '.join(known)}")
        self.platform = platform


def excerpt(text: str | bytes, limit: int = 80) -> str:
    """A short, single-line excerpt of a body for error messages (never the whole body)."""
    if isinstance(text, bytes):
        text = text[: limit * 4].decode("utf-8", errors="replace")
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"
