"""The watch-list contract: items as the frontend shows them, money in cents."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from sniper.models.base import Model


class WishlistItem(Model):
    """One watched eBay listing."""

    ebayItemId: str
    title: str
    currentPrice: int = Field(description="cents")
    currency: str
    endTime: int = Field(description="Unix seconds")
    imageUrl: str | None = None
    condition: str
    sellerInfo: dict[str, Any]
    isAuctionActive: bool
    listingType: str
    bidCount: int = 0
    minimumBidAmount: int | None = Field(default=None, description="cents")
    buyItNowPrice: int | None = Field(default=None, description="cents")
    itemUrl: str | None = None


class WishlistResponse(Model):
    items: list[WishlistItem]
    lastSyncAt: int
    totalItems: int


class WishlistItemDetails(WishlistItem):
    """A listing's live state from the Browse API."""

    ebayRestfulItemId: str
    buyingOptions: list[str]
    reservePriceMet: bool | None = None
    uniqueBidderCount: int | None = None
