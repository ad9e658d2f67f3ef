"""Buy Offer API bidding, validated against eBay's offer.yaml."""

from __future__ import annotations

from typing import Any

import pytest

from local.ebay_emulator import ManualClock

from .driver import EbayDriver, path_id
from .openapi_schemas import validate, validate_errors


def offer_error(response: Any, status: int) -> int:
    assert response.status_code == status, response.text
    body = response.json()
    validate_errors(body, "offer")
    error = body["errors"][0]
    assert error["domain"] == "API_OFFER"
    error_id: int = error["errorId"]
    return error_id


def test_our_25_against_a_rival_20_leads_at_20_50(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    ebay.rival_bid(listing["itemId"], "rival1", 2_000)
    token = ebay.user_token("sniper")

    placed = ebay.bid(token, listing["restfulItemId"], "25.00")

    assert placed.status_code == 200
    validate(placed.json(), "offer", "PlaceProxyBidResponse")
    bidding = ebay.bidding(token, listing["restfulItemId"])
    assert bidding.status_code == 200
    body = bidding.json()
    validate(body, "offer", "Bidding")
    assert body["highBidder"] is True
    assert body["auctionStatus"] == "ACTIVE"
    assert body["currentPrice"] == {"value": "20.50", "currency": "USD"}
    assert body["currentProxyBid"] == {
        "maxAmount": {"value": "25.00", "currency": "USD"},
        "proxyBidId": placed.json()["proxyBidId"],
    }
    assert body["itemId"] == listing["restfulItemId"]
    assert body["bidCount"] == 2
    assert body["suggestedBidAmounts"][0] == {"value": "21.00", "currency": "USD"}


def test_we_win_at_20_50_when_the_auction_ends(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=600)
    ebay.rival_bid(listing["itemId"], "rival1", 2_000)
    token = ebay.user_token("sniper")
    ebay.bid(token, listing["restfulItemId"], "25.00")

    clock.advance(601)

    body = ebay.bidding(token, listing["restfulItemId"]).json()
    validate(body, "offer", "Bidding")
    assert (body["auctionStatus"], body["highBidder"]) == ("ENDED", True)
    assert body["currentPrice"]["value"] == "20.50"
    outcome = ebay.read_listing(listing["itemId"])["outcome"]
    assert outcome == {"sold": True, "winner": "sniper", "price": "20.50"}


def test_an_equal_later_max_leaves_the_rival_leading_at_20(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    ebay.rival_bid(listing["itemId"], "rival1", 2_000)
    token = ebay.user_token("sniper")

    assert ebay.bid(token, listing["restfulItemId"], "20.00").status_code == 200

    body = ebay.bidding(token, listing["restfulItemId"]).json()
    assert body["highBidder"] is False
    assert body["currentPrice"]["value"] == "20.00"
    assert ebay.read_listing(listing["itemId"])["leader"] == "rival1"


def test_a_bid_below_the_minimum_is_409_with_120008(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    ebay.rival_bid(listing["itemId"], "rival1", 2_000)

    response = ebay.bid(ebay.user_token("sniper"), listing["restfulItemId"], "10.49")

    assert offer_error(response, 409) == 120008
    assert response.json()["errors"][0]["category"] == "BUSINESS"


def test_a_bid_at_the_end_instant_counts_and_one_after_does_not(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=600)
    token = ebay.user_token("sniper")
    rival = ebay.user_token("rival1")
    clock.advance(600)

    at_end = ebay.bid(token, listing["restfulItemId"], "15.00")
    clock.advance(0.001)
    after_end = ebay.bid(rival, listing["restfulItemId"], "30.00")

    assert at_end.status_code == 200
    assert offer_error(after_end, 409) == 120012
    assert ebay.read_listing(listing["itemId"])["leader"] == "sniper"


def test_a_seller_cannot_bid_on_their_own_item(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000, seller="seller1")

    response = ebay.bid(ebay.user_token("seller1"), listing["restfulItemId"], "15.00")

    assert offer_error(response, 409) == 120003


def test_a_bidder_cannot_lower_their_maximum(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.user_token("sniper")
    ebay.bid(token, listing["restfulItemId"], "30.00")

    assert (
        offer_error(ebay.bid(token, listing["restfulItemId"], "25.00"), 409) == 120010
    )


def test_the_bid_currency_must_match_the_item(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.user_token("sniper")

    response = ebay.bid(token, listing["restfulItemId"], "15.00", currency="EUR")

    assert offer_error(response, 409) == 120009


def test_a_bid_above_a_shown_buy_it_now_price_is_refused(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000, buyItNow=4_000)

    response = ebay.bid(ebay.user_token("sniper"), listing["restfulItemId"], "40.01")

    assert offer_error(response, 409) == 120005


def test_bidding_after_a_buy_it_now_purchase_is_refused(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000, buyItNow=4_000)
    ebay.admin(
        "POST", f"/listings/{listing['itemId']}/purchase", json={"buyer": "buyer9"}
    )

    response = ebay.bid(ebay.user_token("sniper"), listing["restfulItemId"], "15.00")

    assert offer_error(response, 409) == 120002


@pytest.mark.parametrize("restful_id", ["v1|999999999999|0", "999999999999"])
def test_an_unknown_item_is_404_with_120001(ebay: EbayDriver, restful_id: str) -> None:
    response = ebay.bid(ebay.user_token("sniper"), restful_id, "15.00")

    assert offer_error(response, 404) == 120001


def test_a_legacy_id_is_not_accepted_by_the_offer_api(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)

    response = ebay.bid(ebay.user_token("sniper"), listing["itemId"], "15.00")

    assert offer_error(response, 404) == 120001


def test_a_fixed_price_item_cannot_be_bid_on(ebay: EbayDriver) -> None:
    listing = ebay.listing(listingType="FIXED_PRICE", startPrice=1_000)

    response = ebay.bid(ebay.user_token("sniper"), listing["restfulItemId"], "15.00")

    assert offer_error(response, 404) == 120001


def test_bidding_status_needs_a_bid_of_ours_first(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    ebay.rival_bid(listing["itemId"], "rival1", 2_000)

    response = ebay.bidding(ebay.user_token("sniper"), listing["restfulItemId"])

    assert offer_error(response, 404) == 120033


def test_the_marketplace_header_is_required(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.user_token("sniper")

    response = ebay.http.post(
        f"/buy/offer/v1_beta/bidding/{path_id(listing['restfulItemId'])}/place_proxy_bid",
        json={"maxAmount": {"currency": "USD", "value": "15.00"}},
        headers={"Authorization": f"Bearer {token}"},
    )

    assert offer_error(response, 400) == 120015


def test_the_body_must_be_json(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    headers = ebay.offer_headers(ebay.user_token("sniper"))

    response = ebay.http.post(
        f"/buy/offer/v1_beta/bidding/{path_id(listing['restfulItemId'])}/place_proxy_bid",
        content=b"maxAmount=15",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )

    assert response.status_code == 415


@pytest.mark.parametrize(
    ("body", "error_id"),
    [
        ({}, 120016),
        ({"maxAmount": {"currency": "USD", "value": "abc"}}, 120013),
        ({"maxAmount": {"currency": "USD", "value": "12.345"}}, 120013),
        ({"maxAmount": {"currency": "usd", "value": "12.00"}}, 120014),
    ],
)
def test_a_malformed_max_amount_is_400(
    ebay: EbayDriver, body: dict[str, Any], error_id: int
) -> None:
    listing = ebay.listing(startPrice=1_000)

    response = ebay.http.post(
        f"/buy/offer/v1_beta/bidding/{path_id(listing['restfulItemId'])}/place_proxy_bid",
        json=body,
        headers=ebay.offer_headers(ebay.user_token("sniper")),
    )

    assert offer_error(response, 400) == error_id


def test_an_unmet_reserve_at_the_end_means_we_did_not_win(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000, reserve=5_000, endsInSeconds=600)
    token = ebay.user_token("sniper")
    ebay.bid(token, listing["restfulItemId"], "40.00")
    active = ebay.bidding(token, listing["restfulItemId"]).json()

    clock.advance(601)

    ended = ebay.bidding(token, listing["restfulItemId"]).json()
    validate(ended, "offer", "Bidding")
    assert (active["highBidder"], active["reservePriceMet"]) == (True, False)
    assert (ended["auctionStatus"], ended["highBidder"]) == ("ENDED", False)
    assert ended["reservePriceMet"] is False
    assert ebay.read_listing(listing["itemId"])["outcome"]["sold"] is False


def test_an_outbid_sniper_sees_it_lost(ebay: EbayDriver, clock: ManualClock) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=600)
    token = ebay.user_token("sniper")
    ebay.bid(token, listing["restfulItemId"], "25.00")
    ebay.rival_bid(listing["itemId"], "rival1", 3_000)

    clock.advance(601)

    body = ebay.bidding(token, listing["restfulItemId"]).json()
    assert (body["auctionStatus"], body["highBidder"]) == ("ENDED", False)
    assert body["currentPrice"]["value"] == "26.00"
