"""Browse API items, validated against eBay's browse.yaml."""

from __future__ import annotations

from local.ebay_emulator import ManualClock

from .driver import EbayDriver
from .openapi_schemas import validate, validate_errors


def test_an_auction_reads_as_ebays_item(ebay: EbayDriver) -> None:
    listing = ebay.listing(
        title="Leica M6",
        seller="camera-shop",
        startPrice="400.00",
        endsInSeconds=3_600,
        imageUrl="https://i.ebayimg.com/leica.jpg",
        condition="Used",
    )
    ebay.rival_bid(listing["itemId"], "rival1", "450.00")
    ebay.rival_bid(listing["itemId"], "rival2", "500.00")

    response = ebay.browse_legacy(ebay.app_token(), listing["itemId"])

    assert response.status_code == 200
    item = response.json()
    validate(item, "browse", "Item")
    assert item["itemId"] == f"v1|{listing['itemId']}|0"
    assert item["legacyItemId"] == listing["itemId"]
    assert item["buyingOptions"] == ["AUCTION"]
    assert item["currentBidPrice"] == {"value": "455.00", "currency": "USD"}
    assert item["minimumPriceToBid"] == {"value": "460.00", "currency": "USD"}
    assert (item["bidCount"], item["uniqueBidderCount"]) == (2, 2)
    assert item["itemEndDate"] == "2026-01-01T01:00:00.000Z"
    assert item["image"] == {"imageUrl": "https://i.ebayimg.com/leica.jpg"}
    assert item["seller"]["username"] == "camera-shop"
    assert isinstance(item["seller"]["feedbackPercentage"], str)
    assert isinstance(item["seller"]["feedbackScore"], int)
    assert "reservePriceMet" not in item


def test_before_any_bid_the_minimum_is_the_start_price(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_234)

    item = ebay.browse_legacy(ebay.app_token(), listing["itemId"]).json()

    assert item["minimumPriceToBid"]["value"] == "12.34"
    assert item["bidCount"] == 0


def test_the_restful_id_reads_the_same_item(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.app_token()

    by_legacy = ebay.browse_legacy(token, listing["itemId"]).json()
    by_restful = ebay.browse_item(token, listing["restfulItemId"])

    assert by_restful.status_code == 200
    assert by_restful.json() == by_legacy


def test_a_reserve_auction_says_whether_the_reserve_is_met(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000, reserve=5_000)
    token = ebay.app_token()
    before = ebay.browse_legacy(token, listing["itemId"]).json()

    ebay.rival_bid(listing["itemId"], "rival1", 6_000)
    after = ebay.browse_legacy(token, listing["itemId"]).json()

    assert before["reservePriceMet"] is False
    assert after["reservePriceMet"] is True
    assert after["currentBidPrice"]["value"] == "50.00"


def test_buy_it_now_shows_as_a_buying_option_until_the_first_bid(
    ebay: EbayDriver,
) -> None:
    listing = ebay.listing(startPrice=1_000, buyItNow=4_000)
    token = ebay.app_token()
    before = ebay.browse_legacy(token, listing["itemId"]).json()

    ebay.rival_bid(listing["itemId"], "rival1", 1_500)
    after = ebay.browse_legacy(token, listing["itemId"]).json()

    assert before["buyingOptions"] == ["AUCTION", "FIXED_PRICE"]
    assert before["price"]["value"] == "40.00"
    assert after["buyingOptions"] == ["AUCTION"]
    assert after["price"]["value"] == "10.00"


def test_a_fixed_price_item_has_no_bidding_fields(ebay: EbayDriver) -> None:
    listing = ebay.listing(listingType="FIXED_PRICE", startPrice="15.99")

    item = ebay.browse_legacy(ebay.app_token(), listing["itemId"]).json()

    validate(item, "browse", "Item")
    assert item["buyingOptions"] == ["FIXED_PRICE"]
    assert item["price"] == {"value": "15.99", "currency": "USD"}
    assert not {"currentBidPrice", "minimumPriceToBid", "bidCount"} & set(item)


def test_an_unknown_legacy_id_is_404_with_error_11003(ebay: EbayDriver) -> None:
    response = ebay.browse_legacy(ebay.app_token(), "999999999999")

    assert response.status_code == 404
    body = response.json()
    validate_errors(body, "browse")
    error = body["errors"][0]
    assert (error["errorId"], error["domain"], error["category"]) == (
        11003,
        "API_BROWSE",
        "REQUEST",
    )
    assert error["parameters"] == [{"name": "legacyItemId", "value": "999999999999"}]


def test_an_unknown_restful_id_is_404_with_error_11001(ebay: EbayDriver) -> None:
    response = ebay.browse_item(ebay.app_token(), "v1|999999999999|0")

    assert response.status_code == 404
    validate_errors(response.json(), "browse")
    assert response.json()["errors"][0]["errorId"] == 11001


def test_an_ended_listing_is_gone_from_browse(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=60)
    token = ebay.app_token()
    clock.advance(60)
    assert ebay.browse_legacy(token, listing["itemId"]).status_code == 200

    clock.advance(1)

    assert ebay.browse_legacy(token, listing["itemId"]).status_code == 404


def test_browse_wants_a_token(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    url = "/buy/browse/v1/item/get_item_by_legacy_id"

    missing = ebay.http.get(url, params={"legacy_item_id": listing["itemId"]})
    unknown = ebay.browse_legacy("v^1.1#i^1#unknown", listing["itemId"])

    assert missing.status_code == 403
    assert unknown.status_code == 401
    validate_errors(unknown.json(), "browse")


def test_a_user_token_reads_items_too(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)

    assert (
        ebay.browse_legacy(ebay.user_token("buyer1"), listing["itemId"]).status_code
        == 200
    )


def test_the_item_web_url_shows_the_listing(ebay: EbayDriver) -> None:
    listing = ebay.listing(title="Hasselblad 500C", startPrice=1_000)
    item = ebay.browse_legacy(ebay.app_token(), listing["itemId"]).json()

    page = ebay.http.get(item["itemWebUrl"])

    assert page.status_code == 200
    assert "Hasselblad 500C" in page.text
