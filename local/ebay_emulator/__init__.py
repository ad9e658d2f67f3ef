"""A local eBay that keeps real auction semantics, for tests and `make dev`.

Start it with `EmulatorServer` (or `python -m local.ebay_emulator`), point every eBay
base URL at its `url`, and script scenarios through `/__admin/` or `server.state`.
"""

from local.ebay_emulator.app import create_app
from local.ebay_emulator.clock import Clock, ManualClock, SystemClock
from local.ebay_emulator.oauth import (
    BID_SCOPE,
    IDENTITY_SCOPE,
    PUBLIC_SCOPE,
    OAuthApp,
)
from local.ebay_emulator.server import EmulatorServer
from local.ebay_emulator.state import EmulatorState

__all__ = [
    "BID_SCOPE",
    "IDENTITY_SCOPE",
    "PUBLIC_SCOPE",
    "Clock",
    "EmulatorServer",
    "EmulatorState",
    "ManualClock",
    "OAuthApp",
    "SystemClock",
    "create_app",
]
