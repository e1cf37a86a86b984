"""A small HTTP client on the standard library for the platform adapters: JSON, or raw bytes for feeds.

Why urllib and not requests/httpx: Lambda's Python runtime ships without them, the fetcher makes a
handful of plain GETs per run, and everything we need (timeouts, retries, Retry-After, gzip) is a
few lines here, fully under test. One less dependency in the layer, one less cold-start import.

Behaviour:
- every request has a timeout (``timeout`` seconds, per socket operation);
- 429, 5xx, connection errors and timeouts are retried up to ``max_attempts`` requests in all, with
  exponential backoff and full jitter (``uniform(0, min(backoff_cap, backoff_base * 2**n))``);
- a ``Retry-After`` header (seconds, or an HTTP date) replaces the backoff for that wait; when the
  server asks for more than ``max_retry_after`` seconds we give up at once with ``FetchError``
  (``retry_after`` set) instead of hammering it early: the next scheduled run will try again;
- the whole call never plans to wait past ``deadline`` seconds (a Lambda has a timeout too);
- other 4xx are not retried; a body that is not JSON (``get_json``), cannot be decompressed or is
  too large raises ``MalformedResponse`` (not retried: a platform that sends garbage once usually
  sends it again; the queue retries the job later). ``get_bytes`` returns the body and leaves
  reading it (XML) to the adapter, with the same transport behaviour;
- ``sleep``, ``clock`` and ``rng`` are injectable so tests never really wait.

Logs are structured and carry no query strings, headers or bodies.
"""

from __future__ import annotations

import gzip
import http.client
import json
import random
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from aws_lambda_powertools import Logger

from crisiswatch.constants import SERVICE
from crisiswatch.ingest.errors import FetchError, MalformedResponse, excerpt

logger = Logger(service=SERVICE, child=True)

# What the Weibo H5 site sends from Safari on an iPhone; platforms serve their mobile JSON to it.
MOBILE_USER_AGENT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
DEFAULT_HEADERS: dict[str, str] = {
    "User-Agent": MOBILE_USER_AGENT,
    "Accept": "application/json, text/plain, */*",
    "Accept-Language": "zh-CN,zh-Hans;q=0.9",
    "Accept-Encoding": "gzip, deflate",
}
MAX_BODY_BYTES = 5 * 1024 * 1024


def is_retryable_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date; None if unusable.

    Fractional seconds are accepted (not in the RFC, but harmless and handy for local tests).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is unusable
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def redact(url: str) -> str:
    """The URL without its query string and credentials: what we allow in logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class JsonClient(Protocol):
    """What the JSON adapters need from an HTTP client (``HttpClient``, or a fake in tests)."""

    def get_json(self, url: str, *, headers: Mapping[str, str] | None = None) -> Any: ...


class BytesClient(Protocol):
    """What adapters of non-JSON formats (RSS/Atom) need: the raw body (``HttpClient.get_bytes``)."""

    def get_bytes(self, url: str, *, headers: Mapping[str, str] | None = None) -> bytes: ...


class _Retry(Exception):
    """Internal: this attempt failed in a way worth retrying."""

    def __init__(self, reason: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True)
class _Response:
    """A successful answer, body decompressed."""

    body: bytes
    status: int
    content_type: str
    safe_url: str
    attempt: int


class HttpClient:
    """GETs JSON (``get_json``) or raw bodies (``get_bytes``, for XML feeds) with timeouts and
    retries. Thread-safe as long as ``sleep``/``rng`` are."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        max_retry_after: float = 30.0,
        deadline: float | None = None,
        headers: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_retry_after = max_retry_after
        self.deadline = deadline
        self.headers = {**DEFAULT_HEADERS, **(headers or {})}
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()
        self.max_body_bytes = max_body_bytes
        # Environment proxies are honoured (urllib's default), as any HTTP client would.
        self._opener = urllib.request.build_opener()

    def backoff(self, retry_number: int) -> float:
        """Full jitter: uniform(0, min(cap, base * 2**n)) for the n-th retry (n from 0)."""
        return self.rng.uniform(0.0, min(self.backoff_cap, self.backoff_base * (2**retry_number)))

    def get_json(self, url: str, *, headers: Mapping[str, str] | None = None) -> Any:
        """GET ``url`` and return its decoded JSON body.

        Raises ``FetchError`` when retries are exhausted or the failure is not retryable, and
        ``MalformedResponse`` when the body is not JSON.
        """
        response = self._get(url, headers)
        try:
            return json.loads(response.body)
        except (ValueError, UnicodeDecodeError) as e:
            content_type = response.content_type
            kind = f" ({content_type.split(';')[0]})" if content_type else ""
            raise MalformedResponse(
                f"GET {response.safe_url}: body is not JSON{kind}: {_describe(e)}; "
                f"starts with {excerpt(response.body)!r}",
                url=response.safe_url,
                status=response.status,
                attempts=response.attempt,
            ) from None

    def get_bytes(self, url: str, *, headers: Mapping[str, str] | None = None) -> bytes:
        """GET ``url`` and return its body as bytes (decompressed; the charset is left to the caller,
        e.g. an XML parser that reads the document's own declaration).

        The same timeouts, retries, Retry-After handling and size limit as ``get_json``. Raises
        ``FetchError``, or ``MalformedResponse`` for a body that cannot be decompressed or is too large.
        """
        return self._get(url, headers).body

    def _get(self, url: str, headers: Mapping[str, str] | None) -> _Response:
        """The request with its retries: the first good answer, or ``FetchError``."""
        started = self.clock()
        safe_url = redact(url)
        request_headers = {**self.headers, **(headers or {})}
        last: _Retry | None = None
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._attempt(url, safe_url, request_headers, attempt)
            except _Retry as failure:
                last = failure
            if attempt == self.max_attempts:
                break
            delay = self._plan_wait(last, attempt, started, safe_url)
            logger.info(
                "http retry",
                url=safe_url,
                attempt=attempt,
                status=last.status,
                reason=last.reason,
                wait_seconds=round(delay, 3),
            )
            self.sleep(delay)
        assert last is not None
        logger.warning(
            "http gave up", url=safe_url, attempts=self.max_attempts, status=last.status, reason=last.reason
        )
        raise FetchError(
            f"GET {safe_url} failed after {self.max_attempts} attempts: {last.reason}",
            url=safe_url,
            status=last.status,
            attempts=self.max_attempts,
            retry_after=last.retry_after,
        )

    def _plan_wait(self, failure: _Retry, attempt: int, started: float, safe_url: str) -> float:
        if failure.retry_after is not None:
            if failure.retry_after > self.max_retry_after:
                raise FetchError(
                    f"GET {safe_url}: server asked to wait {failure.retry_after:.0f}s "
                    f"(more than {self.max_retry_after:.0f}s); giving up for this run",
                    url=safe_url,
                    status=failure.status,
                    attempts=attempt,
                    retry_after=failure.retry_after,
                )
            delay = failure.retry_after
        else:
            delay = self.backoff(attempt - 1)
        if self.deadline is not None and (self.clock() - started) + delay + self.timeout > self.deadline:
            raise FetchError(
                f"GET {safe_url} failed ({failure.reason}); no time left for another attempt "
                f"within {self.deadline:.0f}s",
                url=safe_url,
                status=failure.status,
                attempts=attempt,
                retry_after=failure.retry_after,
            )
        return delay

    def _attempt(self, url: str, safe_url: str, headers: dict[str, str], attempt: int) -> _Response:
        request = urllib.request.Request(url, headers=headers, method="GET")
        t0 = time.monotonic()
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status = response.status
                encoding = (response.headers.get("Content-Encoding") or "").lower()
                content_type = response.headers.get("Content-Type") or ""
                raw = response.read(self.max_body_bytes + 1)
        except urllib.error.HTTPError as e:
            status = e.code
            retry_after = parse_retry_after(e.headers.get("Retry-After") if e.headers else None, self.clock())
            e.close()
            if is_retryable_status(status):
                raise _Retry(f"HTTP {status}", status=status, retry_after=retry_after) from None
            logger.warning("http error", url=safe_url, status=status, attempt=attempt)
            raise FetchError(
                f"GET {safe_url} answered HTTP {status}", url=safe_url, status=status, attempts=attempt
            ) from None
        except urllib.error.URLError as e:
            raise _Retry(f"connection failed: {_describe(e.reason)}") from None
        except (TimeoutError, OSError, http.client.HTTPException) as e:
            # TimeoutError (socket.timeout) while reading, resets, IncompleteRead, RemoteDisconnected.
            raise _Retry(f"transport error: {_describe(e)}") from None

        elapsed_ms = round((time.monotonic() - t0) * 1000)
        logger.debug("http ok", url=safe_url, status=status, attempt=attempt, elapsed_ms=elapsed_ms)
        if len(raw) > self.max_body_bytes:
            raise MalformedResponse(
                f"GET {safe_url}: body larger than {self.max_body_bytes} bytes",
                url=safe_url,
                status=status,
                attempts=attempt,
            )
        body = _decode(raw, encoding, safe_url, status, attempt)
        return _Response(
            body=body, status=status, content_type=content_type, safe_url=safe_url, attempt=attempt
        )


def _decode(raw: bytes, encoding: str, safe_url: str, status: int, attempt: int) -> bytes:
    try:
        if encoding == "gzip":
            return gzip.decompress(raw)
        if encoding == "deflate":
            return zlib.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise MalformedResponse(
            f"GET {safe_url}: cannot decompress {encoding} body: {_describe(e)}",
            url=safe_url,
            status=status,
            attempts=attempt,
        ) from None
    return raw


def _describe(error: object) -> str:
    text = str(error) or type(error).__name__
    return excerpt(f"{type(error).__name__}: {text}" if isinstance(error, BaseException) else text, 120)
