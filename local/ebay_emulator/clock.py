"""Time sources for the emulator.

Auction ends and token lifetimes are decided on the emulator's clock, never on the
wall clock directly, so tests can jump hours ahead without waiting.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

# 2026-01-01T00:00:00Z: a fixed, readable starting instant for manual clocks.
DEFAULT_MANUAL_START = 1_767_225_600.0


class Clock(Protocol):
    """Anything that tells the current time in seconds since the Unix epoch (UTC)."""

    def now(self) -> float: ...


class SystemClock:
    """The real time: what the emulator uses unless a test injects another clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to, so time-dependent tests are exact."""

    def __init__(self, start: float = DEFAULT_MANUAL_START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move forward by `seconds` and return the new time."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += seconds
            return self._now

    def set(self, instant: float) -> None:
        """Jump to an absolute instant (tests use it to rewind between cases)."""
        with self._lock:
            self._now = instant


class ShiftedClock:
    """A base clock plus an offset that the admin API can move forward.

    Scripted scenarios (`POST /__admin/clock`) shift this offset; the base clock
    stays whatever was injected.
    """

    def __init__(self, base: Clock) -> None:
        self.base = base
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def offset(self) -> float:
        with self._lock:
            return self._offset

    def now(self) -> float:
        return self.base.now() + self.offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the emulator's clock cannot go backwards")
        with self._lock:
            self._offset += seconds
        return self.now()

    def reset(self) -> None:
        with self._lock:
            self._offset = 0.0
