"""Bid Management: a user's secret maximum on one auction, kept exactly right.

The rules: a bid is only made on a running auction far enough from its end to be
woken in time, at or above eBay's minimum next bid, through a linked, usable eBay
account, one active bid per item. Each active bid owns one one-time schedule. Edits
and cancels are honoured until the executor commits to send (a conditional change
that bumps the bid's version): an acknowledged edit is what eBay gets, an
acknowledged cancel means no bid at all; after that, both answer 409 with when the
bid left.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any, Protocol

from pydantic import SecretStr

from sniper.auth import AuthenticatedUser
from sniper.clock import Clock, SystemClock
from sniper.ebay import ItemDetails
from sniper.errors import BadRequestError, ConflictError, NotFoundError
from sniper.models.bids import (
    BidListResponse,
    BidResponse,
    CreateBidRequest,
    UpdateBidRequest,
)
from sniper.models.leads import DEFAULT_SNIPE_LEAD_SECONDS
from sniper.models.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Pagination
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.models.users import UserPreferences
from sniper.money import format_cents
from sniper.observability import logger
from sniper.pagination import Page
from sniper.repositories.bid_history import HistoryEntry
from sniper.repositories.bids import (
    BidNotFound,
    BidStateConflict,
    DuplicateBid,
    StoredBid,
    new_bid_id,
)
from sniper.services.bid_cancellation import (
    EDITABLE,
    BidCanceller,
    CancellableBids,
    still_editable,
)
from sniper.services.ebay_failures import ebay_failures_as_api_errors
from sniper.snipe.scheduling import ScheduledSnipe
from sniper.snipe.timing import SnipeTiming

NO_SUCH_BID = "No such bid."
NO_LIVE_ITEM = (
    "eBay has no running listing with this id: the auction has ended, was removed "
    "or never existed. Pick a running auction from your watch list."
)
# An edit that keeps losing to concurrent writes of the same bid gives up.
ATTEMPTS = 3


class LiveItems(Protocol):
    """The eBay Browse API, with the application token."""

    def get_item_by_legacy_id(self, legacy_id: str) -> ItemDetails: ...


class UserTokens(Protocol):
    """Proves the caller's eBay link is usable (401 with the reason otherwise)."""

    def access_token(self, user_id: str) -> SecretStr: ...


class Preferences(Protocol):
    def preferences_of(self, user_id: str) -> UserPreferences | None: ...


class Schedules(Protocol):
    """The bids' one-time schedules (`sniper.snipe.scheduling.SnipeScheduler`)."""

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

    def move(
        self,
        *,
        bid_id: str,
        user_id: str,
        ebay_item_id: str,
        auction_end_time: int,
        lead_seconds: int,
        max_bid_amount: int,
    ) -> ScheduledSnipe: ...

    def delete(self, name: str) -> bool: ...


class Bids(CancellableBids, Protocol):
    """What the service needs of `sniper.repositories.bids.BidRepository`."""

    def create(
        self, bid: StoredBid, history_entry: HistoryEntry | None
    ) -> StoredBid: ...

    def list_active(
        self, user_id: str, limit: int = 20, cursor: dict[str, Any] | None = None
    ) -> Page[StoredBid]: ...

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


class Cursors(Protocol):
    def encode(
        self, position: Mapping[str, Any] | None, *, user_id: str, scope: str
    ) -> str | None: ...

    def decode(
        self, cursor: str | None, *, user_id: str, scope: str
    ) -> dict[str, Any] | None: ...


class BidService:
    def __init__(
        self,
        bids: Bids,
        schedules: Schedules,
        items: LiveItems,
        tokens: UserTokens,
        preferences: Preferences,
        cursors: Cursors,
        timing: SnipeTiming,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.bids = bids
        self.schedules = schedules
        self.items = items
        self.tokens = tokens
        self.preferences = preferences
        self.cursors = cursors
        self.timing = timing
        self.clock = clock or SystemClock()
        self.canceller = BidCanceller(bids, schedules, clock=self.clock)

    # ------------------------------------------------------------ create
    def create(
        self, caller: AuthenticatedUser, request: CreateBidRequest
    ) -> BidResponse:
        """Check the auction, write the bid with its CREATE entry, schedule it.

        The schedule is made first, named after the new bid: if the bid then
        cannot be written (a duplicate), the schedule is deleted again; if the
        function dies in between, an orphan schedule wakes an executor that finds
        no bid and does nothing. So no PENDING bid is ever left without one.
        """
        user_id = caller.user_id
        self.tokens.access_token(user_id)  # 401: not linked, or re-link needed
        lead = request.snipeLeadSeconds or self._default_lead(user_id)
        item = self._live_item(request.ebayItemId)
        now = self.clock.now()
        end = self._check_biddable(item, lead, now)
        currency = self._check_amount(item, request.maxBidAmount)
        bid_id = new_bid_id()
        scheduled = self.schedules.create(
            bid_id=bid_id,
            user_id=user_id,
            ebay_item_id=request.ebayItemId,
            auction_end_time=end,
            lead_seconds=lead,
            max_bid_amount=request.maxBidAmount,
        )
        current = item.current_bid_price or item.price
        bid = StoredBid(
            user_id=user_id,
            bid_id=bid_id,
            ebay_item_id=request.ebayItemId,
            rest_item_id=item.item_id,
            marketplace_id=item.marketplace_id or "EBAY_US",
            currency=currency,
            max_bid_amount=request.maxBidAmount,
            status=BidStatus.PENDING,
            auction_end_time=end,
            snipe_lead_seconds=lead,
            created_at=int(now),
            updated_at=int(now),
            item_title=item.title,
            item_image_url=item.image_url,
            item_url=item.item_web_url,
            current_price=current.cents if current else None,
            schedule_name=scheduled.name,
            scheduled_for=scheduled.fire_at,
        )
        entry = self._entry(
            bid,
            HistoryAction.CREATE,
            now,
            {
                "maxBidAmount": bid.max_bid_amount,
                "snipeLeadSeconds": lead,
                "scheduledFor": scheduled.fire_at,
                "currency": currency,
            },
        )
        try:
            stored = self.bids.create(bid, entry)
        except DuplicateBid as error:
            self.schedules.delete(scheduled.name)
            raise ConflictError(
                f"You already have an active bid ({error.existing_bid_id}) on this "
                "item; change or cancel that one instead."
            ) from error
        except Exception:
            self.schedules.delete(scheduled.name)
            raise
        logger.info(
            "Bid created", extra={"bid_id": bid_id, "fire_at": scheduled.fire_at}
        )
        return to_response(stored)

    # ------------------------------------------------------------ reads
    def get(self, caller: AuthenticatedUser, bid_id: str) -> BidResponse:
        return to_response(self._bid(caller.user_id, bid_id))

    def list(
        self,
        caller: AuthenticatedUser,
        statuses: Collection[BidStatus] = (),
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: str | None = None,
    ) -> BidListResponse:
        """Active bids soonest-ending first, or the bids in `statuses`."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadRequestError(f"'limit' must be between 1 and {MAX_PAGE_SIZE}.")
        wanted = sorted({BidStatus(s) for s in statuses})
        scope = "bids:" + json.dumps(wanted or "active")
        user_id = caller.user_id
        position = self.cursors.decode(cursor, user_id=user_id, scope=scope)
        if wanted:
            page = self.bids.list_by_status(user_id, wanted, limit, position)
        else:
            page = self.bids.list_active(user_id, limit, position)
        return BidListResponse(
            items=[to_response(bid) for bid in page.items],
            pagination=Pagination(
                limit=limit,
                nextCursor=self.cursors.encode(
                    page.cursor, user_id=user_id, scope=scope
                ),
            ),
        )

    # ------------------------------------------------------------ edits
    def update(
        self, caller: AuthenticatedUser, bid_id: str, request: UpdateBidRequest
    ) -> BidResponse:
        """A new maximum and/or lead, until the executor commits to send."""
        user_id = caller.user_id
        for _ in range(ATTEMPTS):
            bid = self._editable(user_id, bid_id)
            amount = request.maxBidAmount or bid.max_bid_amount
            lead = request.snipeLeadSeconds or bid.snipe_lead_seconds
            if amount == bid.max_bid_amount and lead == bid.snipe_lead_seconds:
                return to_response(bid)
            now = self.clock.now()
            if amount != bid.max_bid_amount:
                item = self._live_item(bid.ebay_item_id)
                self._check_biddable(item, lead, now, moving=bid.status)
                self._check_amount(item, amount)
            elif not self._can_still(bid, lead, now):
                raise self._too_close(bid.auction_end_time, lead)
            changes: dict[str, Any] = {
                "max_bid_amount": amount,
                "snipe_lead_seconds": lead,
            }
            if lead != bid.snipe_lead_seconds and bid.status is BidStatus.PENDING:
                moved = self.schedules.move(
                    bid_id=bid.bid_id,
                    user_id=user_id,
                    ebay_item_id=bid.ebay_item_id,
                    auction_end_time=bid.auction_end_time,
                    lead_seconds=lead,
                    max_bid_amount=amount,
                )
                changes["scheduled_for"] = moved.fire_at
            details = {
                name: {"from": getattr(bid, field), "to": value}
                for name, field, value in (
                    ("maxBidAmount", "max_bid_amount", amount),
                    ("snipeLeadSeconds", "snipe_lead_seconds", lead),
                )
                if getattr(bid, field) != value
            }
            entry = self._entry(bid, HistoryAction.UPDATE, now, details, amount)
            try:
                written = self.bids.update_fields(
                    user_id,
                    bid_id,
                    changes,
                    entry,
                    expected_statuses=EDITABLE,
                    expected_version=bid.version,
                )
            except BidStateConflict:
                continue  # changed meanwhile (claimed, committed, edited): re-read
            return to_response(written)
        raise ConflictError("The bid changed meanwhile; try again.")

    def cancel(self, caller: AuthenticatedUser, bid_id: str) -> None:
        """Cancel until the executor commits to send; then 409 with when it left."""
        user_id = caller.user_id
        for _ in range(ATTEMPTS):
            bid = self._editable(user_id, bid_id)
            try:
                if self.canceller.cancel(bid, "Cancelled by you.", by="user"):
                    return
            except BidNotFound as error:
                raise NotFoundError(NO_SUCH_BID) from error
        raise ConflictError("The bid changed meanwhile; try again.")

    def _bid(self, user_id: str, bid_id: str) -> StoredBid:
        bid = self.bids.get(user_id, bid_id)
        if bid is None:
            raise NotFoundError(NO_SUCH_BID)
        return bid

    def _editable(self, user_id: str, bid_id: str) -> StoredBid:
        """The bid if it has not left for eBay; 409 naming its status otherwise."""
        bid = self._bid(user_id, bid_id)
        if still_editable(bid):
            return bid
        if bid.sent_at is not None:
            raise ConflictError(
                f"The bid is {bid.status.value}: it left for eBay at {bid.sent_at} "
                "(Unix seconds) and can no longer change."
            )
        raise ConflictError(f"The bid is {bid.status.value} and can no longer change.")

    def _default_lead(self, user_id: str) -> int:
        preferences = self.preferences.preferences_of(user_id)
        if preferences is None:
            return DEFAULT_SNIPE_LEAD_SECONDS
        return preferences.defaultSnipeLeadSeconds

    def _live_item(self, legacy_id: str) -> ItemDetails:
        """The listing as eBay shows it now. Browse serves only live listings, so
        an ended auction and an unknown id are one answer there (404)."""
        try:
            with ebay_failures_as_api_errors(user_token=False):
                return self.items.get_item_by_legacy_id(legacy_id)
        except NotFoundError as error:
            raise NotFoundError(NO_LIVE_ITEM) from error

    def _check_biddable(
        self,
        item: ItemDetails,
        lead: int,
        now: float,
        *,
        moving: BidStatus | None = None,
    ) -> int:
        """The auction's end, if a snipe with `lead` can still go out on time."""
        if "AUCTION" not in item.buying_options:
            raise BadRequestError(
                "This listing is not an auction (fixed price only): there is "
                "nothing to snipe. Buy it on eBay instead."
            )
        end = item.item_end_date
        if end is None or end <= now:
            raise BadRequestError("This auction has ended; pick a running one.")
        if moving is BidStatus.EXECUTING:
            if end - lead <= now:
                raise self._too_close(end, lead)
        elif not self.timing.can_schedule(end, lead, now):
            raise self._too_close(end, lead)
        return end

    def _can_still(self, bid: StoredBid, lead: int, now: float) -> bool:
        if bid.status is BidStatus.EXECUTING:
            return bid.auction_end_time - lead > now
        return self.timing.can_schedule(bid.auction_end_time, lead, now)

    def _too_close(self, end: int, lead: int) -> BadRequestError:
        needed = lead + self.timing.margin_seconds
        return BadRequestError(
            f"This auction ends too soon to snipe with a {lead} s lead: a snipe "
            f"must be set up at least {needed} s before the end (the lead plus "
            f"{self.timing.margin_seconds} s to wake up in time). Pick a shorter "
            "lead or an auction that ends later."
        )

    @staticmethod
    def _check_amount(item: ItemDetails, amount: int) -> str:
        """The listing's currency, if `amount` reaches eBay's minimum next bid."""
        minimum = item.minimum_price_to_bid
        reference = minimum or item.current_bid_price or item.price
        currency = reference.currency if reference else "USD"
        if minimum is not None and amount < minimum.cents:
            raise BadRequestError(
                f"Your maximum ({format_cents(amount)} {currency}) is below eBay's "
                f"minimum next bid of {format_cents(minimum.cents)} {currency}; "
                f"bid at least {format_cents(minimum.cents)} {currency}."
            )
        return currency

    def _entry(
        self,
        bid: StoredBid,
        action: HistoryAction,
        now: float,
        details: dict[str, Any],
        amount: int | None = None,
    ) -> HistoryEntry:
        return HistoryEntry.new(
            user_id=bid.user_id,
            bid_id=bid.bid_id,
            action=action,
            ebay_item_id=bid.ebay_item_id,
            bid_amount=amount or bid.max_bid_amount,
            now=now,
            details=details,
        )


def to_response(bid: StoredBid) -> BidResponse:
    """The stored bid as the frontend sees it."""
    return BidResponse(
        bidId=bid.bid_id,
        userId=bid.user_id,
        ebayItemId=bid.ebay_item_id,
        restItemId=bid.rest_item_id,
        marketplaceId=bid.marketplace_id,
        currency=bid.currency,
        maxBidAmount=bid.max_bid_amount,
        status=bid.status,
        auctionEndTime=bid.auction_end_time,
        snipeLeadSeconds=bid.snipe_lead_seconds,
        targetTime=bid.target_time,
        scheduledFor=bid.scheduled_for,
        createdAt=bid.created_at,
        updatedAt=bid.updated_at,
        itemTitle=bid.item_title,
        itemImageUrl=bid.item_image_url,
        itemUrl=bid.item_url,
        currentPrice=bid.current_price,
        sentAt=bid.sent_at,
        ebayAnsweredAt=bid.ebay_answered_at,
        latenessMs=bid.lateness_ms,
        finalPrice=bid.final_price,
        reason=bid.reason,
    )
