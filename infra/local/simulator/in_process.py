"""The simulator's answers without a socket: the HTTP client of the memory runtime.

It speaks the fetch path's client protocols (`crisiswatch.ingest.http.JsonClient` and
`BytesClient`), so the real adapters parse the simulator's real payloads, page by page; only the
transport is gone (and with it the retries: a non-200 answer is a `FetchError` at once).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from crisiswatch.ingest.errors import FetchError, MalformedResponse, excerpt


class InProcessClient:
    def __init__(self, simulator) -> None:
        self._simulator = simulator
        self.requests = 0

    def get_json(self, url: str, *, headers: Mapping[str, str] | None = None) -> Any:
        body, payload = self._get(url, headers)
        if body is None:  # JSON the simulator built: the decoded document, without a round trip
            return payload
        try:
            return json.loads(body)
        except ValueError:
            raise MalformedResponse(f"not JSON: {excerpt(body)}", url=urlsplit(url).path) from None

    def get_bytes(self, url: str, *, headers: Mapping[str, str] | None = None) -> bytes:
        body, payload = self._get(url, headers)
        return body if body is not None else json.dumps(payload, ensure_ascii=False).encode()

    def _get(self, url: str, headers: Mapping[str, str] | None) -> tuple[bytes | None, Any]:
        parts = urlsplit(url)
        self.requests += 1
        status, body, payload = self._simulator.answer(
            parts.path + (f"?{parts.query}" if parts.query else ""), dict(headers or {})
        )
        if status != 200:
            raise FetchError(f"HTTP {status}", url=parts.path, status=status, attempts=1)
        return body, payload
