"""Rival bids scripted for a moment: "rival1 bids $25 two seconds before the end".

A snipe's tests need a rival who acts at a precise instant, not when the test gets
round to it. A `ScriptedBid` waits in the state's `ScriptBook` until its moment on
the emulator's clock, then goes through `EmulatorState.place_bid`, the rules every
Offer API bid meets, as of that moment. Two things make it fire on time:

- every request runs the due ones first (so after a `ManualClock` jump the next
  call already sees them: no request after the moment is served before the bid);
- `ScriptTimer`, a thread of `EmulatorServer`, sleeps until the next moment, so a
  bid lands within milliseconds even when nobody calls.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from local.ebay_emulator.auction import BidRefusal, Listing

# The timer looks again at least this often: the emulator's clock can jump
# (`ManualClock`, `POST /__admin/clock`) without telling anyone.
MAX_SLEEP_S = 0.05
IDLE_SLEEP_S = 1.0
MIN_SLEEP_S = 0.001


class LateScriptError(Exception):
    """A scripted moment after the listing's end: refused as a late bid would be."""

    def __init__(self, refusal: BidRefusal) -> None:
        super().__init__(refusal.name)
        self.refusal = refusal


class UnknownScriptError(KeyError):
    """No scripted bid with that id on that listing."""


class ScriptStatus(StrEnum):
    PENDING = "PENDING"
    PLACED = "PLACED"
    REFUSED = "REFUSED"
    CANCELLED = "CANCELLED"


@dataclass
class ScriptedBid:
    """A bid to place at `at`, or `seconds_before_end` before the listing's end
    (followed if the end moves)."""

    script_id: str
    item_id: str
    bidder: str
    max_cents: int
    currency: str
    created_at: float
    at: float | None = None
    seconds_before_end: float | None = None
    status: ScriptStatus = ScriptStatus.PENDING
    fired_at: float | None = None  # emulator time it actually ran
    placed_at: float | None = None  # the bid's time: its moment
    proxy_bid_id: str | None = None
    refusal: BidRefusal | None = None

    def moment(self, listing: Listing) -> float:
        """When it is due (when it was placed, once it ran); never before it was
        scripted."""
        if self.placed_at is not None:
            return self.placed_at
        if self.seconds_before_end is not None:
            wanted = listing.closes_at - self.seconds_before_end
        else:
            assert self.at is not None
            wanted = self.at
        return max(wanted, self.created_at)


class ScriptBook:
    """The scripted bids of one emulator run (a reset starts a new book)."""

    def __init__(self) -> None:
        self.bids: dict[str, ScriptedBid] = {}
        self._ids = itertools.count(1)

    def next_id(self) -> str:
        return f"script-{next(self._ids)}"

    def pending(self) -> list[ScriptedBid]:
        return [b for b in self.bids.values() if b.status is ScriptStatus.PENDING]


class ScriptRunner(Protocol):
    """What the timer needs from the state."""

    scripts_changed: threading.Event

    def now(self) -> float: ...

    def run_due_scripted_bids(self) -> list[ScriptedBid]: ...

    def next_scripted_moment(self) -> float | None: ...


class ScriptTimer:
    """Places scripted bids at their moment even when no request comes in."""

    def __init__(self, state: ScriptRunner) -> None:
        self._state = state
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name="ebay-emulator-scripts", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._state.scripts_changed.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None

    def _loop(self) -> None:
        changed = self._state.scripts_changed
        while not self._stop.is_set():
            try:
                self._state.run_due_scripted_bids()
                moment = self._state.next_scripted_moment()
            except Exception:  # keep the timer alive; requests still fire them
                moment = None
            if moment is None:
                sleep = IDLE_SLEEP_S
            else:
                remaining = moment - self._state.now()
                sleep = min(max(remaining, MIN_SLEEP_S), MAX_SLEEP_S)
            # A new script wakes the timer; it then looks at the book again.
            changed.wait(sleep)
            changed.clear()
