"""Injected faults: what goes wrong, on which calls, how often.

The middleware in `middleware.py` asks `FaultBook.pick` before every eBay call and
acts out the answer; this module only decides. A rule may be limited to a time
window on the emulator's clock (an outage "from before the bid until after the
end"); a rule whose window has passed is dropped, so a long fault campaign's
thousands of rules do not slow every call down.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FaultKind(StrEnum):
    LATENCY = "latency"  # answer normally, but late
    STATUS = "status"  # answer with an HTTP error status instead
    RATE_LIMIT = "rate_limit"  # answer 429 with Retry-After
    TIMEOUT = "timeout"  # hold the answer longer than a client waits
    DROP = "drop"  # close the connection before the answer is complete
    EXPIRE_TOKEN = "expire_token"  # the caller's access token expires right now


@dataclass
class Fault:
    """One fault rule. It fires on matching calls until `remaining` runs out, each
    time with probability `rate` (drawn from its own seeded generator)."""

    fault_id: str
    kind: FaultKind
    path_prefix: str = "/"
    method: str | None = None
    remaining: int | None = 1
    rate: float = 1.0
    seed: int | None = None
    delay_ms: int = 0
    status: int = 503
    retry_after: int = 1
    hold_seconds: float = 120.0
    processed: bool = False
    active_from: float | None = None  # emulator clock, Unix seconds
    active_until: float | None = None
    hits: int = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.remaining is not None and self.remaining < 1:
            raise ValueError("count must be at least 1")
        if self.kind is FaultKind.STATUS and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if self.delay_ms < 0 or self.hold_seconds < 0 or self.retry_after < 0:
            raise ValueError("durations cannot be negative")
        if not self.path_prefix.startswith("/"):
            raise ValueError("pathPrefix must start with /")
        if (
            self.active_from is not None
            and self.active_until is not None
            and self.active_until <= self.active_from
        ):
            raise ValueError("activeUntil must come after activeFrom")
        self._random = random.Random(self.seed)

    def matches(self, method: str, path: str, now: float | None = None) -> bool:
        if self.remaining == 0 or not path.startswith(self.path_prefix):
            return False
        if now is not None and not self.active(now):
            return False
        return self.method is None or self.method.upper() == method.upper()

    def active(self, now: float) -> bool:
        """Whether `now` lies in the rule's window (no window: always)."""
        if self.active_from is not None and now < self.active_from:
            return False
        return self.active_until is None or now < self.active_until

    def expired(self, now: float) -> bool:
        return self.active_until is not None and now >= self.active_until

    def fires(self) -> bool:
        """Draw once; consume one of the remaining hits when it fires."""
        if self.rate < 1.0 and self._random.random() >= self.rate:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        self.hits += 1
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "faultId": self.fault_id,
            "kind": self.kind.value,
            "pathPrefix": self.path_prefix,
            "method": self.method,
            "remaining": self.remaining,
            "rate": self.rate,
            "seed": self.seed,
            "delayMs": self.delay_ms,
            "status": self.status,
            "retryAfter": self.retry_after,
            "holdSeconds": self.hold_seconds,
            "processed": self.processed,
            "activeFrom": self.active_from,
            "activeUntil": self.active_until,
            "hits": self.hits,
        }


@dataclass
class FaultBook:
    """The active fault rules, first match wins."""

    faults: list[Fault] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next_id(self) -> str:
        return f"fault-{next(self._ids)}"

    def add(self, fault: Fault) -> Fault:
        self.faults.append(fault)
        return fault

    def clear(self) -> None:
        self.faults.clear()

    def pick(self, method: str, path: str, now: float | None = None) -> Fault | None:
        """The first rule that matches and fires; `now` (emulator clock) applies
        the rules' windows and drops the rules whose window has passed."""
        if now is not None and any(fault.expired(now) for fault in self.faults):
            self.faults = [fault for fault in self.faults if not fault.expired(now)]
        for fault in self.faults:
            if fault.matches(method, path, now) and fault.fires():
                return fault
        return None
