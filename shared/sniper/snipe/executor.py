"""The Bid Executor's service: one snipe, from the schedule's wake-up to the outcome.

```
wake ── claim ── token, item ── wait (re-reading the bid) ── last item read ──
        PENDING→EXECUTING                                      warmup before target
── commit to send ── target: proxy bid, retried until the cutoff ── PLACED ──
   sent_at, conditional on     a timeout is reconciled with
   the version just read       getBidding before any resend
── after the end: getBidding until ENDED ── WON | LOST ── notify
                      └─ not told in time: a later outcome check (own schedule)
```

Every moment is on eBay's clock (ours plus the offset seen in eBay's `Date`
headers) and comes from `sniper.snipe.timing`. What keeps a bid honest:

- one bid per schedule: the claim is a conditional write, so a second delivery
  finds the bid no longer PENDING and does nothing (the handler adds Powertools
  idempotency on top, for deliveries racing each other);
- an acknowledged edit or cancel is honoured: sending starts with a write
  conditional on the version just read, and an edit or cancel bumps the version;
- a timeout is ambiguous: before any resend, getBidding says whether the first
  request got through, so a bid is never sent twice;
- "unknown" is never read as LOST: only an auction eBay reports ENDED has an
  outcome.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, ParamSpec, Protocol, TypeVar

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import SecretStr

from sniper.clock import Clock, SystemClock
from sniper.ebay import (
    Bidding,
    EbayAuthError,
    EbayBidRejected,
    EbayConnectionError,
    EbayDeadlineExceeded,
    EbayError,
    EbayItemNotFound,
    EbayNoBiddingActivity,
    EbayPermanentError,
    EbayTimeout,
    EbayTransientError,
    ItemDetails,
    call_with_retries,
)
from sniper.errors import EbayNotLinkedError, EbayRelinkRequiredError
from sniper.models.snipe import (
    BidExecutionEvent,
    BidExecutionResult,
    BidNotificationEvent,
    ExecutionKind,
)
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.money import Money, format_cents
from sniper.observability import logger
from sniper.observability import metrics as powertools_metrics
from sniper.repositories.bid_history import HistoryEntry
from sniper.repositories.bids import BidNotFound, BidStateConflict, StoredBid
from sniper.snipe.outcome import stands, verdict
from sniper.snipe.refusals import refusal_reason
from sniper.snipe.scheduling import ScheduledSnipe
from sniper.snipe.timing import SnipeTiming

P = ParamSpec("P")
T = TypeVar("T")

# Back-off between bid retries and outcome polls, in seconds.
RETRY_BASE_SECONDS = 0.2
RETRY_MAX_SECONDS = 1.0
POLL_BASE_SECONDS = 0.5
POLL_MAX_SECONDS = 4.0
# eBay's clock further off than this from ours is worth a warning.
OFFSET_WARNING_SECONDS = 2.0

UNLINKED = "Your eBay account was unlinked before the snipe; no bid was placed."
RELINK = (
    "eBay no longer accepted your account link at the snipe; link your eBay "
    "account again. No bid was placed."
)
TOO_LATE = (
    "The sniper was woken too late to bid before the auction ended; no bid was placed."
)
HELD_UP = (
    "The sniper was held up until too late to bid before the auction ended; no bid "
    "was placed."
)
ITEM_GONE = (
    "eBay no longer lists this auction (it ended early or was removed); no bid was "
    "placed."
)
NOT_AN_AUCTION = "The listing is no longer an auction; no bid was placed."
EBAY_UNREACHABLE = (
    "eBay could not be reached before the auction's end; no bid was placed."
)
INTERNAL = "The sniper failed before bidding (an internal error); no bid was placed."
NOT_TAKEN = (
    "eBay did not confirm the bid before the auction ended and shows no bid of "
    "yours; no bid was placed."
)
NEVER_REPORTED = (
    "eBay never reported the auction's outcome. Your bid was placed: check the "
    "auction on eBay to see whether you won."
)
NOT_TAKEN_UNKNOWN = (
    "eBay never confirmed the bid nor reported the outcome: check the auction on "
    "eBay to see whether your bid stands."
)
UNLINKED_BEFORE_OUTCOME = (
    "Your eBay account was unlinked before eBay reported the outcome. Your bid was "
    "placed: check the auction on eBay to see whether you won."
)


# ---------------------------------------------------------------- what it uses
class Bids(Protocol):
    """What the executor needs of `sniper.repositories.bids.BidRepository`."""

    def get(self, user_id: str, bid_id: str) -> StoredBid | None: ...

    def heartbeat(self, user_id: str, bid_id: str, at: int) -> StoredBid | None: ...

    def transition(
        self,
        user_id: str,
        bid_id: str,
        expected_statuses: Collection[BidStatus],
        new_status: BidStatus,
        changes: Mapping[str, Any] | None = None,
        history_entry: HistoryEntry | None = None,
        *,
        expected_version: int | None = None,
    ) -> StoredBid: ...

    def update_fields(
        self,
        user_id: str,
        bid_id: str,
        changes: Mapping[str, Any],
        history_entry: HistoryEntry | None,
        *,
        expected_statuses: Collection[BidStatus] = (BidStatus.PENDING,),
        expected_version: int | None = None,
    ) -> StoredBid: ...


class UserTokens(Protocol):
    """`sniper.services.ebay_tokens.UserTokenProvider`: refreshes when due."""

    def access_token(
        self,
        user_id: str,
        valid_until: float | None = None,
        *,
        force_refresh: bool = False,
    ) -> SecretStr: ...


class Ebay(Protocol):
    """The eBay calls of a snipe (`sniper.ebay.EbayClient`)."""

    @property
    def server_time_offset(self) -> float | None: ...

    def get_item(
        self, item_id: str, *, timeout: float | None = None
    ) -> ItemDetails: ...

    def place_proxy_bid(
        self,
        access_token: str,
        item_id: str,
        max_amount: Money,
        *,
        adult_consent: bool = False,
        marketplace_id: str | None = None,
        timeout: float | None = None,
    ) -> str: ...

    def get_bidding(
        self,
        access_token: str,
        item_id: str,
        *,
        marketplace_id: str | None = None,
        timeout: float | None = None,
    ) -> Bidding: ...


class OutcomeChecks(Protocol):
    """`sniper.snipe.scheduling.SnipeScheduler`: a later look at the outcome."""

    def schedule_outcome_check(
        self,
        *,
        bid_id: str,
        user_id: str,
        ebay_item_id: str,
        auction_end_time: int,
        attempt: int,
        now: float,
    ) -> ScheduledSnipe: ...


class Notifier(Protocol):
    """`sniper.notify.LambdaNotifier`: queues the email, never waits for it."""

    def send(self, event: BidNotificationEvent) -> None: ...


class Metrics(Protocol):
    def add_metric(self, name: str, unit: MetricUnit, value: float) -> None: ...


# ---------------------------------------------------------------- one run
@dataclass
class _Run:
    """What one invocation learnt so far about its bid."""

    event: BidExecutionEvent
    bid: StoredBid
    token: SecretStr | None = None
    adult_only: bool = False
    last_item_read: float | None = None  # eBay's clock
    ebay_calls: int = 0
    refreshed: bool = False
    proxy_bid_id: str | None = None  # eBay's, once the bid is placed


class _Stop(Exception):
    """The snipe is over before anything was sent; `result` says how."""

    def __init__(self, result: BidExecutionResult) -> None:
        super().__init__(result.skipped or result.reason or "")
        self.result = result


@dataclass(frozen=True)
class _Placed:
    proxy_bid_id: str | None
    sent_at: float  # our clock
    lateness_ms: int
    answered_at: float
    attempts: int
    reconciled: bool = False


@dataclass(frozen=True)
class _Refused:
    reason: str
    attempts: int
    error_id: int | str | None = None


@dataclass(frozen=True)
class _Unsure:
    """A request may have reached eBay; nothing confirmed it before the cutoff."""

    attempts: int
    sent_at: float


class SnipeExecutor:
    """Runs a bid's snipe, or a later outcome check, once per schedule."""

    def __init__(
        self,
        bids: Bids,
        tokens: UserTokens,
        ebay: Ebay,
        schedules: OutcomeChecks,
        notifier: Notifier,
        timing: SnipeTiming,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], None] = time.sleep,
        metrics: Metrics = powertools_metrics,
    ) -> None:
        self.bids = bids
        self.tokens = tokens
        self.ebay = ebay
        self.schedules = schedules
        self.notifier = notifier
        self.timing = timing
        self.clock = clock or SystemClock()
        self.sleep = sleep
        self.metrics = metrics

    def execute(
        self, event: BidExecutionEvent, *, finish_by: float | None = None
    ) -> BidExecutionResult:
        """Do what the schedule woke us for; `finish_by` (our clock) bounds the
        wait for the outcome to the invocation's own time."""
        if event.kind is ExecutionKind.OUTCOME_CHECK:
            return self._outcome_check(event, finish_by)
        return self._snipe(event, finish_by)

    # ------------------------------------------------------------ the snipe
    def _snipe(
        self, event: BidExecutionEvent, finish_by: float | None
    ) -> BidExecutionResult:
        try:
            bid = self.bids.transition(
                event.userId, event.bidId, (BidStatus.PENDING,), BidStatus.EXECUTING
            )
        except BidStateConflict as conflict:
            logger.info(
                "Bid is not pending; nothing to do",
                extra={"status": conflict.current.status.value},
            )
            return _skipped(conflict.current, f"the bid is {conflict.current.status}")
        except BidNotFound:
            logger.info("No such bid (deleted, or an orphan schedule)")
            return BidExecutionResult(
                bidId=event.bidId, bidPlaced=False, skipped="no such bid"
            )
        run = _Run(event=event, bid=bid)
        logger.info(
            "Bid claimed",
            extra={"target": bid.target_time, "auction_end_time": bid.auction_end_time},
        )
        try:
            try:
                committed = self._prepare(run)
            except _Stop as stop:
                return stop.result
            except Exception:
                # Nothing was sent: the bid can fail cleanly instead of staying
                # EXECUTING (a retry of this event would only find it claimed).
                logger.exception("Snipe failed before bidding")
                return self._finish(run.bid, BidStatus.FAILED, reason=INTERNAL)
            return self._send_and_learn(run, committed, finish_by)
        finally:
            self.metrics.add_metric(
                "EbayCallsPerSnipe", MetricUnit.Count, run.ebay_calls
            )

    def _prepare(self, run: _Run) -> StoredBid:
        """Token, item, the wait and the commit to send; `_Stop` when it ends here."""
        bid = run.bid
        cutoff = self.timing.cutoff(bid.auction_end_time)
        if self._ebay_now() >= cutoff:
            raise _Stop(self._finish(bid, BidStatus.FAILED, reason=TOO_LATE))
        run.token = self._token(run, cutoff)
        self._read_item(run, cutoff)
        return self._wait_and_commit(run)

    def _token(self, run: _Run, cutoff: float) -> SecretStr:
        """A token eBay accepts until the outcome is known, refreshed if due."""
        bid = run.bid
        valid_until = self.timing.outcome_deadline(bid.auction_end_time)
        try:
            return call_with_retries(
                lambda _left: self.tokens.access_token(bid.user_id, valid_until),
                self._local(cutoff),
                clock=self.clock.now,
                sleep=self.sleep,
            )
        except EbayNotLinkedError:
            reason = UNLINKED
        except EbayRelinkRequiredError:
            reason = RELINK
        except EbayDeadlineExceeded:
            reason = HELD_UP  # the cutoff came before eBay could be asked
        except EbayTransientError as error:
            logger.warning(
                "eBay failed during a token refresh", extra={"error": str(error)}
            )
            reason = EBAY_UNREACHABLE
        raise _Stop(self._finish(bid, BidStatus.FAILED, reason=reason))

    def _read_item(self, run: _Run, cutoff: float) -> None:
        """The live listing (Browse): still there, still an auction; the read
        also tells eBay's clock. The price decides only on the last read."""
        bid = run.bid
        try:
            item = call_with_retries(
                lambda left: self._ebay(
                    run,
                    self.ebay.get_item,
                    bid.rest_item_id,
                    timeout=min(left, self.timing.bid_timeout_seconds * 2),
                ),
                self._local(cutoff),
                clock=self.clock.now,
                sleep=self.sleep,
            )
        except EbayItemNotFound:
            reason = self._gone(bid, TOO_LATE)
            raise _Stop(self._finish(bid, BidStatus.FAILED, reason=reason)) from None
        except EbayDeadlineExceeded:  # the cutoff came before eBay could be asked
            raise _Stop(self._finish(bid, BidStatus.FAILED, reason=HELD_UP)) from None
        except EbayTransientError:
            raise _Stop(
                self._finish(bid, BidStatus.FAILED, reason=EBAY_UNREACHABLE)
            ) from None
        except EbayError as error:
            reason = f"eBay refused to show the item ({error.message}); no bid placed."
            raise _Stop(self._finish(bid, BidStatus.FAILED, reason=reason)) from None
        if not item.is_auction:
            raise _Stop(self._finish(bid, BidStatus.FAILED, reason=NOT_AN_AUCTION))
        run.adult_only = item.adult_only
        run.last_item_read = self._ebay_now()
        offset = self.ebay.server_time_offset
        log = (
            logger.warning if abs(offset or 0) > OFFSET_WARNING_SECONDS else logger.info
        )
        log("eBay's clock", extra={"ebay_clock_offset_seconds": offset})
        if (
            item.item_end_date is not None
            and item.item_end_date != bid.auction_end_time
        ):
            logger.warning(
                "eBay reports another end time than the bid holds",
                extra={"ebay_end": item.item_end_date},
            )
        if run.last_item_read >= self.timing.warmup_at(bid.target_time):
            self._check_price(run, item)

    def _check_price(self, run: _Run, item: ItemDetails) -> None:
        """LOST at once when eBay's minimum next bid is already above the maximum
        (no bid call: it could only be refused)."""
        bid = run.bid
        minimum = item.minimum_price_to_bid
        while (
            minimum is not None
            and minimum.currency == bid.currency
            and minimum.cents > bid.max_bid_amount
        ):
            reason = (
                "Outbid before the snipe: eBay's minimum next bid "
                f"({format_cents(minimum.cents)} {minimum.currency}) was already "
                f"above your maximum ({format_cents(bid.max_bid_amount)} "
                f"{bid.currency}); no bid was placed."
            )
            current = item.current_bid_price
            details: dict[str, Any] = {"minimumToBid": minimum.cents}
            if current is not None:
                details["currentPrice"] = current.cents
            try:
                written = self.bids.transition(
                    bid.user_id,
                    bid.bid_id,
                    (BidStatus.EXECUTING,),
                    BidStatus.LOST,
                    {"reason": reason},
                    self._entry(bid, HistoryAction.LOSE, details | {"reason": reason}),
                    expected_version=bid.version,
                )
            except BidStateConflict as conflict:
                bid = run.bid = self._still_ours(bid.bid_id, conflict.current)
                continue  # edited meanwhile: compare the new maximum
            raise _Stop(self._concluded(written))

    def _wait_and_commit(self, run: _Run) -> StoredBid:
        """Sleep until just before the target, commit to send (a write conditional
        on the version just read, so an edit or cancel acknowledged before it
        counts), then sleep to the target itself."""
        while True:
            bid = self._wait_for_target(run)
            try:
                committed = self.bids.update_fields(
                    bid.user_id,
                    bid.bid_id,
                    {"sent_at": int(self.clock.now())},
                    None,
                    expected_statuses=(BidStatus.EXECUTING,),
                    expected_version=bid.version,
                )
            except BidStateConflict as conflict:
                run.bid = self._still_ours(bid.bid_id, conflict.current)
                logger.info("Bid changed just before sending; read it again")
                continue
            except BidNotFound:
                raise _Stop(_skipped(bid, "the bid is gone")) from None
            run.bid = committed
            self._sleep_until(committed.target_time)
            return committed

    def _wait_for_target(self, run: _Run) -> StoredBid:
        """The bid as it stands when it is time to commit (re-read every
        `recheck_seconds`: a cancel stops the wait, an edited lead moves the
        target). Each re-read is the heartbeat, in the same call: while it
        beats, the sweep never takes this run for dead; once it stops, the
        sweep may re-run the snipe while there is time. The beat is on our
        clock (the sweep's, not eBay's), rounded up to the whole second, so it
        never looks older than it is."""
        while True:
            bid = run.bid
            target = bid.target_time
            warmup = self.timing.warmup_at(target)
            ready = self.timing.commit_at(target)
            now = self._ebay_now()
            if now >= warmup and (run.last_item_read or 0) < warmup:
                self._last_look(run)
                continue
            if now >= ready:
                return bid
            milestone = ready if now >= warmup else warmup
            self.sleep(max(0.0, min(self.timing.recheck_seconds, milestone - now)))
            run.bid = self._still_ours(
                bid.bid_id,
                self.bids.heartbeat(
                    bid.user_id, bid.bid_id, math.ceil(self.clock.now())
                ),
            )
            if run.bid.version != bid.version:
                logger.info(
                    "Bid edited during the wait",
                    extra={"target": run.bid.target_time},
                )

    def _last_look(self, run: _Run) -> None:
        """The item once more, seconds before the target: the price check, and a
        warm connection to eBay for the bid. One quick try: the bid matters more."""
        bid = run.bid
        run.last_item_read = self._ebay_now()
        try:
            item = self._ebay(
                run,
                self.ebay.get_item,
                bid.rest_item_id,
                timeout=max(0.2, self.timing.warmup_seconds / 2),
            )
        except EbayItemNotFound:
            reason = self._gone(bid, HELD_UP)
            raise _Stop(self._finish(bid, BidStatus.FAILED, reason=reason)) from None
        except EbayError as error:
            logger.warning(
                "Last item read failed; bidding anyway", extra={"error": str(error)}
            )
            return
        self._check_price(run, item)

    def _gone(self, bid: StoredBid, too_late: str) -> str:
        """Why Browse no longer shows the auction: it serves live listings only,
        so once the end has passed a 404 means the sniper came too late, not that
        the auction ended early."""
        if self._ebay_now() >= bid.auction_end_time:
            return too_late
        return ITEM_GONE

    @staticmethod
    def _still_ours(bid_id: str, current: StoredBid | None) -> StoredBid:
        """The bid if it is still ours to send; `_Stop` (skipped) otherwise."""
        if current is None:
            raise _Stop(
                BidExecutionResult(
                    bidId=bid_id, bidPlaced=False, skipped="the bid is gone"
                )
            )
        if current.status is BidStatus.EXECUTING and current.sent_at is None:
            return current
        logger.info("Bid left the executor's hands", extra={"status": current.status})
        raise _Stop(_skipped(current, f"the bid became {current.status} meanwhile"))

    # ------------------------------------------------------------ the bid
    def _send_and_learn(
        self, run: _Run, bid: StoredBid, finish_by: float | None
    ) -> BidExecutionResult:
        try:
            outcome = self._place(run, bid)
        except Exception:
            # Sent, perhaps: never FAILED. A later outcome check reconciles.
            logger.exception("Snipe failed while bidding")
            self._schedule_check(bid, 1)
            raise
        self.metrics.add_metric(
            "BidRetries", MetricUnit.Count, max(0, outcome.attempts - 1)
        )
        if isinstance(outcome, _Refused):
            details: dict[str, Any] = {"attempts": outcome.attempts}
            if outcome.error_id is not None:
                details["ebayErrorId"] = outcome.error_id
            return self._finish(
                bid, BidStatus.FAILED, reason=outcome.reason, details=details
            )
        if isinstance(outcome, _Placed):
            placed = self._record_placed(run, bid, outcome)
            if placed is None:
                return _unrecorded(bid)
            bid = placed
        return self._learn_outcome(
            run,
            bid,
            confirmed=isinstance(outcome, _Placed),
            deadline=self._deadline(
                self.timing.outcome_deadline(bid.auction_end_time), finish_by
            ),
            attempt=0,
            sent_at=outcome.sent_at,
            attempts=outcome.attempts,
        )

    def _place(self, run: _Run, bid: StoredBid) -> _Placed | _Refused | _Unsure:
        """The proxy bid, retried until the cutoff. After a request that may have
        reached eBay, getBidding decides whether to send again: never twice."""
        amount = Money(bid.max_bid_amount, bid.currency)
        end = bid.auction_end_time
        cutoff = self.timing.cutoff(end)
        attempts, unsure = 0, False
        sent_at, sent_offset = self.clock.now(), 0.0
        problem = "no answer"
        delay = RETRY_BASE_SECONDS
        while self._ebay_now() < cutoff:
            retry_after: float | None = None
            if unsure:
                standing = self._reconcile(run, bid)
                if isinstance(standing, Bidding):
                    proxy = standing.current_proxy_bid
                    return _Placed(
                        proxy_bid_id=proxy.proxy_bid_id if proxy else None,
                        sent_at=sent_at,
                        lateness_ms=self._lateness(bid, sent_at + sent_offset),
                        answered_at=self.clock.now(),
                        attempts=attempts,
                        reconciled=True,
                    )
                if standing is False:
                    # eBay has no bid of ours: send it again, at once after a
                    # slow failure (a timeout used the time up), after the
                    # back-off after a quick one: a connection eBay keeps
                    # dropping is no reason to resend in a tight loop.
                    unsure = False
                    if self.clock.now() - sent_at >= delay:
                        continue
            else:
                attempts += 1
                sent_offset = self.ebay.server_time_offset or 0.0
                sent_at = self.clock.now()
                try:
                    proxy_bid_id = self._ebay(
                        run,
                        self.ebay.place_proxy_bid,
                        self._secret(run),
                        bid.rest_item_id,
                        amount,
                        adult_consent=run.adult_only,
                        marketplace_id=bid.marketplace_id,
                        timeout=self._request_timeout(end),
                    )
                except EbayTimeout as error:
                    unsure = error.may_have_reached_ebay
                    problem = "no answer in time"
                except EbayConnectionError:
                    unsure = True  # a reset may come after eBay read the request
                    problem = "connection failed"
                except EbayTransientError as error:
                    retry_after = error.retry_after
                    problem = (
                        f"HTTP {error.http_status}" if error.http_status else "error"
                    )
                except EbayAuthError:
                    if not self._refresh(run):
                        return _Refused(RELINK, attempts)
                    continue
                except EbayBidRejected as error:
                    logger.info("eBay refused the bid", extra={"error": str(error)})
                    return _Refused(refusal_reason(error), attempts, error.error_id)
                except EbayPermanentError as error:
                    logger.warning("eBay refused the bid", extra={"error": str(error)})
                    reason = (
                        f"eBay refused the bid ({error.message}); no bid was placed."
                    )
                    return _Refused(reason, attempts, error.error_id)
                else:
                    return _Placed(
                        proxy_bid_id=proxy_bid_id,
                        sent_at=sent_at,
                        lateness_ms=self._lateness(bid, sent_at + sent_offset),
                        answered_at=self.clock.now(),
                        attempts=attempts,
                    )
                logger.warning(
                    "Bid not confirmed",
                    extra={"attempt": attempts, "problem": problem, "unsure": unsure},
                )
                if unsure:
                    continue  # reconcile at once
            pause = max(delay, retry_after or 0.0)
            if self._ebay_now() + pause >= cutoff:
                break
            self.sleep(pause)
            delay = min(delay * 2, RETRY_MAX_SECONDS)
        if unsure:
            return _Unsure(attempts, sent_at)
        if attempts == 0:  # past the cutoff before the first try: not eBay's doing
            return _Refused(HELD_UP, attempts)
        return _Refused(
            f"eBay kept failing until the auction's last second ({problem}); no bid "
            "was placed.",
            attempts,
        )

    def _reconcile(self, run: _Run, bid: StoredBid) -> Bidding | bool | None:
        """eBay's answer when our bid stands there; False when eBay shows no bid of
        ours (send again), None when eBay could not tell (ask again)."""
        try:
            bidding = self._ebay(
                run,
                self.ebay.get_bidding,
                self._secret(run),
                bid.rest_item_id,
                marketplace_id=bid.marketplace_id,
                timeout=self._request_timeout(bid.auction_end_time),
            )
        except EbayNoBiddingActivity:
            return False
        except EbayAuthError:
            # The token died with the lost answer (expired, revoked): asking
            # again with it only repeats the 401 until the cutoff.
            if self._refresh(run):
                return self._reconcile(run, bid)
            logger.warning("Could not reconcile the bid: eBay refuses the token")
            return None
        except EbayError as error:
            logger.warning("Could not reconcile the bid", extra={"error": str(error)})
            return None
        if stands(bidding, bid.max_bid_amount):
            logger.info("eBay holds the bid that timed out: not sending it again")
            return bidding
        return False

    def _record_placed(
        self, run: _Run, bid: StoredBid, placed: _Placed
    ) -> StoredBid | None:
        details: dict[str, Any] = {
            "proxyBidId": placed.proxy_bid_id or "",
            "latenessMs": placed.lateness_ms,
            "sentAtMs": int(placed.sent_at * 1000),
            "attempts": placed.attempts,
        }
        if placed.reconciled:
            details["reconciled"] = True
        try:
            written = self.bids.transition(
                bid.user_id,
                bid.bid_id,
                (BidStatus.EXECUTING,),
                BidStatus.PLACED,
                {
                    "sent_at": int(placed.sent_at),
                    "ebay_answered_at": int(placed.answered_at),
                    "lateness_ms": placed.lateness_ms,
                },
                self._entry(bid, HistoryAction.PLACE, details),
            )
        except (BidStateConflict, BidNotFound):
            logger.error("Bid placed on eBay but could not be recorded as PLACED")
            return None
        run.proxy_bid_id = placed.proxy_bid_id
        self.metrics.add_metric(
            "SnipeLatenessMs", MetricUnit.Milliseconds, placed.lateness_ms
        )
        logger.info(
            "Bid placed",
            extra={
                "lateness_ms": placed.lateness_ms,
                "attempts": placed.attempts,
                "reconciled": placed.reconciled,
            },
        )
        return written

    # ------------------------------------------------------------ the outcome
    def _learn_outcome(
        self,
        run: _Run,
        bid: StoredBid,
        *,
        confirmed: bool,
        deadline: float,
        attempt: int,
        sent_at: float | None = None,
        attempts: int = 1,
    ) -> BidExecutionResult:
        """After the end, getBidding until eBay reports the auction ENDED (until
        `deadline`, eBay's clock); then WON or LOST, else a later check."""
        answer = self._poll(run, bid, deadline, confirmed=confirmed)
        if answer is False:
            return self._finish(bid, BidStatus.FAILED, reason=NOT_TAKEN)
        if not isinstance(answer, Bidding):
            return self._not_told(
                bid, confirmed=confirmed, attempt=attempt, ebay_bid_id=run.proxy_bid_id
            )
        if not confirmed:
            if not stands(answer, bid.max_bid_amount):
                return self._finish(bid, BidStatus.FAILED, reason=NOT_TAKEN)
            moment = sent_at if sent_at is not None else float(bid.sent_at or 0)
            proxy = answer.current_proxy_bid
            recorded = self._record_placed(
                run,
                bid,
                _Placed(
                    proxy_bid_id=proxy.proxy_bid_id if proxy else None,
                    sent_at=moment,
                    lateness_ms=self._lateness(bid, moment),
                    answered_at=self.clock.now(),
                    attempts=attempts,
                    reconciled=True,
                ),
            )
            if recorded is None:
                return _unrecorded(bid)
            bid = recorded
        decided = verdict(answer)
        if decided is None:  # not reached: `_poll` answers only ENDED biddings
            return self._not_told(bid, confirmed=True, attempt=attempt)
        return self._finish(
            bid,
            decided.status,
            reason=decided.reason,
            final_price=decided.final_price,
            ebay_bid_id=run.proxy_bid_id
            or (
                answer.current_proxy_bid.proxy_bid_id
                if answer.current_proxy_bid
                else None
            ),
        )

    def _poll(
        self, run: _Run, bid: StoredBid, deadline: float, *, confirmed: bool
    ) -> Bidding | bool | None:
        """eBay's ENDED answer; False when eBay shows no bid of ours after the end
        (only meaningful for a bid it never confirmed); None when not told."""
        self._sleep_until(min(float(bid.auction_end_time), deadline))
        delay = POLL_BASE_SECONDS
        while True:
            try:
                bidding = self._ebay(
                    run,
                    self.ebay.get_bidding,
                    self._secret(run),
                    bid.rest_item_id,
                    marketplace_id=bid.marketplace_id,
                    timeout=max(
                        0.5,
                        min(
                            self.timing.bid_timeout_seconds * 2,
                            deadline - self._ebay_now(),
                        ),
                    ),
                )
            except EbayNoBiddingActivity:
                if not confirmed and self._ebay_now() > bid.auction_end_time:
                    return False
                logger.warning("eBay shows no bidding activity for a placed bid")
            except EbayAuthError:
                if self._refresh(run):
                    continue
                return None
            except EbayError as error:
                logger.warning("Outcome not read", extra={"error": str(error)})
            else:
                if bidding.is_ended:
                    return bidding
            if self._ebay_now() + delay > deadline:
                return None
            self.sleep(delay)
            delay = min(delay * 2, POLL_MAX_SECONDS)

    def _not_told(
        self,
        bid: StoredBid,
        *,
        confirmed: bool,
        attempt: int,
        ebay_bid_id: str | None = None,
    ) -> BidExecutionResult:
        """eBay has not reported the end (yet): never LOST. A later check, backing
        off, until `outcome_checks` of them; then FAILED, saying the bid may stand."""
        following = attempt + 1
        if following > self.timing.outcome_checks:
            reason = NEVER_REPORTED if confirmed else NOT_TAKEN_UNKNOWN
            return self._finish(bid, BidStatus.FAILED, reason=reason)
        scheduled = self._schedule_check(bid, following)
        logger.info(
            "Outcome not known yet",
            extra={
                "outcome_check": following,
                "fire_at": scheduled.fire_at if scheduled else None,
            },
        )
        return BidExecutionResult(
            bidId=bid.bid_id,
            bidPlaced=confirmed,
            status=bid.status,
            ebayBidId=ebay_bid_id,
            latenessMs=bid.lateness_ms,
            reason="eBay has not reported the outcome yet; it is checked again later.",
        )

    def _outcome_check(
        self, event: BidExecutionEvent, finish_by: float | None
    ) -> BidExecutionResult:
        """A later look at an auction whose outcome eBay had not told in time."""
        bid = self.bids.get(event.userId, event.bidId)
        if bid is None:
            return BidExecutionResult(
                bidId=event.bidId, bidPlaced=False, skipped="no such bid"
            )
        confirmed = bid.status is BidStatus.PLACED
        sent = bid.status is BidStatus.EXECUTING and bid.sent_at is not None
        if not (confirmed or sent):
            return _skipped(bid, f"the bid is {bid.status}")
        run = _Run(event=event, bid=bid)
        try:
            start = max(self._ebay_now(), float(bid.auction_end_time))
            deadline = self._deadline(
                start + self.timing.outcome_wait_seconds, finish_by
            )
            try:
                run.token = self.tokens.access_token(bid.user_id, self._local(deadline))
            except (EbayNotLinkedError, EbayRelinkRequiredError):
                return self._finish(
                    bid, BidStatus.FAILED, reason=UNLINKED_BEFORE_OUTCOME
                )
            except EbayTransientError:
                return self._not_told(bid, confirmed=confirmed, attempt=event.attempt)
            return self._learn_outcome(
                run, bid, confirmed=confirmed, deadline=deadline, attempt=event.attempt
            )
        finally:
            self.metrics.add_metric(
                "EbayCallsPerSnipe", MetricUnit.Count, run.ebay_calls
            )

    # ------------------------------------------------------------ endings
    def _finish(
        self,
        bid: StoredBid,
        status: BidStatus,
        *,
        reason: str | None = None,
        final_price: int | None = None,
        details: dict[str, Any] | None = None,
        ebay_bid_id: str | None = None,
    ) -> BidExecutionResult:
        """Make the bid final (conditional on the status we hold it in), with its
        history entry, then tell the user."""
        entry_details = dict(details or {})
        changes: dict[str, Any] = {}
        if reason is not None:
            entry_details["reason"] = reason
            changes["reason"] = reason
        if final_price is not None:
            entry_details["finalPrice"] = final_price
            changes["final_price"] = final_price
        action = _ACTIONS[status]
        try:
            written = self.bids.transition(
                bid.user_id,
                bid.bid_id,
                (bid.status,),
                status,
                changes,
                self._entry(bid, action, entry_details, final_price),
                # Before the commit to send, the claim may have passed to another
                # run (the sweeper re-runs a snipe whose executor looked dead):
                # only the version read says the bid is still this run's to end.
                expected_version=bid.version if bid.sent_at is None else None,
            )
        except BidStateConflict as conflict:
            logger.info(
                "Bid changed before it could be made final",
                extra={"status": conflict.current.status, "wanted": status},
            )
            return _skipped(
                conflict.current, f"the bid became {conflict.current.status}"
            )
        except BidNotFound:
            return BidExecutionResult(
                bidId=bid.bid_id, bidPlaced=False, skipped="the bid is gone"
            )
        return self._concluded(written, ebay_bid_id)

    def _concluded(
        self, bid: StoredBid, ebay_bid_id: str | None = None
    ) -> BidExecutionResult:
        self.metrics.add_metric(_OUTCOME_METRICS[bid.status], MetricUnit.Count, 1)
        logger.info(
            "Bid final",
            extra={
                "status": bid.status,
                "final_price": bid.final_price,
                "reason": bid.reason,
            },
        )
        try:
            self.notifier.send(
                BidNotificationEvent(
                    bidId=bid.bid_id,
                    userId=bid.user_id,
                    status=bid.status,
                    ebayItemId=bid.ebay_item_id,
                    bidAmount=bid.max_bid_amount,
                    finalPrice=bid.final_price,
                    reason=bid.reason,
                )
            )
        except Exception:
            # The bid's state is what matters; the email is best effort.
            logger.exception("Could not queue the notification")
        return BidExecutionResult(
            bidId=bid.bid_id,
            bidPlaced=bid.ebay_answered_at is not None,
            bidOutcome=bid.status.value,
            status=bid.status,
            ebayBidId=ebay_bid_id,
            latenessMs=bid.lateness_ms,
            reason=bid.reason,
        )

    def _schedule_check(self, bid: StoredBid, attempt: int) -> ScheduledSnipe | None:
        try:
            return self.schedules.schedule_outcome_check(
                bid_id=bid.bid_id,
                user_id=bid.user_id,
                ebay_item_id=bid.ebay_item_id,
                auction_end_time=bid.auction_end_time,
                attempt=attempt,
                now=self.clock.now(),
            )
        except Exception:
            # The bid stays PLACED; the sweep for unrecorded outcomes finds it.
            logger.exception("Could not schedule the outcome check")
            return None

    # ------------------------------------------------------------ helpers
    def _entry(
        self,
        bid: StoredBid,
        action: HistoryAction,
        details: dict[str, Any],
        final_price: int | None = None,
    ) -> HistoryEntry:
        return HistoryEntry.new(
            user_id=bid.user_id,
            bid_id=bid.bid_id,
            action=action,
            ebay_item_id=bid.ebay_item_id,
            bid_amount=bid.max_bid_amount,
            now=self.clock.now(),
            details=details,
            final_price=final_price,
        )

    def _refresh(self, run: _Run) -> bool:
        """A fresh token after eBay refused one that had not expired; once."""
        if run.refreshed:
            return False
        run.refreshed = True
        logger.info("eBay refused the access token; refreshing it")
        try:
            run.token = self.tokens.access_token(
                run.bid.user_id,
                self.timing.outcome_deadline(run.bid.auction_end_time),
                force_refresh=True,
            )
        except (EbayNotLinkedError, EbayRelinkRequiredError, EbayError):
            return False
        return True

    def _ebay(
        self, run: _Run, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        run.ebay_calls += 1
        return call(*args, **kwargs)

    @staticmethod
    def _secret(run: _Run) -> str:
        if run.token is None:
            raise RuntimeError("no access token yet")
        return run.token.get_secret_value()

    def _ebay_now(self) -> float:
        """eBay's clock: ours plus the offset seen in eBay's `Date` headers."""
        return self.clock.now() + (self.ebay.server_time_offset or 0.0)

    def _local(self, moment: float) -> float:
        """An instant of eBay's clock on ours."""
        return moment - (self.ebay.server_time_offset or 0.0)

    def _deadline(self, moment: float, finish_by: float | None) -> float:
        if finish_by is None:
            return moment
        return min(moment, finish_by + (self.ebay.server_time_offset or 0.0))

    def _sleep_until(self, moment: float) -> None:
        left = moment - self._ebay_now()
        if left > 0:
            self.sleep(left)

    def _request_timeout(self, end: int) -> float:
        """A bid request waits for eBay's answer no longer than the setting, nor
        past the end (after it, only reconciling helps)."""
        return min(self.timing.bid_timeout_seconds, max(0.2, end - self._ebay_now()))

    @staticmethod
    def _lateness(bid: StoredBid, sent_on_ebay_clock: float) -> int:
        """Milliseconds from the target to the request, on eBay's clock."""
        return round((sent_on_ebay_clock - bid.target_time) * 1000)


_ACTIONS = {
    BidStatus.FAILED: HistoryAction.FAIL,
    BidStatus.WON: HistoryAction.WIN,
    BidStatus.LOST: HistoryAction.LOSE,
}
_OUTCOME_METRICS = {
    BidStatus.FAILED: "BidFailed",
    BidStatus.WON: "BidWon",
    BidStatus.LOST: "BidLost",
}


def _unrecorded(bid: StoredBid) -> BidExecutionResult:
    """eBay holds the bid, but the stored bid changed under us (never seen: edits
    and cancels end at the commit; an account deleted meanwhile would do it)."""
    return BidExecutionResult(
        bidId=bid.bid_id,
        bidPlaced=True,
        status=bid.status,
        skipped="placed on eBay, but the bid changed meanwhile and was not recorded",
    )


def _skipped(bid: StoredBid, why: str) -> BidExecutionResult:
    return BidExecutionResult(
        bidId=bid.bid_id,
        bidPlaced=False,
        status=bid.status,
        skipped=why,
        reason=bid.reason,
    )
