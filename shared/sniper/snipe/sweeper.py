"""The safety net: once a minute, every bid in flight that something should have
moved on and did not, put right or failed with the reason.

The Bid Executor's own rules keep a bid honest while its schedule fires and its
invocation lives. The sweep covers what lies outside them: a schedule deleted or
never delivered, an executor killed mid-snipe, an outcome check whose schedule
was lost. It reads the sparse `StatusEndTimeIndex` (one Query per status, soonest
end first, never a Scan) and for each bid:

```
PENDING    schedule gone, time before fire_at ─ schedule made again
           fire_at + grace passed, still PENDING ─ the snipe run now
           the cutoff passed ─ FAILED (the schedule was lost / never woke it)
EXECUTING  not committed by max(target, claim) + grace, or nothing heard (the
           claim, a heartbeat) for 2 x recheck + grace: the executor died
           ├ before the cutoff ─ claim released, the snipe run again
           └ after it ─ FAILED (the sniper stopped before sending)
           committed (sent_at): never sent again ─ after the end, the outcome
           check reconciles with eBay (getBidding): PLACED then WON/LOST, or
           FAILED when eBay shows no bid of ours
PLACED     end + outcome wait passed, no outcome check scheduled ─ one run now
```

Every repair starts with a write conditional on the version just read, with its
history entry (REPAIR, or FAIL) in the same transaction: of two sweeps at once,
or a sweep and a late-waking executor, one wins and the other does nothing. A run
the sweep starts (an asynchronous invoke of the executor) carries that version as
`repair`, so it has an idempotency record of its own; behind it the executor's
conditional claim lets one snipe through, and its commit to send (conditional on
the version) lets one bid out, whatever runs at once. A run is bounded: at most
`max_bids` per status and `budget_seconds`, the rest left to the next minute.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from sniper import aws
from sniper.clock import Clock, SystemClock
from sniper.models.snipe import (
    BidExecutionEvent,
    BidNotificationEvent,
    ExecutionKind,
    Repair,
    SweepResult,
)
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.observability import logger
from sniper.observability import metrics as powertools_metrics
from sniper.repositories.bid_history import HistoryEntry
from sniper.repositories.bids import (
    BidNotFound,
    BidStateConflict,
    InFlightBid,
    StoredBid,
)
from sniper.snipe.executor import Bids, Metrics, Notifier
from sniper.snipe.scheduling import (
    ScheduledSnipe,
    ScheduleMissing,
    outcome_schedule_name,
    scheduler_settings,
    snipe_schedule_name,
)
from sniper.snipe.timing import SnipeTiming, number_setting

DEFAULT_HORIZON_SECONDS = 900
DEFAULT_WAKE_GRACE_SECONDS = 30
DEFAULT_CLAIM_GRACE_SECONDS = 15
DEFAULT_OUTCOME_GRACE_SECONDS = 60
DEFAULT_BUDGET_SECONDS = 45
DEFAULT_MAX_BIDS = 300
DEFAULT_PAGE_SIZE = 100
# Seconds a schedule's run may take to claim its bid, however short the margin.
MIN_WAKE_GRACE_SECONDS = 5.0
# A schedule remade closer to its time than this (or half the margin, if less)
# could fire late, or not at all: the snipe is run now instead.
MIN_SCHEDULE_AHEAD_SECONDS = 5.0
REPAIR_METRIC = "SweeperRepair"

SCHEDULE_LOST = (
    "The snipe's schedule was lost and the auction ended before it could be "
    "repaired; no bid was placed."
)
NEVER_WOKEN = (
    "The snipe's schedule never woke the sniper before the auction ended; no bid "
    "was placed."
)
STOPPED_BEFORE_SENDING = (
    "The sniper stopped before sending the bid and the auction ended; no bid was "
    "placed."
)
_REASONS = {
    Repair.SCHEDULE_RECREATED: "The snipe's schedule was missing; it was made again.",
    Repair.SNIPE_RUN_NOW: (
        "The sniper had not been woken at the schedule's time; it was started at once."
    ),
    Repair.STALE_CLAIM_RERUN: (
        "The sniper stopped before sending the bid; the snipe was started again."
    ),
    Repair.STALE_CLAIM_RECONCILED: (
        "The sniper stopped after sending the bid; eBay is asked whether it was "
        "placed (it is never sent twice)."
    ),
    Repair.OUTCOME_CHECKED: (
        "The auction's outcome was not checked as planned; eBay is asked now."
    ),
}


@dataclass(frozen=True)
class SweepSettings:
    """How far ahead a sweep looks, how long it lets each step be late, its bounds."""

    horizon_seconds: float = DEFAULT_HORIZON_SECONDS
    wake_grace_seconds: float = DEFAULT_WAKE_GRACE_SECONDS
    claim_grace_seconds: float = DEFAULT_CLAIM_GRACE_SECONDS
    outcome_grace_seconds: float = DEFAULT_OUTCOME_GRACE_SECONDS
    budget_seconds: float = DEFAULT_BUDGET_SECONDS
    max_bids: int = DEFAULT_MAX_BIDS
    page_size: int = DEFAULT_PAGE_SIZE

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> SweepSettings:
        env = os.environ if environ is None else environ
        return cls(
            horizon_seconds=number_setting(
                env, "SWEEP_HORIZON_SECONDS", DEFAULT_HORIZON_SECONDS
            ),
            wake_grace_seconds=number_setting(
                env, "SWEEP_WAKE_GRACE_SECONDS", DEFAULT_WAKE_GRACE_SECONDS
            ),
            claim_grace_seconds=number_setting(
                env, "SWEEP_CLAIM_GRACE_SECONDS", DEFAULT_CLAIM_GRACE_SECONDS
            ),
            outcome_grace_seconds=number_setting(
                env, "SWEEP_OUTCOME_GRACE_SECONDS", DEFAULT_OUTCOME_GRACE_SECONDS
            ),
            budget_seconds=number_setting(
                env, "SWEEP_BUDGET_SECONDS", DEFAULT_BUDGET_SECONDS
            ),
            max_bids=max(
                1, int(number_setting(env, "SWEEP_MAX_BIDS", DEFAULT_MAX_BIDS))
            ),
        )


# ---------------------------------------------------------------- what it uses
class SweptBids(Bids, Protocol):
    """What the sweep needs of `sniper.repositories.bids.BidRepository`: what the
    executor needs, and the sparse index of bids in flight."""

    def in_flight(
        self, bucket: BidStatus, ends_before: int, *, page_size: int = 100
    ) -> Iterator[InFlightBid]: ...


class Schedules(Protocol):
    """`sniper.snipe.scheduling.SnipeScheduler`: is a schedule there; make one."""

    def describe(self, name: str) -> dict[str, Any]: ...

    def create(
        self,
        *,
        bid_id: str,
        user_id: str,
        ebay_item_id: str,
        auction_end_time: int,
        lead_seconds: int,
        max_bid_amount: int,
    ) -> ScheduledSnipe: ...


class Executions(Protocol):
    """Starts an executor run without waiting for it (`LambdaExecutions`)."""

    def start(self, event: BidExecutionEvent) -> None: ...


class RepairCounter(Protocol):
    """One `SweeperRepair` data point per repair, its kind as a dimension."""

    def count(self, repair: Repair) -> None: ...


# ---------------------------------------------------------------- adapters
class LambdaExecutions:
    """An asynchronous invoke of the Bid Executor, as its schedule would do."""

    def __init__(
        self, function: Callable[[], str] = lambda: scheduler_settings().executor_arn
    ) -> None:
        self._function = function

    def start(self, event: BidExecutionEvent) -> None:
        aws.lambda_client().invoke(
            FunctionName=self._function(),
            InvocationType="Event",
            Payload=event.model_dump_json(exclude_none=True).encode(),
        )


class PowertoolsRepairs:
    """`SweeperRepair` with a `repair` dimension of its own: a single metric, so
    the dimension never lands on the invocation's other metrics."""

    def count(self, repair: Repair) -> None:
        service = os.environ.get("POWERTOOLS_SERVICE_NAME", "bid_executor")
        with single_metric(
            name=REPAIR_METRIC,
            unit=MetricUnit.Count,
            value=1,
            default_dimensions={"service": service, "repair": repair.value},
        ):
            pass


# ---------------------------------------------------------------- the sweep
class Sweeper:
    """Finds the bids in flight something left behind and repairs each once."""

    def __init__(
        self,
        bids: SweptBids,
        schedules: Schedules,
        executions: Executions,
        notifier: Notifier,
        timing: SnipeTiming,
        settings: SweepSettings | None = None,
        *,
        clock: Clock | None = None,
        metrics: Metrics = powertools_metrics,
        repairs: RepairCounter | None = None,
    ) -> None:
        self.bids = bids
        self.schedules = schedules
        self.executions = executions
        self.notifier = notifier
        self.timing = timing
        self.settings = settings or SweepSettings()
        self.clock = clock or SystemClock()
        self.metrics = metrics
        self.repairs = repairs or PowertoolsRepairs()

    def sweep(self, *, finish_by: float | None = None) -> SweepResult:
        """One pass over the in-flight bids, until done or `finish_by` (or the
        settings' budget), whichever comes first."""
        started = self.clock.now()
        stop_at = started + self.settings.budget_seconds
        if finish_by is not None:
            stop_at = min(stop_at, finish_by)
        result = SweepResult(examined=0)
        for bucket, ends_before in self._buckets(started):
            listed = self.bids.in_flight(
                bucket, ends_before, page_size=self.settings.page_size
            )
            for count, found in enumerate(listed):
                if count >= self.settings.max_bids or self.clock.now() >= stop_at:
                    result.complete = False
                    break
                result.examined += 1
                try:
                    repair = self._examine(found)
                except Exception:
                    logger.exception(
                        "Sweep could not repair a bid",
                        extra={"bid_id": found.bid_id, "status": found.status},
                    )
                    result.errors += 1
                    continue
                if repair is not None:
                    result.repairs[repair] = result.repairs.get(repair, 0) + 1
        if result.errors:
            self.metrics.add_metric("SweeperErrors", MetricUnit.Count, result.errors)
        logger.info(
            "Sweep done",
            extra={
                "examined": result.examined,
                "repairs": {k.value: v for k, v in result.repairs.items()},
                "errors": result.errors,
                "complete": result.complete,
            },
        )
        return result

    def _buckets(self, now: float) -> list[tuple[BidStatus, int]]:
        """Each status and the end before which its bids may need a repair (the
        index's bound is strict and in whole seconds: the next second, so a bid
        ending this second is not left out; each bid's own times decide)."""
        wait = self.timing.outcome_wait_seconds + self.settings.outcome_grace_seconds
        ahead = int(now + self.settings.horizon_seconds) + 1
        settled = int(now - wait) + 1
        return [
            (BidStatus.PENDING, ahead),
            (BidStatus.EXECUTING, ahead),
            (BidStatus.PLACED, settled),
        ]

    def _examine(self, found: InFlightBid) -> Repair | None:
        # The index is eventually consistent: the bid itself decides.
        bid = self.bids.get(found.user_id, found.bid_id)
        if bid is None or bid.status is not found.status:
            return None
        now = self.clock.now()
        if bid.status is BidStatus.PENDING:
            return self._pending(bid, now)
        if bid.status is BidStatus.EXECUTING and bid.sent_at is None:
            return self._claimed(bid, now)
        # PLACED, or EXECUTING with a bid that may have reached eBay.
        return self._unsettled(bid, now)

    # ------------------------------------------------------------ PENDING
    def _pending(self, bid: StoredBid, now: float) -> Repair | None:
        end, lead = bid.auction_end_time, bid.snipe_lead_seconds
        fire_at = bid.scheduled_for or self.timing.fire_at(end, lead)
        name = bid.schedule_name or snipe_schedule_name(bid.bid_id)
        # A third of the margin at most, so a run started then still wakes
        # before the target (90 s: 30 s, Scheduler's own lateness included),
        # yet never less than a cold start takes (a short margin, locally).
        third = max(self.timing.margin_seconds / 3, MIN_WAKE_GRACE_SECONDS)
        grace = min(self.settings.wake_grace_seconds, third)
        if now >= self.timing.cutoff(end):
            reason = NEVER_WOKEN if self._exists(name) else SCHEDULE_LOST
            return self._fail(bid, reason)
        if now >= fire_at + grace and now >= bid.updated_at + grace:
            # Fired (or lost) and nobody claimed the bid: a duplicate of a late
            # delivery does no harm, the claim lets one through.
            return self._start(bid, Repair.SNIPE_RUN_NOW, ExecutionKind.SNIPE)
        if now >= fire_at or self._exists(name):
            return None  # it fired moments ago, or it will
        planned = self.timing.fire_at(end, lead)
        ahead = min(MIN_SCHEDULE_AHEAD_SECONDS, self.timing.margin_seconds / 2)
        if planned - now < ahead:
            return self._start(bid, Repair.SNIPE_RUN_NOW, ExecutionKind.SNIPE)
        return self._recreate(bid)

    def _recreate(self, bid: StoredBid) -> Repair | None:
        """The schedule first (named after the bid, so a second sweep's is the
        same one), then the record: a bid cancelled meanwhile is left with a
        schedule whose run finds it cancelled, as after an interrupted create."""
        made = self.schedules.create(
            bid_id=bid.bid_id,
            user_id=bid.user_id,
            ebay_item_id=bid.ebay_item_id,
            auction_end_time=bid.auction_end_time,
            lead_seconds=bid.snipe_lead_seconds,
            max_bid_amount=bid.max_bid_amount,
        )
        repair = Repair.SCHEDULE_RECREATED
        written = self._record(
            bid,
            repair,
            {"scheduled_for": made.fire_at, "schedule_name": made.name},
            {"scheduledFor": made.fire_at},
        )
        return None if written is None else self._done(written, repair)

    # ------------------------------------------------------------ EXECUTING
    def _claimed(self, bid: StoredBid, now: float) -> Repair | None:
        """Claimed, not committed to send. A live executor commits just before
        its target (or fails the bid), and while it sleeps towards it, beats a
        heartbeat at every recheck. It is gone (killed, timed out) when:

        - the target and the claim are behind by the claim grace; or
        - nothing was heard of it (its claim, its last heartbeat) for
          `heartbeat_grace` = 2 x recheck + claim grace. A sleeping executor
          beats at most `recheck_seconds` apart, so one beat lost or late (a
          slow or retried write, a sleep that overran) is not taken for death
          either; the claim grace adds what it covers in the rule above (two
          machines' clocks, the sweep's own lateness). With production's
          timing (10 s, 15 s) that is 35 s, where the target rule alone came
          after the cutoff, too late for any rerun.

        `updated_at` is rounded down to the second (hence the second added
        here) and a heartbeat rounded up as it is written, so neither looks
        older than it is. A rerun is safe even beside an
        executor that was only slow: its writes before the commit are
        conditional on the version it read, and the commit to send (sent_at,
        conditional on the version) lets one of them through.
        """
        grace = self.settings.claim_grace_seconds
        heartbeat_grace = 2 * self.timing.recheck_seconds + grace
        heard = max(bid.updated_at + 1, bid.heartbeat_at or 0)
        past_target = now >= max(bid.target_time, bid.updated_at) + grace
        if not past_target and now < heard + heartbeat_grace:
            return None
        if now >= self.timing.cutoff(bid.auction_end_time):
            return self._fail(bid, STOPPED_BEFORE_SENDING)
        repair = Repair.STALE_CLAIM_RERUN
        try:
            released = self.bids.transition(
                bid.user_id,
                bid.bid_id,
                (BidStatus.EXECUTING,),
                BidStatus.PENDING,
                None,
                self._entry(bid, HistoryAction.REPAIR, self._details(repair)),
                expected_version=bid.version,
            )
        except (BidStateConflict, BidNotFound):
            return None  # the executor (or another sweep) moved first
        self.executions.start(self._event(released, ExecutionKind.SNIPE))
        return self._done(released, repair)

    # ------------------------------------------------------------ the outcome
    def _unsettled(self, bid: StoredBid, now: float) -> Repair | None:
        """A bid that may stand on eBay, its outcome not recorded: unless a
        check is scheduled or may be running, one runs now. The executor's
        outcome check reconciles first (a bid eBay holds becomes PLACED; one it
        does not, after the end, FAILED) and never sends a bid."""
        end = bid.auction_end_time
        due = self._due_check(end, now)
        last = self.timing.outcome_check_at(end, due) if due else end
        quiet = (
            max(end, last, bid.updated_at)
            + self.timing.outcome_wait_seconds
            + self.settings.outcome_grace_seconds
        )
        if now < quiet:
            return None
        checks = range(1, self.timing.outcome_checks + 1)
        if any(self._exists(outcome_schedule_name(bid.bid_id, n)) for n in checks):
            return None
        repair = (
            Repair.OUTCOME_CHECKED
            if bid.status is BidStatus.PLACED
            else Repair.STALE_CLAIM_RECONCILED
        )
        return self._start(
            bid, repair, ExecutionKind.OUTCOME_CHECK, attempt=max(due, 1)
        )

    def _due_check(self, end: int, now: float) -> int:
        """The last outcome check whose time has come (0: none yet)."""
        due = 0
        for attempt in range(1, self.timing.outcome_checks + 1):
            if self.timing.outcome_check_at(end, attempt) <= now:
                due = attempt
        return due

    # ------------------------------------------------------------ the repairs
    def _start(
        self,
        bid: StoredBid,
        repair: Repair,
        kind: ExecutionKind,
        *,
        attempt: int = 1,
    ) -> Repair | None:
        """Record the repair (the write that makes it this sweep's), then start
        the run, marked with the version written."""
        written = self._record(bid, repair, {}, {})
        if written is None:
            return None
        self.executions.start(self._event(written, kind, attempt))
        return self._done(written, repair)

    def _record(
        self,
        bid: StoredBid,
        repair: Repair,
        changes: dict[str, Any],
        details: dict[str, Any],
    ) -> StoredBid | None:
        try:
            return self.bids.update_fields(
                bid.user_id,
                bid.bid_id,
                changes,
                self._entry(bid, HistoryAction.REPAIR, self._details(repair) | details),
                expected_statuses=(bid.status,),
                expected_version=bid.version,
            )
        except (BidStateConflict, BidNotFound):
            return None  # moved on since read: nothing left to repair here

    def _fail(self, bid: StoredBid, reason: str) -> Repair | None:
        """FAILED with the reason, its FAIL entry and the user's email."""
        details = {"reason": reason, "repair": Repair.FAILED.value}
        try:
            failed = self.bids.transition(
                bid.user_id,
                bid.bid_id,
                (bid.status,),
                BidStatus.FAILED,
                {"reason": reason},
                self._entry(bid, HistoryAction.FAIL, details),
                expected_version=bid.version,
            )
        except (BidStateConflict, BidNotFound):
            return None
        self.metrics.add_metric("BidFailed", MetricUnit.Count, 1)
        try:
            self.notifier.send(
                BidNotificationEvent(
                    bidId=failed.bid_id,
                    userId=failed.user_id,
                    status=BidStatus.FAILED,
                    ebayItemId=failed.ebay_item_id,
                    bidAmount=failed.max_bid_amount,
                    reason=reason,
                )
            )
        except Exception:
            logger.exception("Could not queue the notification")
        return self._done(failed, Repair.FAILED, was=bid.status)

    def _done(
        self, bid: StoredBid, repair: Repair, was: BidStatus | None = None
    ) -> Repair:
        self.repairs.count(repair)
        logger.warning(
            "Sweep repaired a bid",
            extra={
                "bid_id": bid.bid_id,
                "repair": repair.value,
                "status": (was or bid.status).value,
                "auction_end_time": bid.auction_end_time,
            },
        )
        return repair

    # ------------------------------------------------------------ helpers
    def _exists(self, name: str) -> bool:
        try:
            self.schedules.describe(name)
        except ScheduleMissing:
            return False
        return True

    @staticmethod
    def _details(repair: Repair) -> dict[str, Any]:
        return {"repair": repair.value, "reason": _REASONS[repair]}

    def _entry(
        self, bid: StoredBid, action: HistoryAction, details: dict[str, Any]
    ) -> HistoryEntry:
        return HistoryEntry.new(
            user_id=bid.user_id,
            bid_id=bid.bid_id,
            action=action,
            ebay_item_id=bid.ebay_item_id,
            bid_amount=bid.max_bid_amount,
            now=self.clock.now(),
            details=details,
        )

    @staticmethod
    def _event(
        bid: StoredBid, kind: ExecutionKind, attempt: int = 1
    ) -> BidExecutionEvent:
        """What the bid's schedule would carry, plus the repair's version."""
        return BidExecutionEvent(
            bidId=bid.bid_id,
            userId=bid.user_id,
            kind=kind,
            attempt=attempt,
            ebayItemId=bid.ebay_item_id,
            auctionEndTime=bid.auction_end_time,
            maxBidAmount=bid.max_bid_amount if kind is ExecutionKind.SNIPE else None,
            repair=bid.version,
        )
