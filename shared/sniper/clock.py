"""The current time, injectable so services can be tested at any instant."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    """The container's NTP-synced clock."""

    def now(self) -> float:
        return time.time()
