"""The lifecycle the local simulators share: a threaded HTTP server on a free local port, serving
a handler class that reaches its simulator as `self.sim`; start/stop, a context manager, base_url."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self


class LocalServer:
    host: str
    port: int
    thread_name = "local-server"
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def _before_start(self) -> None:
        """Hook: runs before the server starts serving."""

    def _before_stop(self) -> None:
        """Hook: runs before the server shuts down (e.g. to end slow answers in progress)."""

    def start(self) -> str:
        if self._server is None:
            handler = type("Handler", (self._handler_class(),), {"sim": self})
            server = ThreadingHTTPServer((self.host, self.port), handler)
            server.block_on_close = False  # a "slow" answer in progress must not hold up stop()
            server.daemon_threads = True
            self._server = server
            self._before_start()
            self._thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.02},
                name=self.thread_name,
                daemon=True,
            )
            self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._before_stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("simulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"
