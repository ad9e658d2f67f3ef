"""A bid's history as the API shows it, and the filters of `GET /bid-history`.

Apart from the bid models so that Bid Management, which never answers with
history, does not build these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from sniper.models.base import Model
from sniper.models.pages import DEFAULT_PAGE_SIZE, Pagination
from sniper.models.statuses import HistoryAction


class BidHistoryItem(Model):
    """One append-only entry of a bid's history."""

    historyId: str
    originalBidId: str
    action: HistoryAction
    timestamp: int = Field(description="Unix seconds")
    details: dict[str, Any]
    ebayItemId: str
    bidAmount: int = Field(description="the bid's maximum at that moment, cents")
    finalPrice: int | None = Field(default=None, description="cents")


class BidHistoryResponse(Model):
    items: list[BidHistoryItem]
    pagination: Pagination


# The latest time a history filter may name: the history's sort keys hold twelve
# digits of Unix seconds (`sniper.repositories.bid_history.TIME_DIGITS`).
MAX_HISTORY_TIMESTAMP = 10**12 - 1


@dataclass(frozen=True)
class HistoryQuery:
    """The filters of `GET /bid-history`; times are inclusive Unix seconds."""

    action: HistoryAction | None = None
    ebay_item_id: str | None = None
    from_ts: int | None = None
    to_ts: int | None = None
    limit: int = DEFAULT_PAGE_SIZE
    cursor: str | None = None

    @property
    def scope(self) -> str:
        """What a cursor is bound to: the filters, not the page size."""
        filters = [self.action, self.ebay_item_id, self.from_ts, self.to_ts]
        return "bid-history:" + json.dumps(filters, separators=(",", ":"))
