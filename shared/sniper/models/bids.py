"""The bid contract: the API's request and answer shapes (statuses and history
actions: sniper.models.statuses).

Money is integer cents and times are Unix seconds (UTC) throughout; request models
refuse unknown fields so a misspelt field is an error, not silently ignored.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from sniper.models.base import Model
from sniper.models.leads import MAX_SNIPE_LEAD_SECONDS, MIN_SNIPE_LEAD_SECONDS
from sniper.models.pages import EBAY_ITEM_ID_PATTERN, Pagination
from sniper.models.statuses import BidStatus

MIN_BID_AMOUNT = 100
MAX_BID_AMOUNT = 10_000_000


EbayItemId = Annotated[
    str,
    StringConstraints(pattern=EBAY_ITEM_ID_PATTERN),
    Field(description="eBay's numeric (legacy) item id"),
]
# Strict: a bid amount sent as "2500" or 2500.0 is a client bug worth refusing.
BidAmount = Annotated[
    int,
    Field(ge=MIN_BID_AMOUNT, le=MAX_BID_AMOUNT, strict=True, description="cents"),
]
BidLeadSeconds = Annotated[
    int,
    Field(
        ge=MIN_SNIPE_LEAD_SECONDS,
        le=MAX_SNIPE_LEAD_SECONDS,
        strict=True,
        description="seconds before the auction's end the bid goes out",
    ),
]


class CreateBidRequest(Model):
    """A new snipe on one auction; the lead defaults to the user's preference."""

    model_config = ConfigDict(extra="forbid")

    ebayItemId: EbayItemId
    maxBidAmount: BidAmount
    snipeLeadSeconds: BidLeadSeconds | None = None


class UpdateBidRequest(Model):
    """An edit of a pending bid: a new maximum, a new lead, or both."""

    model_config = ConfigDict(extra="forbid")

    maxBidAmount: BidAmount | None = None
    snipeLeadSeconds: BidLeadSeconds | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> UpdateBidRequest:
        if self.maxBidAmount is None and self.snipeLeadSeconds is None:
            raise ValueError("give maxBidAmount, snipeLeadSeconds or both")
        return self

    def changes(self) -> dict[str, int]:
        """Only the fields the caller set."""
        return self.model_dump(exclude_none=True)


class BidResponse(Model):
    """A bid as the frontend shows it."""

    bidId: str
    userId: str | None = None
    ebayItemId: str
    restItemId: str = Field(description="the item id of eBay's REST APIs")
    marketplaceId: str
    currency: str
    maxBidAmount: int = Field(description="cents")
    status: BidStatus
    auctionEndTime: int = Field(description="Unix seconds")
    snipeLeadSeconds: int
    targetTime: int = Field(description="Unix seconds the bid is meant to go out")
    scheduledFor: int | None = Field(
        default=None, description="Unix seconds the executor is woken up"
    )
    createdAt: int = Field(description="Unix seconds")
    updatedAt: int = Field(description="Unix seconds")
    itemTitle: str | None = None
    itemImageUrl: str | None = None
    itemUrl: str | None = None
    currentPrice: int | None = Field(
        default=None, description="cents, when the bid was created"
    )
    sentAt: int | None = Field(default=None, description="Unix seconds")
    ebayAnsweredAt: int | None = Field(default=None, description="Unix seconds")
    latenessMs: int | None = Field(
        default=None, description="how long after targetTime the bid went out"
    )
    finalPrice: int | None = Field(default=None, description="cents")
    reason: str | None = Field(default=None, description="why a bid FAILED or LOST")


class BidListResponse(Model):
    items: list[BidResponse]
    pagination: Pagination
