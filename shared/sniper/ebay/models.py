"""What the eBay client returns: our names, integer cents, Unix seconds.

These are the domain view of eBay's answers, not the wire format: amounts are
``Money``, instants are Unix seconds, tokens are ``SecretStr`` so that a logged
model never shows one. Enumerations eBay may extend stay plain strings.
"""

from __future__ import annotations

from pydantic import ConfigDict, SecretStr

from sniper.models.base import Model
from sniper.money import Money

AUCTION_LISTING_TYPE = "Chinese"  # Trading's name for an auction
AUCTION_BUYING_OPTION = "AUCTION"  # Browse's name for an auction
AUCTION_ENDED = "ENDED"


class _Model(Model):
    model_config = ConfigDict(frozen=True)


class UserTokens(_Model):
    """The tokens of a freshly linked eBay account (authorization code grant)."""

    access_token: SecretStr
    access_token_expires_at: int
    refresh_token: SecretStr
    refresh_token_expires_at: int


class AccessToken(_Model):
    """A new user access token from the refresh grant (the refresh token stays)."""

    access_token: SecretStr
    expires_at: int


class EbayUser(_Model):
    """Who linked: ``user_id`` is immutable (key users by it), ``username`` can
    change."""

    user_id: str
    username: str


class WatchedItem(_Model):
    """One entry of the user's eBay watch list (Trading GetMyeBayBuying)."""

    item_id: str
    title: str
    listing_type: str
    current_price: Money | None = None
    bid_count: int = 0
    minimum_to_bid: Money | None = None
    end_time: int | None = None
    gallery_url: str | None = None
    buy_it_now_price: Money | None = None
    time_left: str | None = None
    seller_id: str | None = None
    view_item_url: str | None = None

    @property
    def is_auction(self) -> bool:
        """Only auctions can be sniped."""
        return self.listing_type == AUCTION_LISTING_TYPE


class Seller(_Model):
    """The seller as Browse describes them; ``feedback_percentage`` is eBay's
    string ("99.8")."""

    username: str | None = None
    feedback_percentage: str | None = None
    feedback_score: int | None = None


class ItemDetails(_Model):
    """A live listing from the Browse API: what a bid is checked against."""

    item_id: str
    legacy_item_id: str | None = None
    title: str
    buying_options: tuple[str, ...] = ()
    current_bid_price: Money | None = None
    minimum_price_to_bid: Money | None = None
    bid_count: int = 0
    unique_bidder_count: int | None = None
    reserve_price_met: bool | None = None
    item_end_date: int | None = None
    price: Money | None = None
    image_url: str | None = None
    condition: str | None = None
    seller: Seller | None = None
    item_web_url: str | None = None
    adult_only: bool = False
    marketplace_id: str | None = None

    @property
    def is_auction(self) -> bool:
        """True when the listing takes bids (it may also offer Buy It Now)."""
        return AUCTION_BUYING_OPTION in self.buying_options


class ProxyBid(_Model):
    """The user's standing maximum on an auction."""

    proxy_bid_id: str | None = None
    max_amount: Money | None = None


class Bidding(_Model):
    """The user's view of an auction they bid on (Offer getBidding)."""

    item_id: str | None = None
    auction_status: str
    auction_end_date: int | None = None
    bid_count: int = 0
    current_price: Money | None = None
    current_proxy_bid: ProxyBid | None = None
    high_bidder: bool = False
    reserve_price_met: bool | None = None
    suggested_bid_amounts: tuple[Money, ...] = ()

    @property
    def is_ended(self) -> bool:
        """eBay reports the auction over."""
        return self.auction_status == AUCTION_ENDED

    @property
    def won(self) -> bool:
        """Ended with the user as high bidder, and no unmet reserve (an auction
        whose reserve was never met ends unsold)."""
        return (
            self.is_ended and self.high_bidder and self.reserve_price_met is not False
        )
