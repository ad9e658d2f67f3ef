"""How many DynamoDB and eBay calls each API route, and the executor's snipe, make.

Every route through its handler as Lambda invokes it (moto for AWS, the eBay
emulator over HTTP), in a warm container (the eBay app token already cached).
DynamoDB calls are counted with botocore's event system: a `before-call.dynamodb`
handler on boto3's default session, which every client the functions create
copies (the containers are reset after it is registered). eBay calls are counted
with a request hook on the functions' one httpx client. `EXPECTED` pins both
exactly: a change that adds a call fails here, naming the route.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
import pytest

from local.ebay_emulator import EmulatorServer
from sniper import composition, composition_bids, composition_snipe
from sniper.ebay import http as ebay_http
from tests.conftest import reset_containers
from tests.integration.bid_executor.conftest import LEAD, Sniping, sniping
from tests.integration.ebay_oauth.test_account_deletion import (
    challenge_event,
    notice_event,
)
from tests.support.bids import cursor_secret
from tests.support.ebay_world import EbayWorld
from tests.support.handlers import (
    ALICE,
    Invoker,
    as_user,
    body_of,
    sample_event,
    with_body,
)
from tests.support.snipes import link_ebay, scheduling

__all__ = ["sniping"]  # the executor's fixture, used below

# route: (DynamoDB calls, eBay calls)
EXPECTED: dict[str, tuple[int, int]] = {
    # User Management
    "GET /health": (0, 0),
    "GET /users/profile, first sight": (2, 0),  # GetItem; TransactWriteItems
    "GET /users/profile": (1, 0),
    "PUT /users/preferences": (1, 0),  # UpdateItem, ALL_NEW
    "PUT /users/preferences, first sight": (4, 0),
    "PUT /users/profile, preferences": (2, 0),
    "PUT /users/profile, new verified email": (4, 0),
    "DELETE /users/account, no bids, no eBay link": (9, 0),
    # eBay OAuth
    "GET /ebay/auth/url": (1, 0),  # PutItem: the state
    "POST /ebay/auth/callback": (3, 2),  # exchange the code, who the user is
    "GET /ebay/auth/status": (1, 0),
    "GET /ebay/notifications/account-deletion": (0, 0),
    "DELETE /ebay/auth/unlink": (4, 0),
    "POST /ebay/notifications/account-deletion": (5, 1),  # eBay's public key
    # Wishlist Sync
    "GET /wishlist/items": (1, 1),
    "GET /wishlist/items/{itemId}": (1, 1),
    # Bid Management
    "POST /bids": (3, 1),
    "GET /bids": (1, 0),
    "GET /bids/{bidId}": (1, 0),
    "PUT /bids/{bidId}": (3, 1),
    "DELETE /bids/{bidId}": (3, 0),
    # Bid History
    "GET /bid-history": (1, 0),
    "GET /bid-history/{bidId}": (1, 0),
    # Bid Executor: idempotency (Put, Update), claim, token, two heartbeats (each
    # an UpdateItem answering the bid: the wait's re-reads), commit,
    # placed, WON; eBay: Browse, last look, the bid. Then 1 or 2 getBidding
    # polls (asserted apart): the first goes out at the end by eBay's clock as
    # the executor estimates it from whole-second Date headers.
    "snipe, WON": (13, 3),
}


@dataclass
class Calls:
    """The calls since the last `clear()`: DynamoDB operations, eBay requests."""

    dynamodb: list[str] = field(default_factory=list)
    ebay: list[str] = field(default_factory=list)

    def clear(self) -> None:
        self.dynamodb.clear()
        self.ebay.clear()

    def counts(self) -> tuple[int, int]:
        return len(self.dynamodb), len(self.ebay)


@dataclass
class Measured:
    calls: Calls
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    seen: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)

    def __call__(
        self, route: str, invoke: Invoker, event: dict[str, Any], status: int
    ) -> dict[str, Any]:
        """Invoke once, record the route's counts, check the answer's status."""
        self.calls.clear()
        response = invoke(event)
        self.record(route)
        assert response["statusCode"] == status, (route, response.get("body"))
        return response

    def record(self, route: str) -> None:
        self.counts[route] = self.calls.counts()
        self.seen[route] = (list(self.calls.dynamodb), list(self.calls.ebay))

    def check(self) -> None:
        expected = {route: EXPECTED[route] for route in self.counts}
        assert self.counts == expected, self.seen


@pytest.fixture
def measured(
    mocked_aws: Any, ebay: EbayWorld, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Measured]:
    calls = Calls()

    def on_dynamodb(model: Any, **_: Any) -> None:
        calls.dynamodb.append(model.name)

    def on_ebay(request: httpx.Request) -> None:
        calls.ebay.append(f"{request.method} {request.url.path}")

    events = boto3._get_default_session().events
    events.register("before-call.dynamodb", on_dynamodb, unique_id="call-counts")
    client = httpx.Client(
        timeout=ebay_http.default_timeout(),
        headers={"User-Agent": ebay_http.user_agent()},
        event_hooks={"request": [on_ebay]},
    )
    monkeypatch.setattr(ebay_http, "_shared_client", client)
    reset_containers()  # every client from here on copies the handler
    composition.ebay_client().application_token()  # a warm container's token
    try:
        yield Measured(calls)
    finally:
        events.unregister("before-call.dynamodb", unique_id="call-counts")
        client.close()


def event(name: str, user: str = ALICE, email: str | None = None) -> dict[str, Any]:
    return as_user(sample_event(name), user, email)


def on_path(base: dict[str, Any], path: str, **parameters: str) -> dict[str, Any]:
    base["path"] = path
    base["pathParameters"] = parameters
    return base


# ---------------------------------------------------------------- the routes
def test_user_management(measured: Measured, user_pool: str) -> None:
    invoke = Invoker("user_management")
    email = "alice@example.com"

    measured(
        "GET /health", invoke, sample_event("user_management/health_get.json"), 200
    )
    profile = event("user_management/profile_get.json", email=email)
    measured("GET /users/profile, first sight", invoke, profile, 200)
    measured("GET /users/profile", invoke, profile, 200)
    preferences = event("user_management/preferences_put.json", email=email)
    measured("PUT /users/preferences", invoke, preferences, 200)
    change = with_body(
        event("user_management/profile_put.json", email=email),
        {"preferences": {"timezone": "Europe/Paris"}},
    )
    measured("PUT /users/profile, preferences", invoke, change, 200)
    moved = "alice.new@example.com"
    change = with_body(
        event("user_management/profile_put.json", email=moved), {"email": moved}
    )
    measured("PUT /users/profile, new verified email", invoke, change, 200)
    deletion = event("user_management/account_delete.json", email=moved)
    measured("DELETE /users/account, no bids, no eBay link", invoke, deletion, 204)
    first = event("user_management/preferences_put.json", "carol", "c@example.com")
    measured("PUT /users/preferences, first sight", invoke, first, 200)
    measured.check()


def test_ebay_oauth(
    measured: Measured, ebay: EbayWorld, ebay_emulator: EmulatorServer
) -> None:
    invoke = Invoker("ebay_oauth")

    started = measured(
        "GET /ebay/auth/url", invoke, event("ebay_oauth/auth_url_get.json"), 200
    )
    redirect = ebay.consent(body_of(started)["authUrl"], "ebay-alice")
    callback = with_body(event("ebay_oauth/callback_post.json"), redirect)
    measured("POST /ebay/auth/callback", invoke, callback, 200)
    measured("GET /ebay/auth/status", invoke, event("ebay_oauth/status_get.json"), 200)
    ebay.app_secret(
        verificationToken="sniper-local_verification-token_0123456789",
        deletionEndpointUrl="https://api.example.com/ebay/notifications/account-deletion",
    )
    challenge = challenge_event("a8628072-3d33-45ee-9004-bee86830a22d")
    measured("GET /ebay/notifications/account-deletion", invoke, challenge, 200)
    unlink = event("ebay_oauth/unlink_delete.json")
    measured("DELETE /ebay/auth/unlink", invoke, unlink, 204)

    link_ebay(ebay, "ebay-alice")
    signed = ebay_emulator.state.account_deletion_notice("ebay-alice")
    notice = notice_event(signed.body, signed.signature)
    measured("POST /ebay/notifications/account-deletion", invoke, notice, 204)
    measured.check()


def test_wishlist_sync(measured: Measured, ebay: EbayWorld) -> None:
    invoke = Invoker("wishlist_sync")
    link_ebay(ebay, "ebay-alice")
    listing = ebay.listing(title="Leica M6", startPrice="120.50")
    ebay.watch("ebay-alice", listing["itemId"])

    items = event("wishlist_sync/items_get.json")
    measured("GET /wishlist/items", invoke, items, 200)
    item = on_path(
        event("wishlist_sync/item_get.json"),
        f"/wishlist/items/{listing['itemId']}",
        itemId=listing["itemId"],
    )
    measured("GET /wishlist/items/{itemId}", invoke, item, 200)
    measured.check()


def test_bid_management_and_history(
    measured: Measured, ebay: EbayWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    cursor_secret(monkeypatch)
    scheduling(monkeypatch)
    link_ebay(ebay, "ebay-alice")
    bids, history = Invoker("bid_management"), Invoker("bid_history")
    listing = ebay.listing(title="Leica M6", startPrice="10.00", endsInSeconds=3_600)

    create = with_body(
        event("bid_management/create_post.json"),
        {"ebayItemId": listing["itemId"], "maxBidAmount": 2_500},
    )
    bid_id = body_of(measured("POST /bids", bids, create, 201))["bidId"]
    measured("GET /bids", bids, event("bid_management/list_get.json"), 200)
    path = f"/bids/{bid_id}"
    one = on_path(event("bid_management/bid_get.json"), path, bidId=bid_id)
    measured("GET /bids/{bidId}", bids, one, 200)
    edit = with_body(
        on_path(event("bid_management/update_put.json"), path, bidId=bid_id),
        {"maxBidAmount": 3_000},
    )
    measured("PUT /bids/{bidId}", bids, edit, 200)
    cancel = on_path(event("bid_management/cancel_delete.json"), path, bidId=bid_id)
    measured("DELETE /bids/{bidId}", bids, cancel, 204)

    entries = event("bid_history/history_get.json")
    entries["queryStringParameters"] = entries["multiValueQueryStringParameters"] = None
    measured("GET /bid-history", history, entries, 200)
    timeline = on_path(
        event("bid_history/timeline_get.json"), f"/bid-history/{bid_id}", bidId=bid_id
    )
    measured("GET /bid-history/{bidId}", history, timeline, 200)
    measured.check()


def test_the_snipe(
    sniping: Sniping, measured: Measured, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snipe that wins. Woken a few seconds early, it re-reads the bid (its
    heartbeat) once at the last look and once at the commit: the recheck
    interval is longer than the wait, so the count does not depend on how long
    it waited."""
    monkeypatch.setenv("BID_RECHECK_SECONDS", "30")
    monkeypatch.setenv("SNIPE_WARMUP_SECONDS", "1.5")
    composition_snipe.reset()
    composition_bids.reset()
    sniping.link()
    listing = sniping.auction(ends_in=LEAD + 3)
    bid = sniping.bid(listing)

    measured.calls.clear()
    result = sniping.run(Sniping.event(bid))
    polls = [
        call
        for call in measured.calls.ebay
        if call == f"GET /buy/offer/v1_beta/bidding/{bid.rest_item_id}"
    ]
    for call in polls:
        measured.calls.ebay.remove(call)
    measured.record("snipe, WON")

    assert result["bidPlaced"] is True, result
    assert Sniping.stored(bid).status.value == "WON"
    assert 1 <= len(polls) <= 2, polls
    measured.check()
