"""Buy Offer placeProxyBid and getBidding with the user token. Wire bodies:
tests/fixtures/ebay/offer_*.json (ebay-openapi/offer.yaml schemas and
x-response-codes)."""

from __future__ import annotations

import json
import time
from email.utils import formatdate

import httpx
import pytest
import respx
from ebay_test_support import USER_TOKEN, Wire

from sniper.ebay import (
    Bidding,
    BidRejection,
    EbayAuthError,
    EbayBidRejected,
    EbayClient,
    EbayConnectionError,
    EbayItemNotFound,
    EbayNoBiddingActivity,
    EbayRateLimited,
    EbayTimeout,
    EbayTransientError,
    ProxyBid,
)
from sniper.money import Money

ITEM_ID = "v1|110554436163|0"
BIDDING_URL = "https://api.ebay.com/buy/offer/v1_beta/bidding/v1%7C110554436163%7C0"
BID_URL = f"{BIDDING_URL}/place_proxy_bid"


def test_place_proxy_bid_sends_the_documented_request(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    route = respx_mock.post(BID_URL).respond(
        200, json=wire.json("offer_place_proxy_bid.json")
    )
    proxy_bid_id = client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(18000, "USD"))

    assert proxy_bid_id == "1534263812010"
    request = route.calls.last.request
    assert request.method == "POST"
    assert request.url.raw_path == (
        b"/buy/offer/v1_beta/bidding/v1%7C110554436163%7C0/place_proxy_bid"
    )
    assert request.headers["Authorization"] == f"Bearer {USER_TOKEN}"
    assert request.headers["X-EBAY-C-MARKETPLACE-ID"] == "EBAY_US"
    assert request.headers["Content-Type"] == "application/json"
    # The amount is a string with two decimals, never a JSON number.
    assert json.loads(request.content) == {
        "maxAmount": {"currency": "USD", "value": "180.00"}
    }


def test_adult_consent_is_sent_only_when_given(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    route = respx_mock.post(BID_URL).respond(
        200, json=wire.json("offer_place_proxy_bid.json")
    )
    client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(2500, "USD"), adult_consent=True)
    assert json.loads(route.calls.last.request.content) == {
        "maxAmount": {"currency": "USD", "value": "25.00"},
        "userConsent": {"adultOnlyItem": True},
    }


def test_a_bid_below_the_minimum_is_rejected_with_ebays_id(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.post(BID_URL).respond(409, json=wire.json("offer_error_120008.json"))
    with pytest.raises(EbayBidRejected) as caught:
        client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(15000, "USD"))
    error = caught.value
    assert error.error_id == 120008
    assert error.reason is BidRejection.BELOW_MINIMUM
    assert error.http_status == 409
    assert str(error) == "The bid amount is too low. (eBay error 120008, HTTP 409)"
    assert USER_TOKEN not in repr(error)


@pytest.mark.parametrize(
    ("status", "error_id", "reason"),
    [
        (409, 120012, BidRejection.AUCTION_ENDED),
        (409, 120002, BidRejection.AUCTION_ENDED),
        (409, 120003, BidRejection.OWN_ITEM),
        (409, 120010, BidRejection.CANNOT_LOWER),
        (409, 120005, BidRejection.ABOVE_BUY_IT_NOW),
        (409, 120025, BidRejection.NOT_ELIGIBLE),
        (409, 120032, BidRejection.ADULT_CONSENT_REQUIRED),
        (404, 120001, BidRejection.ITEM_NOT_FOUND),
        (400, 120013, BidRejection.INVALID_AMOUNT),
        (409, 120099, BidRejection.OTHER),
    ],
)
def test_every_offer_refusal_is_a_bid_rejection(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    status: int,
    error_id: int,
    reason: BidRejection,
) -> None:
    respx_mock.post(BID_URL).respond(
        status,
        json={
            "errors": [
                {
                    "errorId": error_id,
                    "domain": "API_OFFER",
                    "category": "BUSINESS",
                    "message": "refused",
                }
            ]
        },
    )
    with pytest.raises(EbayBidRejected) as caught:
        client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(20000, "USD"))
    assert caught.value.reason is reason


def test_ebays_internal_error_is_transient(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.post(BID_URL).respond(500, json=wire.json("offer_error_120000.json"))
    with pytest.raises(EbayTransientError) as caught:
        client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(18000, "USD"))
    assert caught.value.error_id == 120000
    assert not isinstance(caught.value, EbayBidRejected)


def test_too_many_requests_tells_when_to_come_back(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.post(BID_URL).respond(
        429,
        json=wire.json("rest_error_429_too_many_requests.json"),
        headers={"Retry-After": "2"},
    )
    with pytest.raises(EbayRateLimited) as caught:
        client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(18000, "USD"))
    assert caught.value.retry_after == 2
    assert caught.value.http_status == 429


def test_retry_after_may_be_an_http_date(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(BID_URL).respond(
        503, headers={"Retry-After": formatdate(time.time() + 30, usegmt=True)}
    )
    with pytest.raises(EbayTransientError) as caught:
        client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(18000, "USD"))
    assert caught.value.retry_after == pytest.approx(30, abs=1.5)


def test_an_expired_user_token_is_an_auth_error(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.post(BID_URL).respond(
        401, json=wire.json("rest_error_1001_invalid_token.json")
    )
    with pytest.raises(EbayAuthError):
        client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(18000, "USD"))


def test_a_read_timeout_may_have_placed_the_bid(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    route = respx_mock.post(BID_URL).mock(side_effect=httpx.ReadTimeout("timed out"))
    with pytest.raises(EbayTimeout) as caught:
        client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(18000, "USD"), timeout=1.5)
    assert caught.value.phase == "read"
    assert caught.value.may_have_reached_ebay
    assert route.calls.last.request.extensions["timeout"] == {
        "connect": 1.5,
        "read": 1.5,
        "write": 1.5,
        "pool": 1.5,
    }


def test_a_connect_timeout_never_reached_ebay(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(BID_URL).mock(side_effect=httpx.ConnectTimeout("timed out"))
    with pytest.raises(EbayTimeout) as caught:
        client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(18000, "USD"))
    assert not caught.value.may_have_reached_ebay


def test_a_refused_connection_is_transient(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(BID_URL).mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(EbayConnectionError):
        client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(18000, "USD"))


def test_a_zero_bid_is_refused_before_calling_ebay(client: EbayClient) -> None:
    with pytest.raises(ValueError, match="above zero"):
        client.place_proxy_bid(USER_TOKEN, ITEM_ID, Money(0, "USD"))


def test_get_bidding_after_the_end_reports_a_win(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    route = respx_mock.get(BIDDING_URL).respond(
        200, json=wire.json("offer_get_bidding_ended_won.json")
    )
    bidding = client.get_bidding(USER_TOKEN, ITEM_ID)

    request = route.calls.last.request
    assert request.url.raw_path == b"/buy/offer/v1_beta/bidding/v1%7C110554436163%7C0"
    assert request.headers["Authorization"] == f"Bearer {USER_TOKEN}"
    assert request.headers["X-EBAY-C-MARKETPLACE-ID"] == "EBAY_US"
    assert bidding == Bidding(
        item_id=ITEM_ID,
        auction_status="ENDED",
        auction_end_date=1_741_688_460,
        bid_count=9,
        current_price=Money(15750, "USD"),
        current_proxy_bid=ProxyBid(
            proxy_bid_id="1534263812010", max_amount=Money(18000, "USD")
        ),
        high_bidder=True,
        reserve_price_met=True,
    )
    assert bidding.is_ended and bidding.won


def test_get_bidding_while_active_is_not_yet_a_win(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.get(BIDDING_URL).respond(
        200, json=wire.json("offer_get_bidding_active.json")
    )
    bidding = client.get_bidding(USER_TOKEN, ITEM_ID)
    assert bidding.high_bidder and not bidding.won
    assert bidding.suggested_bid_amounts == (
        Money(18250, "USD"),
        Money(18500, "USD"),
        Money(19000, "USD"),
    )


@pytest.mark.parametrize(
    ("changes", "won"),
    [
        ({"highBidder": False}, False),  # outbid
        ({"reservePriceMet": False}, False),  # ended unsold
        ({"auctionStatus": "SOME_NEW_STATUS"}, False),  # unknown: not a win
    ],
)
def test_only_an_ended_lead_over_the_reserve_is_a_win(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    wire: Wire,
    changes: dict[str, object],
    won: bool,
) -> None:
    body = {**wire.json("offer_get_bidding_ended_won.json"), **changes}
    respx_mock.get(BIDDING_URL).respond(200, json=body)
    assert client.get_bidding(USER_TOKEN, ITEM_ID).won is won


def test_get_bidding_without_a_bid_of_ours(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.get(BIDDING_URL).respond(404, json=wire.json("offer_error_120033.json"))
    with pytest.raises(EbayNoBiddingActivity) as caught:
        client.get_bidding(USER_TOKEN, ITEM_ID)
    assert caught.value.error_id == 120033


def test_get_bidding_for_an_unknown_item(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(BIDDING_URL).respond(
        404,
        json={"errors": [{"errorId": 120001, "message": "The item ID was not found."}]},
    )
    with pytest.raises(EbayItemNotFound):
        client.get_bidding(USER_TOKEN, ITEM_ID)
