"""The caller's bid history and one bid's timeline, in the API's terms."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, Protocol

from sniper.auth import AuthenticatedUser
from sniper.errors import BadRequestError, NotFoundError
from sniper.models.history import BidHistoryItem, BidHistoryResponse, HistoryQuery
from sniper.models.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Pagination
from sniper.models.statuses import HistoryAction
from sniper.pagination import Page
from sniper.repositories.bid_history import HistoryEntry

NO_SUCH_BID = "No such bid."


class HistoryStore(Protocol):
    """What the service needs of the BidHistory repository."""

    def list(
        self,
        user_id: str,
        *,
        action: HistoryAction | None = None,
        ebay_item_id: str | None = None,
        from_ts: int | None = None,
        to_ts: int | None = None,
        limit: int = DEFAULT_PAGE_SIZE,
        cursor: dict[str, Any] | None = None,
    ) -> Page[HistoryEntry]: ...

    def timeline(self, user_id: str, bid_id: str) -> builtins.list[HistoryEntry]: ...


class Cursors(Protocol):
    """Signs and checks page cursors (`sniper.pagination.CursorCodec`)."""

    def encode(
        self, position: Mapping[str, Any] | None, *, user_id: str, scope: str
    ) -> str | None: ...

    def decode(
        self, cursor: str | None, *, user_id: str, scope: str
    ) -> dict[str, Any] | None: ...


class BidHistoryService:
    def __init__(self, history: HistoryStore, cursors: Cursors) -> None:
        self.history = history
        self.cursors = cursors

    def history_of(
        self, caller: AuthenticatedUser, query: HistoryQuery
    ) -> BidHistoryResponse:
        """One page of the caller's entries, newest first."""
        if (
            query.from_ts is not None
            and query.to_ts is not None
            and query.from_ts > query.to_ts
        ):
            raise BadRequestError("'from' must not be after 'to'.")
        if not 1 <= query.limit <= MAX_PAGE_SIZE:
            raise BadRequestError(f"'limit' must be between 1 and {MAX_PAGE_SIZE}.")
        user_id, scope = caller.user_id, query.scope
        page = self.history.list(
            user_id,
            action=query.action,
            ebay_item_id=query.ebay_item_id,
            from_ts=query.from_ts,
            to_ts=query.to_ts,
            limit=query.limit,
            cursor=self.cursors.decode(query.cursor, user_id=user_id, scope=scope),
        )
        return BidHistoryResponse(
            items=[to_item(entry) for entry in page.items],
            pagination=Pagination(
                limit=query.limit,
                nextCursor=self.cursors.encode(
                    page.cursor, user_id=user_id, scope=scope
                ),
            ),
        )

    def timeline(self, caller: AuthenticatedUser, bid_id: str) -> BidHistoryResponse:
        """Every entry of one of the caller's bids, oldest first.

        Another user's bid is not in the caller's partition, so it is as unknown
        as a bid that never existed: 404, never 403.
        """
        entries = self.history.timeline(caller.user_id, bid_id)
        if not entries:
            raise NotFoundError(NO_SUCH_BID)
        return BidHistoryResponse(
            items=[to_item(entry) for entry in entries],
            pagination=Pagination(limit=None, nextCursor=None),
        )


def to_item(entry: HistoryEntry) -> BidHistoryItem:
    return BidHistoryItem(
        historyId=entry.history_id,
        originalBidId=entry.bid_id,
        action=entry.action,
        timestamp=entry.timestamp,
        details=entry.details,
        ebayItemId=entry.ebay_item_id,
        bidAmount=entry.bid_amount,
        finalPrice=entry.final_price,
    )
