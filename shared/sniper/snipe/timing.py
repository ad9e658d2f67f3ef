"""The snipe's timing rule, in one place.

```
 created ... fire_at ........ target ..... cutoff . end ........ outcome check
             |<-- margin -->|<-- lead (3-60 s) ----------->|
             end - lead - margin   end - lead    end - 1 s
```

- **fire_at** is when the bid's one-time schedule wakes the executor: `end - lead -
  margin`. EventBridge Scheduler delivers with one-minute precision and Lambda may
  start cold, so the margin (about 90 s on AWS) absorbs both; the executor then
  sleeps until the target on eBay's clock.
- **target** is when the bid is meant to reach eBay: `end - lead`.
- **cutoff** is the last moment a retry is worth sending: `end - cutoff_seconds`
  (1 s), as a bid that reaches eBay after the end is refused.
- A bid can be created only while `now + creation_slack <= fire_at` would be met, or
  at least while the target is still ahead by the margin's worth: closer than `lead +
  margin` to the end there is no reliable way to wake up in time.
- After the end the executor polls eBay for the outcome with back-off, for at most
  `outcome_wait_seconds`; then a later check (its own one-time schedule) finishes it.
- While it waits for the target the executor re-reads the bid every
  `recheck_seconds` (a cancel ends the wait at once, an edited lead moves the
  target); `warmup_seconds` before the target it reads the item a last time (the
  price check, and a warm TLS connection to eBay for the bid itself), and
  `commit_ahead_seconds` before it commits to send (the conditional write that
  ends edits), so that write's round trip is not part of the bid's lateness. One
  bid request waits `bid_timeout_seconds` for eBay's answer before it is
  reconciled.
- Outcome checks back off from `outcome_recheck_seconds` after the end, doubling,
  at most `outcome_checks` of them; then the bid is FAILED "eBay never reported the
  outcome" (the bid may stand on eBay: the reason says so).

Every number is a setting so tests and `make dev` run a snipe in seconds.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

DEFAULT_MARGIN_SECONDS = 90
DEFAULT_CUTOFF_SECONDS = 1.0
DEFAULT_OUTCOME_WAIT_SECONDS = 60
DEFAULT_OUTCOME_RECHECK_SECONDS = 300
DEFAULT_WARMUP_SECONDS = 2.0
DEFAULT_BID_TIMEOUT_SECONDS = 2.0
DEFAULT_RECHECK_SECONDS = 10.0
DEFAULT_OUTCOME_CHECKS = 6
DEFAULT_COMMIT_AHEAD_SECONDS = 0.2


def number_setting(environ: Mapping[str, str], name: str, default: float) -> float:
    """A non-negative number of seconds from the environment; `default` if unset."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, not {raw!r}")
    return value


@dataclass(frozen=True)
class SnipeTiming:
    """The snipe's clock: margins and waits, in seconds."""

    margin_seconds: int = DEFAULT_MARGIN_SECONDS
    cutoff_seconds: float = DEFAULT_CUTOFF_SECONDS
    outcome_wait_seconds: int = DEFAULT_OUTCOME_WAIT_SECONDS
    outcome_recheck_seconds: int = DEFAULT_OUTCOME_RECHECK_SECONDS
    warmup_seconds: float = DEFAULT_WARMUP_SECONDS
    bid_timeout_seconds: float = DEFAULT_BID_TIMEOUT_SECONDS
    recheck_seconds: float = DEFAULT_RECHECK_SECONDS
    outcome_checks: int = DEFAULT_OUTCOME_CHECKS
    commit_ahead_seconds: float = DEFAULT_COMMIT_AHEAD_SECONDS

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> SnipeTiming:
        env = os.environ if environ is None else environ
        return cls(
            margin_seconds=int(
                number_setting(env, "SNIPE_MARGIN_SECONDS", DEFAULT_MARGIN_SECONDS)
            ),
            cutoff_seconds=number_setting(
                env, "BID_CUTOFF_SECONDS", DEFAULT_CUTOFF_SECONDS
            ),
            outcome_wait_seconds=int(
                number_setting(
                    env, "OUTCOME_WAIT_SECONDS", DEFAULT_OUTCOME_WAIT_SECONDS
                )
            ),
            outcome_recheck_seconds=int(
                number_setting(
                    env, "OUTCOME_RECHECK_SECONDS", DEFAULT_OUTCOME_RECHECK_SECONDS
                )
            ),
            warmup_seconds=number_setting(
                env, "SNIPE_WARMUP_SECONDS", DEFAULT_WARMUP_SECONDS
            ),
            bid_timeout_seconds=number_setting(
                env, "BID_TIMEOUT_SECONDS", DEFAULT_BID_TIMEOUT_SECONDS
            ),
            recheck_seconds=max(
                0.1, number_setting(env, "BID_RECHECK_SECONDS", DEFAULT_RECHECK_SECONDS)
            ),
            outcome_checks=max(
                1,
                int(
                    number_setting(
                        env, "OUTCOME_CHECK_ATTEMPTS", DEFAULT_OUTCOME_CHECKS
                    )
                ),
            ),
            commit_ahead_seconds=number_setting(
                env, "SNIPE_COMMIT_AHEAD_SECONDS", DEFAULT_COMMIT_AHEAD_SECONDS
            ),
        )

    @staticmethod
    def target_time(end: int, lead: int) -> int:
        """When the bid should reach eBay."""
        return end - lead

    def fire_at(self, end: int, lead: int) -> int:
        """When the bid's schedule wakes the executor."""
        return end - lead - self.margin_seconds

    def cutoff(self, end: float) -> float:
        """The last moment worth sending (or re-sending) the bid."""
        return end - self.cutoff_seconds

    def latest_creatable(self, end: int, lead: int) -> int:
        """The last moment a bid with this lead can still be scheduled reliably."""
        return self.fire_at(end, lead)

    def can_schedule(self, end: int, lead: int, now: float) -> bool:
        """Whether the executor can still be woken before the target, with margin."""
        return now <= self.latest_creatable(end, lead)

    def warmup_at(self, target: float) -> float:
        """When the executor reads the item a last time before bidding."""
        return target - self.warmup_seconds

    def commit_at(self, target: float) -> float:
        """When the executor commits to send (edits and cancels end there)."""
        return target - self.commit_ahead_seconds

    def outcome_deadline(self, end: float) -> float:
        """How long one invocation waits for eBay to report the auction ended; the
        user's access token must stay valid until then."""
        return end + self.outcome_wait_seconds

    def outcome_check_at(self, end: int, attempt: int) -> int:
        """When a later outcome check runs: after the end, backing off per attempt."""
        return end + self.outcome_recheck_seconds * int(2 ** max(0, attempt - 1))


@cache
def snipe_timing() -> SnipeTiming:
    """This container's timing, read once."""
    return SnipeTiming.from_environ()
