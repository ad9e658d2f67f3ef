"""eBay US auction rules, tested directly on the pure module (no HTTP)."""

from __future__ import annotations

import itertools

import pytest

from local.ebay_emulator import auction
from local.ebay_emulator.auction import BidRefusal, BidRefused, Listing, ListingType

START = 1_000_000.0
END = START + 3_600.0
_ids = itertools.count(1)


def make_listing(**overrides: object) -> Listing:
    fields: dict[str, object] = {
        "item_id": "110000000001",
        "title": "Camera",
        "seller": "seller1",
        "listing_type": ListingType.AUCTION,
        "currency": "USD",
        "start_price_cents": 1_000,
        "start_time": START,
        "end_time": END,
    }
    fields.update(overrides)
    return Listing(**fields)  # type: ignore[arg-type]


def bid(
    listing: Listing, bidder: str, cents: int, at: float = START + 10
) -> auction.Bid:
    return auction.place_bid(listing, bidder, cents, "USD", at, f"pb-{next(_ids)}")


def refusal_of(
    listing: Listing, bidder: str, cents: int, at: float = START + 10
) -> BidRefusal:
    with pytest.raises(BidRefused) as refused:
        bid(listing, bidder, cents, at)
    return refused.value.refusal


@pytest.mark.parametrize(
    ("price_cents", "increment_cents"),
    [
        (1, 5),
        (99, 5),
        (100, 25),
        (499, 25),
        (500, 50),
        (2_499, 50),
        (2_500, 100),
        (9_999, 100),
        (10_000, 250),
        (24_999, 250),
        (25_000, 500),
        (49_999, 500),
        (50_000, 1_000),
        (99_999, 1_000),
        (100_000, 2_500),
        (249_999, 2_500),
        (250_000, 5_000),
        (499_999, 5_000),
        (500_000, 10_000),
        (10_000_000, 10_000),
    ],
)
def test_increment_follows_the_us_table_at_each_edge(
    price_cents: int, increment_cents: int
) -> None:
    assert auction.increment_for(price_cents) == increment_cents


def test_first_bid_sets_the_price_to_the_start_price() -> None:
    listing = make_listing()
    bid(listing, "rival1", 5_000)
    current = auction.standing(listing)
    assert (current.leader, current.price_cents, current.bid_count) == (
        "rival1",
        1_000,
        1,
    )


def test_higher_max_leads_at_the_runner_up_plus_one_increment() -> None:
    listing = make_listing()
    bid(listing, "rival1", 2_000)
    bid(listing, "sniper", 2_500, at=START + 20)
    current = auction.standing(listing)
    assert (current.leader, current.price_cents) == ("sniper", 2_050)


def test_equal_maxima_the_earlier_bid_leads_at_that_amount() -> None:
    listing = make_listing()
    bid(listing, "rival1", 2_000, at=START + 10)
    bid(listing, "sniper", 2_000, at=START + 20)
    current = auction.standing(listing)
    assert (current.leader, current.price_cents) == ("rival1", 2_000)


def test_price_never_exceeds_the_leaders_maximum() -> None:
    listing = make_listing()
    bid(listing, "rival1", 2_000)
    bid(listing, "sniper", 2_025, at=START + 20)
    current = auction.standing(listing)
    assert (current.leader, current.price_cents) == ("sniper", 2_025)


def test_a_lower_later_bid_raises_the_price_but_not_the_leader() -> None:
    listing = make_listing()
    bid(listing, "sniper", 2_500)
    bid(listing, "rival1", 1_500, at=START + 20)
    current = auction.standing(listing)
    assert (current.leader, current.price_cents) == ("sniper", 1_550)


def test_leader_raising_their_own_maximum_does_not_raise_the_price() -> None:
    listing = make_listing()
    bid(listing, "rival1", 1_500)
    bid(listing, "sniper", 2_000, at=START + 20)
    before = auction.standing(listing).price_cents
    bid(listing, "sniper", 4_000, at=START + 30)
    after = auction.standing(listing)
    assert before == after.price_cents == 1_550
    assert after.leader_max_cents == 4_000


def test_a_bidder_cannot_lower_their_own_maximum() -> None:
    listing = make_listing()
    bid(listing, "sniper", 3_000)
    assert refusal_of(listing, "sniper", 2_000) is BidRefusal.CANNOT_LOWER
    assert BidRefusal.CANNOT_LOWER.value == 120010


def test_minimum_to_bid_is_the_start_price_then_price_plus_increment() -> None:
    listing = make_listing()
    assert auction.minimum_to_bid(listing) == 1_000
    bid(listing, "rival1", 2_000)
    assert auction.minimum_to_bid(listing) == 1_050


def test_a_bid_below_the_minimum_is_refused_and_at_the_minimum_accepted() -> None:
    listing = make_listing()
    bid(listing, "rival1", 2_000)
    assert refusal_of(listing, "sniper", 1_049) is BidRefusal.TOO_LOW
    bid(listing, "sniper", 1_050, at=START + 20)
    assert auction.standing(listing).price_cents == 1_100


def test_a_first_bid_below_the_start_price_is_refused() -> None:
    assert refusal_of(make_listing(), "sniper", 999) is BidRefusal.TOO_LOW


def test_bids_count_up_to_and_including_the_end_instant() -> None:
    listing = make_listing()
    bid(listing, "sniper", 2_000, at=END)
    assert refusal_of(listing, "rival1", 5_000, at=END + 0.001) is BidRefusal.ENDED
    assert auction.standing(listing).leader == "sniper"


def test_a_seller_cannot_bid_on_their_own_item() -> None:
    assert refusal_of(make_listing(), "seller1", 2_000) is BidRefusal.OWN_ITEM


def test_the_bid_currency_must_be_the_listings() -> None:
    listing = make_listing()
    with pytest.raises(BidRefused) as refused:
        auction.place_bid(listing, "sniper", 2_000, "EUR", START + 10, "pb-x")
    assert refused.value.refusal is BidRefusal.CURRENCY_MISMATCH


def test_a_fixed_price_listing_takes_no_bids() -> None:
    listing = make_listing(listing_type=ListingType.FIXED_PRICE)
    assert refusal_of(listing, "sniper", 2_000) is BidRefusal.NOT_AN_AUCTION


def test_refused_bids_are_recorded_alongside_accepted_ones() -> None:
    listing = make_listing()
    bid(listing, "rival1", 2_000)
    refusal_of(listing, "sniper", 1_000)
    assert [(b.bidder, b.accepted, b.refusal) for b in listing.bids] == [
        ("rival1", True, None),
        ("sniper", False, BidRefusal.TOO_LOW),
    ]
    assert auction.standing(listing).bid_count == 1


class TestReserve:
    def test_a_maximum_below_the_reserve_leaves_the_price_at_the_start(self) -> None:
        listing = make_listing(reserve_cents=5_000)
        bid(listing, "sniper", 4_000)
        current = auction.standing(listing)
        assert (current.price_cents, current.reserve_met) == (1_000, False)

    def test_a_maximum_reaching_the_reserve_raises_the_price_to_it(self) -> None:
        listing = make_listing(reserve_cents=5_000)
        bid(listing, "sniper", 6_000)
        current = auction.standing(listing)
        assert (current.price_cents, current.reserve_met) == (5_000, True)

    def test_leader_raising_to_the_reserve_moves_the_price_to_the_reserve(self) -> None:
        listing = make_listing(reserve_cents=5_000)
        bid(listing, "rival1", 2_000)
        bid(listing, "sniper", 3_000, at=START + 20)
        assert auction.standing(listing).price_cents == 2_050
        bid(listing, "sniper", 5_500, at=START + 30)
        assert auction.standing(listing).price_cents == 5_000

    def test_competition_above_the_reserve_prices_as_usual(self) -> None:
        listing = make_listing(reserve_cents=5_000)
        bid(listing, "rival1", 6_000)
        bid(listing, "sniper", 7_000, at=START + 20)
        assert auction.standing(listing).price_cents == 6_100

    def test_an_unmet_reserve_at_the_end_leaves_the_item_unsold(self) -> None:
        listing = make_listing(reserve_cents=5_000)
        bid(listing, "sniper", 4_000)
        result = auction.outcome(listing, END + 1)
        assert result == auction.Outcome(sold=False, winner=None, price_cents=None)

    def test_a_met_reserve_sells_to_the_leader(self) -> None:
        listing = make_listing(reserve_cents=5_000)
        bid(listing, "sniper", 6_000)
        assert auction.outcome(listing, END) is None
        assert auction.outcome(listing, END + 1) == auction.Outcome(
            True, "sniper", 5_000
        )

    def test_the_reserve_must_be_above_the_start_price(self) -> None:
        with pytest.raises(ValueError, match="reserve"):
            make_listing(reserve_cents=1_000)


class TestBuyItNow:
    def test_buy_it_now_disappears_after_the_first_bid(self) -> None:
        listing = make_listing(buy_it_now_cents=9_000)
        assert auction.buy_it_now_available(listing, START + 1)
        bid(listing, "rival1", 2_000)
        assert not auction.buy_it_now_available(listing, START + 11)

    def test_buy_it_now_stays_on_a_reserve_auction_until_the_reserve_is_met(
        self,
    ) -> None:
        listing = make_listing(reserve_cents=5_000, buy_it_now_cents=9_000)
        bid(listing, "rival1", 2_000)
        assert auction.buy_it_now_available(listing, START + 11)
        bid(listing, "sniper", 5_000, at=START + 20)
        assert not auction.buy_it_now_available(listing, START + 21)

    def test_a_maximum_above_a_shown_buy_it_now_price_is_refused(self) -> None:
        listing = make_listing(buy_it_now_cents=9_000)
        assert refusal_of(listing, "sniper", 9_001) is BidRefusal.ABOVE_BUY_IT_NOW
        bid(listing, "sniper", 9_000, at=START + 20)

    def test_once_buy_it_now_is_gone_a_maximum_may_exceed_it(self) -> None:
        listing = make_listing(buy_it_now_cents=9_000)
        bid(listing, "rival1", 2_000)
        bid(listing, "sniper", 20_000, at=START + 20)
        assert auction.standing(listing).leader == "sniper"

    def test_a_purchase_ends_the_auction_for_bidders(self) -> None:
        listing = make_listing(buy_it_now_cents=9_000)
        auction.buy_now(listing, "buyer1", START + 5)
        assert refusal_of(listing, "sniper", 2_000) is BidRefusal.ENDED_BY_BUY_IT_NOW
        assert auction.outcome(listing, START + 6) == auction.Outcome(
            True, "buyer1", 9_000
        )


def test_the_winner_pays_the_final_price() -> None:
    listing = make_listing()
    bid(listing, "rival1", 2_000)
    bid(listing, "sniper", 2_500, at=START + 20)
    assert auction.outcome(listing, END + 1) == auction.Outcome(True, "sniper", 2_050)


def test_an_auction_without_bids_ends_unsold() -> None:
    assert auction.outcome(make_listing(), END + 1) == auction.Outcome(
        False, None, None
    )
