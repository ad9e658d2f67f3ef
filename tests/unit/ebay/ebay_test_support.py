"""Test doubles and data for the eBay client tests: app keys, a fake clock, and
the captured wire examples in tests/fixtures/ebay (sources in its README)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ebay"

CLIENT_ID = "JaneDoe-sniper-PRD-1a2b3c4d5-6e7f8a9b"
CLIENT_SECRET = "PRD-1a2b3c4d5e6f-7a8b-9c0d-1e2f-3a4b"
RU_NAME = "Jane_Doe-JaneDoe-sniper-abcdefghij"
USER_TOKEN = "v^1.1#i^1#p^3#r^1#I^3#f^0#t^USER-ACCESS-TOKEN-0123456789"
NOW = 1_741_600_000.0  # 2025-03-10T09:46:40Z, a day before the auction ends


class Wire:
    """Reads the captured eBay bodies by file name."""

    def bytes(self, name: str) -> bytes:
        return (FIXTURES / name).read_bytes()

    def json(self, name: str) -> Any:
        return json.loads(self.bytes(name))


class FakeClock:
    """Unix time that only moves when told to; ``sleep`` advances it."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
