"""Wishlist Sync through real API Gateway events, the emulator playing eBay."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import MockedAws
from tests.support.ebay_world import EbayWorld
from tests.support.handlers import (
    ALICE,
    BOB,
    Invoker,
    as_user,
    body_of,
    sample_event,
    with_body,
    without_claims,
)


@pytest.fixture
def invoke(ebay: EbayWorld) -> Invoker:
    return Invoker("wishlist_sync")


@pytest.fixture
def linked(ebay: EbayWorld) -> str:
    """Alice has linked eBay account `ebay-alice` through the OAuth function."""
    oauth = Invoker("ebay_oauth")
    started = body_of(
        oauth(as_user(sample_event("ebay_oauth/auth_url_get.json"), ALICE))
    )
    redirect = ebay.consent(started["authUrl"], "ebay-alice")
    response = oauth(
        with_body(
            as_user(sample_event("ebay_oauth/callback_post.json"), ALICE), redirect
        )
    )
    assert response["statusCode"] == 200, response["body"]
    return "ebay-alice"


def items_event(user: str = ALICE, auctions_only: bool | None = None) -> Any:
    event = as_user(sample_event("wishlist_sync/items_get.json"), user)
    if auctions_only is None:
        event["queryStringParameters"] = None
        event["multiValueQueryStringParameters"] = None
    else:
        value = "true" if auctions_only else "false"
        event["queryStringParameters"] = {"auctionsOnly": value}
        event["multiValueQueryStringParameters"] = {"auctionsOnly": [value]}
    return event


def item_event(item_id: str, user: str = ALICE) -> Any:
    event = as_user(sample_event("wishlist_sync/item_get.json"), user)
    event["path"] = f"/wishlist/items/{item_id}"
    event["pathParameters"] = {"itemId": item_id}
    return event


def test_the_watch_list_with_prices_in_cents_and_auctions_flagged(
    invoke: Invoker, ebay: EbayWorld, linked: str
) -> None:
    auction = ebay.listing(title="Leica M6", startPrice="120.50", endsInSeconds=7200)
    fixed = ebay.listing(title="Lens cap", listingType="FIXED_PRICE", startPrice="9.99")
    ended = ebay.listing(title="Old auction", startPrice=500, endsInSeconds=0.2)
    time.sleep(0.3)
    for listing in (auction, fixed, ended):
        ebay.watch(linked, listing["itemId"])

    response = invoke(items_event())

    assert response["statusCode"] == 200, response["body"]
    body = body_of(response)
    by_id = {item["ebayItemId"]: item for item in body["items"]}
    assert body["totalItems"] == 3
    leica = by_id[auction["itemId"]]
    assert leica["title"] == "Leica M6"
    assert leica["currentPrice"] == 12050
    assert leica["currency"] == "USD"
    assert leica["isAuctionActive"] is True
    assert leica["listingType"] == "AUCTION"
    assert leica["endTime"] > body["lastSyncAt"] + 7000
    assert by_id[fixed["itemId"]]["isAuctionActive"] is False
    assert by_id[fixed["itemId"]]["currentPrice"] == 999
    assert by_id[ended["itemId"]]["isAuctionActive"] is False


def test_auctions_only_keeps_running_auctions(
    invoke: Invoker, ebay: EbayWorld, linked: str
) -> None:
    auction = ebay.listing(startPrice=1000)
    fixed = ebay.listing(listingType="FIXED_PRICE", startPrice=1000)
    ebay.watch(linked, auction["itemId"])
    ebay.watch(linked, fixed["itemId"])

    body = body_of(invoke(items_event(auctions_only=True)))

    assert [item["ebayItemId"] for item in body["items"]] == [auction["itemId"]]
    assert body["totalItems"] == 1


def test_every_page_of_a_long_watch_list_is_read(
    invoke: Invoker, ebay: EbayWorld, linked: str
) -> None:
    ids = [ebay.listing(startPrice=100 + i)["itemId"] for i in range(205)]
    for item_id in ids:
        ebay.watch(linked, item_id)

    body = body_of(invoke(items_event()))

    assert sorted(item["ebayItemId"] for item in body["items"]) == sorted(ids)


def test_an_empty_watch_list(invoke: Invoker, linked: str) -> None:
    body = body_of(invoke(items_event()))

    assert body["items"] == []
    assert body["totalItems"] == 0


def test_without_a_linked_account_it_is_401(invoke: Invoker, ebay: EbayWorld) -> None:
    for event in (items_event(BOB), item_event("110000000001", BOB)):
        response = invoke(event)

        assert response["statusCode"] == 401
        assert "link your eBay account" in body_of(response)["message"]


def test_an_expired_access_token_is_refreshed_and_stored(
    invoke: Invoker, ebay: EbayWorld, linked: str, mocked_aws: MockedAws
) -> None:
    users = mocked_aws.table("UsersTable")
    key = {"userId": ALICE, "sk": "EBAY_LINK"}
    before = users.get_item(Key=key)["Item"]
    users.update_item(
        Key=key,
        UpdateExpression="SET accessTokenExpiresAt = :past",
        ExpressionAttributeValues={":past": 1_000_000},
    )

    response = invoke(items_event())

    assert response["statusCode"] == 200
    after = users.get_item(Key=key)["Item"]
    assert after["accessToken"] != before["accessToken"]
    assert after["accessTokenExpiresAt"] > 1_000_000
    assert after["refreshToken"] == before["refreshToken"]


def test_a_token_ebay_expired_early_is_refreshed_once(
    invoke: Invoker, ebay: EbayWorld, linked: str
) -> None:
    ebay.admin("POST", "/clock", json={"advanceSeconds": 7300})

    response = invoke(items_event())

    assert response["statusCode"] == 200, response["body"]


def test_ebay_rate_limit_is_503_with_retry_after(
    invoke: Invoker, ebay: EbayWorld, linked: str
) -> None:
    ebay.fault(kind="rate_limit", pathPrefix="/ws/api.dll", retryAfter=30, count=10)

    response = invoke(items_event())

    assert response["statusCode"] == 503
    headers = response.get("multiValueHeaders") or {}
    assert headers.get("Retry-After") == ["30"]
    assert body_of(response)["code"] == "EBAY_RATE_LIMITED"
    assert "try again in 30 seconds" in body_of(response)["message"]


def test_ebay_failure_is_502_never_500(
    invoke: Invoker, ebay: EbayWorld, linked: str
) -> None:
    ebay.fault(kind="status", status=500, pathPrefix="/ws/api.dll", count=10)

    response = invoke(items_event())

    assert response["statusCode"] == 502
    assert body_of(response)["code"] == "EBAY_UNAVAILABLE"
    assert body_of(response)["message"] == (
        "eBay answered with an error (500); try again in a moment."
    )


def test_item_details_from_the_browse_api(
    invoke: Invoker, ebay: EbayWorld, linked: str
) -> None:
    listing = ebay.listing(
        title="Rolex", startPrice="2000.00", reserve="3000.00", condition="New"
    )
    ebay.admin(
        "POST",
        f"/listings/{listing['itemId']}/bids",
        json={"bidder": "rival1", "maxAmount": "2100.00"},
    )

    response = invoke(item_event(listing["itemId"]))

    assert response["statusCode"] == 200, response["body"]
    item = body_of(response)
    assert item["ebayItemId"] == listing["itemId"]
    assert item["ebayRestfulItemId"] == f"v1|{listing['itemId']}|0"
    assert item["currentPrice"] == 200000
    assert item["minimumBidAmount"] == 202500
    assert item["bidCount"] == 1
    assert item["reservePriceMet"] is False
    assert item["condition"] == "New"
    assert item["isAuctionActive"] is True


def test_unknown_item_is_404(invoke: Invoker, ebay: EbayWorld, linked: str) -> None:
    response = invoke(item_event("119999999999"))

    assert response["statusCode"] == 404


@pytest.mark.parametrize("item_id", ["abc", "12", "v1|123456789|0", "1" * 25])
def test_malformed_item_id_is_400(
    invoke: Invoker, ebay: EbayWorld, linked: str, item_id: str
) -> None:
    response = invoke(item_event(item_id))

    assert response["statusCode"] == 400
    assert "itemId" in body_of(response)["message"]


def test_bad_auctions_only_value_is_400(invoke: Invoker, ebay: EbayWorld) -> None:
    event = items_event()
    event["queryStringParameters"] = {"auctionsOnly": "maybe"}
    event["multiValueQueryStringParameters"] = {"auctionsOnly": ["maybe"]}

    response = invoke(event)

    assert response["statusCode"] == 400
    assert "auctionsOnly" in body_of(response)["message"]


def test_routes_need_a_caller(invoke: Invoker, ebay: EbayWorld) -> None:
    for name in ("items_get", "item_get"):
        response = invoke(without_claims(sample_event(f"wishlist_sync/{name}.json")))

        assert response["statusCode"] == 401


def test_a_refresh_token_ebay_refuses_asks_for_a_relink_until_relinked(
    invoke: Invoker, ebay: EbayWorld, linked: str
) -> None:
    oauth = Invoker("ebay_oauth")
    status_event = as_user(sample_event("ebay_oauth/status_get.json"), ALICE)
    ebay.admin("POST", "/clock", json={"advanceSeconds": 47_304_000 + 60})

    response = invoke(items_event())

    assert response["statusCode"] == 401
    assert body_of(response)["code"] == "EBAY_RELINK_REQUIRED"
    assert body_of(oauth(status_event))["needsRelink"] is True
    started = body_of(
        oauth(as_user(sample_event("ebay_oauth/auth_url_get.json"), ALICE))
    )
    redirect = ebay.consent(started["authUrl"], linked)
    oauth(
        with_body(
            as_user(sample_event("ebay_oauth/callback_post.json"), ALICE), redirect
        )
    )
    assert body_of(oauth(status_event))["needsRelink"] is False
    assert invoke(items_event())["statusCode"] == 200
