"""Ending bids before they leave for eBay: by the user, or because something ended
their ability to bid (unlinking eBay, eBay's account deletion, account deletion).

A cancel is a conditional change on the version read: it wins only if the executor
has not committed to send meanwhile (that commit bumps the version), so a racing
cancel and execution never both win.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from sniper.clock import Clock, SystemClock
from sniper.models.snipe import BidNotificationEvent
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.observability import logger
from sniper.pagination import Page
from sniper.repositories.bid_history import HistoryEntry
from sniper.repositories.bids import BidNotFound, BidStateConflict, StoredBid
from sniper.snipe.scheduling import snipe_schedule_name

# Statuses a bid can still be changed or cancelled in (until `sent_at` is set).
EDITABLE = frozenset({BidStatus.PENDING, BidStatus.EXECUTING})
ATTEMPTS = 3
PAGE_SIZE = 100


def still_editable(bid: StoredBid) -> bool:
    """Whether the bid has not left for eBay: no commit to send yet."""
    return bid.status in EDITABLE and bid.sent_at is None


class CancellableBids(Protocol):
    def get(self, user_id: str, bid_id: str) -> StoredBid | None: ...

    def list_by_status(
        self,
        user_id: str,
        statuses: Collection[BidStatus],
        limit: int = 20,
        cursor: dict[str, Any] | None = None,
        *,
        latest_first: bool = False,
    ) -> Page[StoredBid]: ...

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


class ScheduleDeleter(Protocol):
    def delete(self, name: str) -> bool: ...


class Notifier(Protocol):
    def send(self, event: BidNotificationEvent) -> None: ...


class BidCanceller:
    def __init__(
        self,
        bids: CancellableBids,
        schedules: ScheduleDeleter,
        notifier: Notifier | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.bids = bids
        self.schedules = schedules
        self.notifier = notifier
        self.clock = clock or SystemClock()

    def cancel(self, bid: StoredBid, reason: str, *, by: str) -> StoredBid | None:
        """Cancel the bid as read; None when it changed since (the caller re-reads).

        Raises `BidNotFound` when the bid is gone.
        """
        entry = HistoryEntry.new(
            user_id=bid.user_id,
            bid_id=bid.bid_id,
            action=HistoryAction.CANCEL,
            ebay_item_id=bid.ebay_item_id,
            bid_amount=bid.max_bid_amount,
            now=self.clock.now(),
            details={"reason": reason, "by": by},
        )
        try:
            cancelled = self.bids.transition(
                bid.user_id,
                bid.bid_id,
                EDITABLE,
                BidStatus.CANCELLED,
                {"reason": reason},
                entry,
                expected_version=bid.version,
            )
        except BidStateConflict:
            return None
        if bid.status is BidStatus.PENDING:
            self.schedules.delete(bid.schedule_name or snipe_schedule_name(bid.bid_id))
        logger.info("Bid cancelled", extra={"bid_id": bid.bid_id, "by": by})
        return cancelled

    def cancel_all(self, user_id: str, reason: str, *, notify: bool = False) -> int:
        """Cancel every bid of the user that has not left for eBay yet.

        PLACED bids stand on eBay (a bid is binding) and stay with the executor.
        With `notify`, the user is told of each (the system cancelled it).
        """
        cancelled = 0
        cursor: dict[str, Any] | None = None
        while True:
            page = self.bids.list_by_status(user_id, EDITABLE, PAGE_SIZE, cursor)
            for listed in page.items:
                done = self._cancel_current(user_id, listed.bid_id, reason)
                if done is None:
                    continue
                cancelled += 1
                if notify and self.notifier is not None:
                    self.notifier.send(
                        BidNotificationEvent(
                            bidId=done.bid_id,
                            userId=user_id,
                            status=BidStatus.CANCELLED,
                            ebayItemId=done.ebay_item_id,
                            bidAmount=done.max_bid_amount,
                            reason=reason,
                        )
                    )
            if page.cursor is None:
                return cancelled
            cursor = page.cursor

    def _cancel_current(
        self, user_id: str, bid_id: str, reason: str
    ) -> StoredBid | None:
        for _ in range(ATTEMPTS):
            current = self.bids.get(user_id, bid_id)
            if current is None or not still_editable(current):
                return None
            try:
                done = self.cancel(current, reason, by="system")
            except BidNotFound:
                return None
            if done is not None:
                return done
        return None
