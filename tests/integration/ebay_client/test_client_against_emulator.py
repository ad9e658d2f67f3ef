"""The eBay client over real HTTP against the emulator: every call it makes.

The respx tests under tests/unit/ebay pin the client to eBay's documented wire
format; these pin it to the emulator, so `make dev` and the tests exercise the same
client code that talks to eBay.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from local.ebay_emulator import EmulatorServer
from sniper.ebay import (
    BidRejection,
    EbayAppCredentials,
    EbayAuthError,
    EbayBidRejected,
    EbayClient,
    EbayItemNotFound,
    EbayNoBiddingActivity,
    EbayRateLimited,
    EbaySettings,
    EbayTimeout,
    EbayTransientError,
)
from sniper.money import Money
from tests.support.ebay_world import APP, EbayWorld


@pytest.fixture
def world(ebay_emulator: EmulatorServer) -> Iterator[EbayWorld]:
    with httpx.Client(base_url=ebay_emulator.url, timeout=10) as http:
        http.post("/__admin/reset").raise_for_status()
        yield EbayWorld(url=ebay_emulator.url, http=http, key_arn="")


@pytest.fixture
def client(world: EbayWorld) -> EbayClient:
    settings = EbaySettings.from_env(
        {
            "EBAY_ENVIRONMENT": "sandbox",
            "EBAY_AUTH_BASE_URL": world.url,
            "EBAY_API_BASE_URL": world.url,
            "EBAY_IDENTITY_BASE_URL": world.url,
        }
    )
    credentials = EbayAppCredentials.model_validate(
        {
            "clientId": APP.client_id,
            "clientSecret": APP.client_secret,
            "ruName": APP.ru_name,
        }
    )
    return EbayClient(settings, credentials=lambda: credentials)


def user_token(client: EbayClient, world: EbayWorld, username: str) -> str:
    redirect = world.consent(client.consent_url("state-123"), username)
    tokens = client.exchange_code(redirect["code"])
    return tokens.access_token.get_secret_value()


def test_code_exchange_identity_and_refresh(
    client: EbayClient, world: EbayWorld
) -> None:
    url = client.consent_url("state-abc")
    assert parse_qs(urlsplit(url).query)["state"] == ["state-abc"]
    redirect = world.consent(url, "buyer-one")
    assert redirect["state"] == "state-abc"

    tokens = client.exchange_code(redirect["code"])
    user = client.get_user(tokens.access_token.get_secret_value())
    fresh = client.refresh_access_token(tokens.refresh_token.get_secret_value())

    now = time.time()
    assert 7000 < tokens.access_token_expires_at - now <= 7200
    assert tokens.refresh_token_expires_at - now > 47_000_000
    assert user.username == "buyer-one"
    assert user.user_id
    assert fresh.access_token != tokens.access_token
    assert client.get_user(fresh.access_token.get_secret_value()) == user
    with pytest.raises(EbayAuthError):
        client.exchange_code(redirect["code"])


def test_watch_list_all_pages_in_cents(client: EbayClient, world: EbayWorld) -> None:
    token = user_token(client, world, "watcher")
    ids = [world.listing(startPrice=1000 + i)["itemId"] for i in range(203)]
    for item_id in ids:
        world.watch("watcher", item_id)

    watched = client.get_watch_list(token)

    assert [item.item_id for item in watched] == ids
    first = watched[0]
    assert first.is_auction
    assert first.current_price == Money(1000, "USD")
    assert first.end_time is not None and first.end_time > time.time()


def test_browse_item_by_legacy_and_restful_id(
    client: EbayClient, world: EbayWorld
) -> None:
    listing = world.listing(title="Camera", startPrice="20.00")

    by_legacy = client.get_item_by_legacy_id(listing["itemId"])
    by_restful = client.get_item(by_legacy.item_id)

    assert by_legacy.item_id == f"v1|{listing['itemId']}|0"
    assert by_legacy.title == "Camera"
    assert by_legacy.is_auction
    assert by_legacy.minimum_price_to_bid == Money(2000, "USD")
    assert by_restful == by_legacy
    with pytest.raises(EbayItemNotFound):
        client.get_item_by_legacy_id("119999999999")


def test_proxy_bid_wins_at_second_price_plus_increment(
    client: EbayClient, world: EbayWorld
) -> None:
    token = user_token(client, world, "sniper")
    listing = world.listing(startPrice="10.00")
    world.admin(
        "POST",
        f"/listings/{listing['itemId']}/bids",
        json={"bidder": "rival", "maxAmount": 2000},
    )
    item_id = f"v1|{listing['itemId']}|0"

    proxy_bid_id = client.place_proxy_bid(token, item_id, Money(2500, "USD"))
    standing = client.get_bidding(token, item_id)

    assert proxy_bid_id
    assert standing.high_bidder is True
    assert standing.current_price == Money(2050, "USD")
    assert standing.current_proxy_bid is not None
    assert standing.current_proxy_bid.max_amount == Money(2500, "USD")
    assert not standing.is_ended


def test_bid_below_minimum_is_rejected_with_ebays_id(
    client: EbayClient, world: EbayWorld
) -> None:
    token = user_token(client, world, "sniper")
    listing = world.listing(startPrice="10.00")

    with pytest.raises(EbayBidRejected) as rejected:
        client.place_proxy_bid(token, f"v1|{listing['itemId']}|0", Money(500, "USD"))

    assert rejected.value.error_id == 120008
    assert rejected.value.reason is BidRejection.BELOW_MINIMUM


def test_bidding_before_any_bid_is_no_activity(
    client: EbayClient, world: EbayWorld
) -> None:
    token = user_token(client, world, "sniper")
    listing = world.listing()

    with pytest.raises(EbayNoBiddingActivity):
        client.get_bidding(token, f"v1|{listing['itemId']}|0")


def test_rate_limit_and_server_errors_are_transient(
    client: EbayClient, world: EbayWorld
) -> None:
    listing = world.listing()
    client.get_item_by_legacy_id(listing["itemId"])  # app token fetched
    world.fault(kind="rate_limit", pathPrefix="/buy/browse", retryAfter=7, count=1)
    world.fault(kind="status", status=503, pathPrefix="/buy/browse", count=1)

    with pytest.raises(EbayRateLimited) as limited:
        client.get_item_by_legacy_id(listing["itemId"])
    with pytest.raises(EbayTransientError) as unavailable:
        client.get_item_by_legacy_id(listing["itemId"])

    assert limited.value.retry_after == 7
    assert unavailable.value.http_status == 503
    assert client.get_item_by_legacy_id(listing["itemId"]).title


def test_a_hung_ebay_times_out_at_the_callers_deadline(
    client: EbayClient, world: EbayWorld
) -> None:
    listing = world.listing()
    client.get_item_by_legacy_id(listing["itemId"])
    world.fault(kind="timeout", pathPrefix="/buy/browse", count=1, holdSeconds=5)

    started = time.monotonic()
    with pytest.raises(EbayTimeout):
        client.get_item_by_legacy_id(listing["itemId"], timeout=0.5)

    assert time.monotonic() - started < 3
