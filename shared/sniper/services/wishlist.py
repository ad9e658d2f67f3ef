"""The caller's eBay watch list and live item details, in the API's terms."""

from __future__ import annotations

from typing import Any, Protocol

from sniper.auth import AuthenticatedUser
from sniper.clock import Clock, SystemClock
from sniper.ebay import ItemDetails, WatchedItem
from sniper.models.wishlist import WishlistItem, WishlistItemDetails, WishlistResponse
from sniper.services.ebay_failures import ebay_failures_as_api_errors
from sniper.services.ebay_tokens import UserTokenProvider, call_with_user_token

UNKNOWN_CONDITION = "Not specified"


class WatchListSource(Protocol):
    def get_watch_list(self, access_token: str) -> list[WatchedItem]: ...

    def get_item_by_legacy_id(self, legacy_id: str) -> ItemDetails: ...


class WishlistService:
    def __init__(
        self,
        tokens: UserTokenProvider,
        ebay: WatchListSource,
        clock: Clock | None = None,
    ) -> None:
        self.tokens = tokens
        self.ebay = ebay
        self.clock = clock or SystemClock()

    def watch_list(
        self, caller: AuthenticatedUser, *, auctions_only: bool = False
    ) -> WishlistResponse:
        """Every page of the caller's watch list; optionally only live auctions."""
        with ebay_failures_as_api_errors():
            watched = call_with_user_token(
                self.tokens, caller.user_id, self.ebay.get_watch_list
            )
        now = int(self.clock.now())
        items = [self._from_watched(item, now) for item in watched]
        if auctions_only:
            items = [item for item in items if item.isAuctionActive]
        return WishlistResponse(items=items, lastSyncAt=now, totalItems=len(items))

    def item(self, caller: AuthenticatedUser, item_id: str) -> WishlistItemDetails:
        """A listing's live state; needs a linked account like the watch list."""
        self.tokens.link_of(caller.user_id)
        with ebay_failures_as_api_errors(user_token=False):
            details = self.ebay.get_item_by_legacy_id(item_id)
        return self._from_details(details, int(self.clock.now()))

    @staticmethod
    def _from_watched(item: WatchedItem, now: int) -> WishlistItem:
        price = item.current_price
        end_time = item.end_time or 0
        return WishlistItem(
            ebayItemId=item.item_id,
            title=item.title,
            currentPrice=price.cents if price else 0,
            currency=price.currency if price else "USD",
            endTime=end_time,
            imageUrl=item.gallery_url,
            condition=UNKNOWN_CONDITION,
            sellerInfo=_seller(username=item.seller_id),
            isAuctionActive=item.is_auction and end_time > now,
            listingType="AUCTION" if item.is_auction else "FIXED_PRICE",
            bidCount=item.bid_count,
            minimumBidAmount=item.minimum_to_bid.cents if item.minimum_to_bid else None,
            buyItNowPrice=(
                item.buy_it_now_price.cents if item.buy_it_now_price else None
            ),
            itemUrl=item.view_item_url,
        )

    @staticmethod
    def _from_details(details: ItemDetails, now: int) -> WishlistItemDetails:
        price = details.current_bid_price or details.price
        end_time = details.item_end_date or 0
        seller = details.seller
        minimum = details.minimum_price_to_bid
        return WishlistItemDetails(
            ebayItemId=details.legacy_item_id or details.item_id,
            ebayRestfulItemId=details.item_id,
            title=details.title,
            currentPrice=price.cents if price else 0,
            currency=price.currency if price else "USD",
            endTime=end_time,
            imageUrl=details.image_url,
            condition=details.condition or UNKNOWN_CONDITION,
            sellerInfo=_seller(
                username=seller.username if seller else None,
                feedbackPercentage=seller.feedback_percentage if seller else None,
                feedbackScore=seller.feedback_score if seller else None,
            ),
            isAuctionActive=details.is_auction and end_time > now,
            listingType="AUCTION" if details.is_auction else "FIXED_PRICE",
            bidCount=details.bid_count,
            minimumBidAmount=minimum.cents if minimum else None,
            buyItNowPrice=(
                details.price.cents
                if details.price and "FIXED_PRICE" in details.buying_options
                else None
            ),
            itemUrl=details.item_web_url,
            buyingOptions=list(details.buying_options),
            reservePriceMet=details.reserve_price_met,
            uniqueBidderCount=details.unique_bidder_count,
        )


def _seller(**fields: Any) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}
