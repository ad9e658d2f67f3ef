"""Run the outbox with uvicorn on a background thread (tests, the local stack)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from local.outbox.app import Outbox, create_app

STARTUP_SECONDS = 10.0


class OutboxServer:
    """The outbox on `http://HOST:PORT`; port 0 picks a free one.

    >>> with OutboxServer(token="local-token") as outbox:
    ...     PostmarkClient(server_token="local-token", root_api_url=outbox.api_url)
    """

    def __init__(
        self,
        *,
        token: str,
        port: int = 0,
        host: str = "127.0.0.1",
        log_level: str = "warning",
    ) -> None:
        self.outbox = Outbox(token)
        self._host = host
        self._requested_port = port
        self._log_level = log_level
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the outbox is not running")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """The outbox's base URL, without a trailing slash."""
        return f"http://{self._host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What `POSTMARK_API_URL` (postmarker's `root_api_url`) should be."""
        return self.url + "/"

    def start(self) -> OutboxServer:
        if self._thread is not None:
            raise RuntimeError("the outbox is already running")
        # IPPROTO_TCP: asyncio turns Nagle off only on sockets that say they are TCP.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        self._socket = sock
        self._server = uvicorn.Server(
            uvicorn.Config(
                create_app(self.outbox),
                http="h11",
                lifespan="off",
                log_level=self._log_level,
                access_log=False,
                server_header=False,
                timeout_graceful_shutdown=1,
            )
        )
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="postmark-outbox",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the outbox did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=6)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> OutboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
