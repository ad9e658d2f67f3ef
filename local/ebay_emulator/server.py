"""Run the emulator with uvicorn on a background thread (tests, the local stack)."""

from __future__ import annotations

from typing import Any

from local.ebay_emulator.app import create_app
from local.ebay_emulator.clock import Clock
from local.ebay_emulator.oauth import OAuthApp
from local.ebay_emulator.scripted import ScriptTimer
from local.ebay_emulator.state import EmulatorState
from local.serving import ThreadedServer

# Held (timeout-fault) responses are cut off this long after stop() is asked for.
SHUTDOWN_GRACE_SECONDS = 1


class EmulatorServer(ThreadedServer):
    """The emulator on `http://127.0.0.1:<port>`; port 0 picks a free one.

    >>> with EmulatorServer() as ebay:
    ...     httpx.get(ebay.url + "/__admin/clock")
    """

    what = "the eBay emulator"
    thread_name = "ebay-emulator"
    graceful_shutdown_seconds = SHUTDOWN_GRACE_SECONDS
    config = {"date_header": False}

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
        super().__init__(port, host, log_level)
        self.state = state if state is not None else EmulatorState(clock, app=app)
        self._scripts: ScriptTimer | None = None

    def _app(self) -> Any:
        return create_app(self.state)

    def _started(self) -> None:
        self._scripts = ScriptTimer(self.state)
        self._scripts.start()

    def _stopping(self) -> None:
        if self._scripts is not None:
            self._scripts.stop()
            self._scripts = None
