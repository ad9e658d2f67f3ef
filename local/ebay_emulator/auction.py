"""eBay US auction rules: proxy bidding, increments, reserve and Buy It Now.

Pure logic with no HTTP in it: the Offer API, the admin API and the unit tests all
run bids through `place_bid`, so a rival's bid and ours obey the same rules.
Money is integer cents; time is seconds since the epoch on the emulator's clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import IntEnum, StrEnum

# (lowest price in cents the row applies to, increment in cents), eBay US table.
US_INCREMENTS: tuple[tuple[int, int], ...] = (
    (500_000, 10_000),
    (250_000, 5_000),
    (100_000, 2_500),
    (50_000, 1_000),
    (25_000, 500),
    (10_000, 250),
    (2_500, 100),
    (500, 50),
    (100, 25),
    (0, 5),
)


class ListingType(StrEnum):
    AUCTION = "AUCTION"
    FIXED_PRICE = "FIXED_PRICE"


class BidRefusal(IntEnum):
    """Why a bid was refused, valued with the Buy Offer API's error ids."""

    NOT_AN_AUCTION = 120001
    ENDED_BY_BUY_IT_NOW = 120002
    OWN_ITEM = 120003
    ABOVE_BUY_IT_NOW = 120005
    TOO_LOW = 120008
    CURRENCY_MISMATCH = 120009
    CANNOT_LOWER = 120010
    ENDED = 120012


class BidRefused(Exception):
    """A bid eBay would not accept; the refused bid is still recorded."""

    def __init__(self, refusal: BidRefusal, bid: Bid) -> None:
        super().__init__(refusal.name)
        self.refusal = refusal
        self.bid = bid


@dataclass(frozen=True)
class Bid:
    """One bid as submitted: accepted bids decide the auction, refused ones are kept
    so a scenario can show what was tried."""

    sequence: int
    bidder: str
    max_cents: int
    currency: str
    placed_at: float
    accepted: bool
    proxy_bid_id: str | None = None
    refusal: BidRefusal | None = None
    source: str = "api"


@dataclass
class Listing:
    """A listing with everything the rules need; standing is derived from `bids`."""

    item_id: str
    title: str
    seller: str
    listing_type: ListingType
    currency: str
    start_price_cents: int
    start_time: float
    end_time: float
    reserve_cents: int | None = None
    buy_it_now_cents: int | None = None
    image_url: str | None = None
    condition: str = "Used"
    bids: list[Bid] = field(default_factory=list)
    bought_by: str | None = None
    bought_at: float | None = None

    def __post_init__(self) -> None:
        if self.start_price_cents <= 0:
            raise ValueError("the start price must be positive")
        if self.listing_type is ListingType.FIXED_PRICE:
            if self.reserve_cents is not None:
                raise ValueError("a fixed-price listing has no reserve")
            if self.buy_it_now_cents not in (None, self.start_price_cents):
                raise ValueError("a fixed-price listing has one price")
            self.buy_it_now_cents = self.start_price_cents
        if (
            self.reserve_cents is not None
            and self.reserve_cents <= self.start_price_cents
        ):
            raise ValueError("the reserve must be above the start price")
        if (
            self.listing_type is ListingType.AUCTION
            and self.buy_it_now_cents is not None
            and self.buy_it_now_cents
            <= max(self.start_price_cents, self.reserve_cents or 0)
        ):
            raise ValueError("Buy It Now must be above the start price and the reserve")
        if self.end_time <= self.start_time:
            raise ValueError("a listing must end after it starts")

    @property
    def restful_id(self) -> str:
        return f"v1|{self.item_id}|0"

    @property
    def is_auction(self) -> bool:
        return self.listing_type is ListingType.AUCTION

    @property
    def closes_at(self) -> float:
        """When the listing stopped or will stop taking bids."""
        return self.bought_at if self.bought_at is not None else self.end_time

    def has_ended(self, now: float) -> bool:
        """Ended strictly after the end instant: a bid at the instant still counts."""
        return self.bought_at is not None or now > self.end_time

    @property
    def accepted_bids(self) -> list[Bid]:
        return [bid for bid in self.bids if bid.accepted]


@dataclass(frozen=True)
class Standing:
    """Where an auction stands: who leads, at what price."""

    leader: str | None
    leader_max_cents: int | None
    price_cents: int
    bid_count: int
    bidders: tuple[str, ...]
    reserve_met: bool


def increment_for(price_cents: int) -> int:
    """The bid increment at a given current price (eBay US table)."""
    for floor, increment in US_INCREMENTS:
        if price_cents >= floor:
            return increment
    raise AssertionError("unreachable: the table starts at zero")


def highest_maxima(listing: Listing) -> list[tuple[str, int]]:
    """Each bidder's current maximum, best first; equal maxima rank by who got
    there first."""
    best: dict[str, tuple[int, int]] = {}
    for bid in listing.accepted_bids:
        best[bid.bidder] = (bid.max_cents, bid.sequence)
    ranked = sorted(best.items(), key=lambda entry: (-entry[1][0], entry[1][1]))
    return [(bidder, max_cents) for bidder, (max_cents, _) in ranked]


def standing(listing: Listing) -> Standing:
    """Apply proxy bidding to the accepted bids.

    The leader is the highest maximum; the price is the runner-up's maximum plus
    one increment, never above the leader's maximum; a lone bidder pays the start
    price, or the reserve once their maximum reaches it.
    """
    ranked = highest_maxima(listing)
    bid_count = len(listing.accepted_bids)
    if not ranked:
        return Standing(None, None, listing.start_price_cents, 0, (), False)
    leader, leader_max = ranked[0]
    if len(ranked) == 1:
        price = listing.start_price_cents
    else:
        runner_up = ranked[1][1]
        price = min(leader_max, runner_up + increment_for(runner_up))
    reserve = listing.reserve_cents
    reserve_met = reserve is None or leader_max >= reserve
    if reserve is not None and reserve_met:
        price = max(price, reserve)
    bidders = tuple(dict.fromkeys(bid.bidder for bid in listing.accepted_bids))
    return Standing(leader, leader_max, price, bid_count, bidders, reserve_met)


def minimum_to_bid(listing: Listing) -> int:
    """The lowest acceptable next maximum: the start price, then price + increment."""
    current = standing(listing)
    if current.bid_count == 0:
        return listing.start_price_cents
    return current.price_cents + increment_for(current.price_cents)


def buy_it_now_available(listing: Listing, now: float) -> bool:
    """Buy It Now shows until the first bid, or until an unmet reserve is met."""
    if listing.buy_it_now_cents is None or listing.has_ended(now):
        return False
    if not listing.is_auction:
        return True
    current = standing(listing)
    if current.bid_count == 0:
        return True
    return listing.reserve_cents is not None and not current.reserve_met


def own_maximum(listing: Listing, bidder: str) -> int | None:
    """The bidder's current accepted maximum, if they have bid."""
    for ranked_bidder, max_cents in highest_maxima(listing):
        if ranked_bidder == bidder:
            return max_cents
    return None


def _refusal(
    listing: Listing, bidder: str, max_cents: int, currency: str, now: float
) -> BidRefusal | None:
    if not listing.is_auction:
        return BidRefusal.NOT_AN_AUCTION
    if listing.bought_at is not None:
        return BidRefusal.ENDED_BY_BUY_IT_NOW
    if listing.has_ended(now):
        return BidRefusal.ENDED
    if bidder == listing.seller:
        return BidRefusal.OWN_ITEM
    if currency != listing.currency:
        return BidRefusal.CURRENCY_MISMATCH
    previous = own_maximum(listing, bidder)
    if previous is not None and max_cents <= previous:
        return BidRefusal.CANNOT_LOWER
    if max_cents < minimum_to_bid(listing):
        return BidRefusal.TOO_LOW
    if (
        buy_it_now_available(listing, now)
        and listing.buy_it_now_cents is not None
        and max_cents > listing.buy_it_now_cents
    ):
        return BidRefusal.ABOVE_BUY_IT_NOW
    return None


def place_bid(
    listing: Listing,
    bidder: str,
    max_cents: int,
    currency: str,
    now: float,
    proxy_bid_id: str,
    source: str = "api",
) -> Bid:
    """Record a proxy bid and return it, or raise `BidRefused` (also recorded).

    Accepted up to and including the end instant. A bidder's new maximum must be
    above their old one and at least the minimum next bid.
    """
    refusal = _refusal(listing, bidder, max_cents, currency, now)
    bid = Bid(
        sequence=len(listing.bids),
        bidder=bidder,
        max_cents=max_cents,
        currency=currency,
        placed_at=now,
        accepted=refusal is None,
        proxy_bid_id=proxy_bid_id if refusal is None else None,
        refusal=refusal,
        source=source,
    )
    listing.bids.append(bid)
    if refusal is not None:
        raise BidRefused(refusal, bid)
    return bid


def buy_now(listing: Listing, buyer: str, now: float) -> None:
    """End the listing by a Buy It Now purchase, if Buy It Now is still offered."""
    if buyer == listing.seller:
        raise ValueError("a seller cannot buy their own item")
    if not buy_it_now_available(listing, now):
        raise ValueError("Buy It Now is not available on this listing")
    listing.bought_by = buyer
    listing.bought_at = now


def rename_bidder(listing: Listing, username: str, new_username: str) -> None:
    """Follow a member's username change through the listing's records."""
    if listing.seller == username:
        listing.seller = new_username
    if listing.bought_by == username:
        listing.bought_by = new_username
    listing.bids = [
        replace(bid, bidder=new_username) if bid.bidder == username else bid
        for bid in listing.bids
    ]


@dataclass(frozen=True)
class Outcome:
    """How a listing ended: sold to someone at a price, or unsold."""

    sold: bool
    winner: str | None
    price_cents: int | None


def outcome(listing: Listing, now: float) -> Outcome | None:
    """The result once the listing has ended; None while it runs."""
    if not listing.has_ended(now):
        return None
    if listing.bought_by is not None and listing.buy_it_now_cents is not None:
        return Outcome(True, listing.bought_by, listing.buy_it_now_cents)
    current = standing(listing)
    if current.leader is None or not current.reserve_met:
        return Outcome(False, None, None)
    return Outcome(True, current.leader, current.price_cents)
