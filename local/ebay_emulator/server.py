"""Run the emulator with uvicorn on a background thread (tests, the local stack)."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from local.ebay_emulator.app import create_app
from local.ebay_emulator.clock import Clock
from local.ebay_emulator.oauth import OAuthApp
from local.ebay_emulator.scripted import ScriptTimer
from local.ebay_emulator.state import EmulatorState

STARTUP_SECONDS = 10.0
# Held (timeout-fault) responses are cut off this long after stop() is asked for.
SHUTDOWN_GRACE_SECONDS = 1


class EmulatorServer:
    """The emulator on `http://127.0.0.1:<port>`; port 0 picks a free one.

    >>> with EmulatorServer() as ebay:
    ...     httpx.get(ebay.url + "/__admin/clock")
    """

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        state: EmulatorState | None = None,
        clock: Clock | None = None,
        app: OAuthApp | None = None,
        log_level: str = "warning",
    ) -> None:
        if state is not None and (clock is not None or app is not None):
            raise ValueError(
                "give the clock and app to EmulatorState, or pass no state"
            )
        self.state = state if state is not None else EmulatorState(clock, app=app)
        self._host = host
        self._requested_port = port
        self._log_level = log_level
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._scripts: ScriptTimer | None = None

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the emulator is not running")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """The base URL every eBay host name is pointed at, without a trailing slash."""
        return f"http://{self._host}:{self.port}"

    def start(self) -> EmulatorServer:
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        # proto=IPPROTO_TCP matters: asyncio turns Nagle off only on sockets that say
        # they are TCP, and with Nagle on every response waits ~40 ms for an ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._requested_port))
        self._socket = sock
        config = uvicorn.Config(
            create_app(self.state),
            http="h11",
            lifespan="off",
            log_level=self._log_level,
            access_log=False,
            date_header=False,
            server_header=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [sock]},
            name="ebay-emulator",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the eBay emulator did not start")
            time.sleep(0.01)
        self._scripts = ScriptTimer(self.state)
        self._scripts.start()
        return self

    def stop(self) -> None:
        if self._scripts is not None:
            self._scripts.stop()
            self._scripts = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=SHUTDOWN_GRACE_SECONDS + 5)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
