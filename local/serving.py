"""A Starlette app served by uvicorn on a background thread: the eBay emulator and
the Postmark outbox both run this way (tests, the local stack)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn

STARTUP_SECONDS = 10.0


class ThreadedServer:
    """`app` on `http://HOST:PORT`; port 0 picks a free one.

    Subclasses say what they serve (`_app`), and may act once it serves
    (`_started`) and before it stops (`_stopping`).
    """

    what = "the server"
    thread_name = "server"
    graceful_shutdown_seconds = 1
    config: dict[str, Any] = {}

    def __init__(self, port: int, host: str, log_level: str) -> None:
        self._host = host
        self._requested_port = port
        self._log_level = log_level
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError(f"{self.what} is not running")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """The base URL, without a trailing slash."""
        return f"http://{self._host}:{self.port}"

    def _app(self) -> Any:
        raise NotImplementedError

    def _started(self) -> None:
        """Called once the server answers."""

    def _stopping(self) -> None:
        """Called first thing in `stop()`."""

    def start(self) -> Self:
        if self._thread is not None:
            raise RuntimeError(f"{self.what} is already running")
        # proto=IPPROTO_TCP matters: asyncio turns Nagle off only on sockets that say
        # they are TCP, and with Nagle on every response waits ~40 ms for an ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        self._socket = sock
        self._server = uvicorn.Server(
            uvicorn.Config(
                self._app(),
                http="h11",
                lifespan="off",
                log_level=self._log_level,
                access_log=False,
                server_header=False,
                timeout_graceful_shutdown=self.graceful_shutdown_seconds,
                **self.config,
            )
        )
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.what} did not start")
            time.sleep(0.01)
        self._started()
        return self

    def stop(self) -> None:
        self._stopping()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=self.graceful_shutdown_seconds + 5)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
