"""Browse getItemByLegacyId / getItem with the application token. Wire bodies:
tests/fixtures/ebay/browse_*.json (ebay-openapi/browse.yaml Item and errors)."""

from __future__ import annotations

import httpx
import pytest
import respx
from ebay_test_support import Wire

from sniper.ebay import (
    EbayClient,
    EbayItemNotFound,
    EbayPermanentError,
    EbayRateLimited,
    ItemDetails,
    Seller,
)
from sniper.money import Money

TOKEN_URL = "https://api.ebay.com/identity/v1/oauth2/token"
LEGACY_URL = "https://api.ebay.com/buy/browse/v1/item/get_item_by_legacy_id"
APP_TOKEN = "v^1.1#i^1#p^1#r^0#I^3#f^0#t^APP-TOKEN"


@pytest.fixture
def app_token(respx_mock: respx.MockRouter) -> respx.Route:
    return respx_mock.post(TOKEN_URL).respond(
        200, json={"access_token": APP_TOKEN, "expires_in": 7200}
    )


def test_item_by_legacy_id_reads_the_auction_in_cents_and_unix_seconds(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire, app_token: object
) -> None:
    route = respx_mock.get(LEGACY_URL).respond(
        200, json=wire.json("browse_item_auction.json")
    )
    item = client.get_item_by_legacy_id("110554436163")

    request = route.calls.last.request
    assert request.url.params["legacy_item_id"] == "110554436163"
    assert request.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    assert request.headers["X-EBAY-C-MARKETPLACE-ID"] == "EBAY_US"
    assert item == ItemDetails(
        item_id="v1|110554436163|0",
        legacy_item_id="110554436163",
        title="Vintage Omega Seamaster Automatic Men's Watch Cal. 552, 1960s",
        buying_options=("AUCTION",),
        current_bid_price=Money(15250, "USD"),
        minimum_price_to_bid=Money(15500, "USD"),
        bid_count=7,
        unique_bidder_count=4,
        reserve_price_met=True,
        item_end_date=1_741_688_460,
        price=Money(15250, "USD"),
        image_url="https://i.ebayimg.com/images/g/3kAAAOSw0jdnxYz1/s-l1600.jpg",
        condition="Pre-owned",
        seller=Seller(
            username="vintage_time_pieces",
            feedback_percentage="99.8",
            feedback_score=4521,
        ),
        item_web_url="https://www.ebay.com/itm/110554436163",
        adult_only=False,
        marketplace_id="EBAY_US",
    )
    assert item.is_auction


def test_unknown_enum_values_and_fields_do_not_break_parsing(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire, app_token: object
) -> None:
    body = wire.json("browse_item_auction.json")
    body["buyingOptions"] = ["FIXED_PRICE", "SOME_FUTURE_OPTION"]
    body["condition"] = "Brand New In A Way eBay Invents Tomorrow"
    body["brandNewField"] = {"nested": [1, 2, 3]}
    for auction_only in ("currentBidPrice", "minimumPriceToBid", "bidCount"):
        del body[auction_only]
    respx_mock.get(LEGACY_URL).respond(200, json=body)

    item = client.get_item_by_legacy_id("110554436163")
    assert item.buying_options == ("FIXED_PRICE", "SOME_FUTURE_OPTION")
    assert not item.is_auction
    assert item.bid_count == 0 and item.minimum_price_to_bid is None


def test_amounts_written_as_json_numbers_are_read_exactly(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire, app_token: object
) -> None:
    raw = wire.bytes("browse_item_auction.json").replace(
        b'"value": "155.00"', b'"value": 155.1'
    )
    assert b'"value": 155.1' in raw
    respx_mock.get(LEGACY_URL).respond(
        200, content=raw, headers={"Content-Type": "application/json"}
    )
    assert client.get_item_by_legacy_id("110554436163").minimum_price_to_bid == (
        Money(15510, "USD")
    )


@pytest.mark.parametrize("status", [404, 400])
def test_a_vanished_item_is_item_not_found(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    wire: Wire,
    app_token: object,
    status: int,
) -> None:
    respx_mock.get(LEGACY_URL).respond(
        status, json=wire.json("browse_error_11003.json")
    )
    with pytest.raises(EbayItemNotFound) as caught:
        client.get_item_by_legacy_id("110554436163")
    assert caught.value.error_id == 11003
    assert caught.value.http_status == status
    assert "legacy item ID was not found" in str(caught.value)
    assert APP_TOKEN not in repr(caught.value)


def test_get_item_by_restful_id_encodes_the_pipes(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire, app_token: object
) -> None:
    route = respx_mock.get(
        "https://api.ebay.com/buy/browse/v1/item/v1%7C110554436163%7C0"
    ).respond(200, json=wire.json("browse_item_auction.json"))
    assert client.get_item("v1|110554436163|0").legacy_item_id == "110554436163"
    assert route.calls.last.request.url.raw_path == (
        b"/buy/browse/v1/item/v1%7C110554436163%7C0"
    )


def test_application_token_is_fetched_once_for_many_items(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire, app_token: respx.Route
) -> None:
    respx_mock.get(LEGACY_URL).respond(200, json=wire.json("browse_item_auction.json"))
    for _ in range(3):
        client.get_item_by_legacy_id("110554436163")
    assert app_token.call_count == 1


def test_a_refused_application_token_is_renewed_once(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    tokens = respx_mock.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "revoked", "expires_in": 7200}),
            httpx.Response(200, json={"access_token": "fresh", "expires_in": 7200}),
        ]
    )
    items = respx_mock.get(LEGACY_URL).mock(
        side_effect=[
            httpx.Response(401, json=wire.json("rest_error_1001_invalid_token.json")),
            httpx.Response(200, json=wire.json("browse_item_auction.json")),
        ]
    )
    assert client.get_item_by_legacy_id("110554436163").bid_count == 7
    assert tokens.call_count == 2
    assert items.calls.last.request.headers["Authorization"] == "Bearer fresh"


def test_browse_rate_limit_carries_retry_after(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire, app_token: object
) -> None:
    respx_mock.get(LEGACY_URL).respond(
        429,
        json=wire.json("rest_error_429_too_many_requests.json"),
        headers={"Retry-After": "12"},
    )
    with pytest.raises(EbayRateLimited) as caught:
        client.get_item_by_legacy_id("110554436163")
    assert caught.value.retry_after == 12
    assert caught.value.error_id == 2001


def test_a_legacy_id_must_be_numeric(client: EbayClient) -> None:
    with pytest.raises(ValueError, match="numeric"):
        client.get_item_by_legacy_id("v1|110554436163|0")


def test_an_answer_that_is_not_json_is_a_permanent_error(
    client: EbayClient, respx_mock: respx.MockRouter, app_token: object
) -> None:
    respx_mock.get(LEGACY_URL).respond(200, text="<html>maintenance</html>")
    with pytest.raises(EbayPermanentError, match="not a JSON object"):
        client.get_item_by_legacy_id("110554436163")
