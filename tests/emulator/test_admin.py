"""The admin API that scenario scripts and tests use to set the stage."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from local.ebay_emulator import ManualClock

from .driver import EbayDriver, basic_auth


def test_a_listing_takes_cents_or_decimals_alike(ebay: EbayDriver) -> None:
    in_cents = ebay.listing(startPrice=1_250, reserve=5_000, buyItNow=9_999)
    in_decimals = ebay.listing(
        startPrice="12.50", reserve="50", buyItNow={"value": "99.99"}
    )

    fields = ("startPrice", "reserve", "buyItNow")
    assert [in_cents[f] for f in fields] == ["12.50", "50.00", "99.99"]
    assert [in_decimals[f] for f in fields] == ["12.50", "50.00", "99.99"]
    assert in_cents["itemId"] != in_decimals["itemId"]
    assert in_cents["restfulItemId"] == f"v1|{in_cents['itemId']}|0"


def test_a_listing_can_end_at_an_absolute_time(ebay: EbayDriver) -> None:
    listing = ebay.listing(
        startPrice=1_000, endsInSeconds=None, endTime="2026-01-02T12:00:00Z"
    )

    assert listing["endTime"] == "2026-01-02T12:00:00.000Z"
    assert listing["status"] == "ACTIVE"


@pytest.mark.parametrize(
    "spec",
    [
        {"startPrice": 12.5},
        {"startPrice": "12.505"},
        {"startPrice": 1_000, "reserve": 500},
        {"startPrice": 1_000, "endsInSeconds": 60, "endTime": "2026-01-02T00:00:00Z"},
        {"startPrice": 1_000, "listingType": "LOTTERY"},
        {"startPrice": 1_000, "colour": "red"},
        {"startPrice": {"value": "10.00", "currency": "EUR"}},
        {"startPrice": 1_000, "title": "x" * 81},
    ],
)
def test_a_nonsensical_listing_is_refused(
    ebay: EbayDriver, spec: dict[str, object]
) -> None:
    response = ebay.admin("POST", "/listings", json={"seller": "s", **spec})

    assert response.status_code == 400
    assert response.json()["error"]


def test_the_listing_view_shows_standing_and_every_bid(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    ebay.rival_bid(listing["itemId"], "rival1", 2_000)
    refused = ebay.rival_bid(listing["itemId"], "rival2", 1_025)

    view = ebay.read_listing(listing["restfulItemId"])

    assert refused.status_code == 409
    assert (refused.json()["error"], refused.json()["errorId"]) == ("TOO_LOW", 120008)
    assert (view["leader"], view["currentPrice"], view["minimumToBid"]) == (
        "rival1",
        "10.00",
        "10.50",
    )
    assert [
        (b["bidder"], b["maxAmount"], b["accepted"], b["errorId"]) for b in view["bids"]
    ] == [
        ("rival1", "20.00", True, None),
        ("rival2", "10.25", False, 120008),
    ]
    assert view["bids"][0]["placedAt"] == "2026-01-01T00:00:00.000Z"


def test_an_unknown_listing_is_404(ebay: EbayDriver) -> None:
    assert ebay.admin("GET", "/listings/123").status_code == 404
    assert ebay.rival_bid("123", "rival1", 2_000).status_code == 404


def test_advancing_the_clock_ends_auctions_and_shows_in_date_headers(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=3_600)

    moved = ebay.admin("POST", "/clock", json={"advanceSeconds": 3_601})

    assert moved.json()["now"] == "2026-01-01T01:00:01.000Z"
    assert moved.json()["offsetSeconds"] == 3_601
    assert moved.headers["date"] == "Thu, 01 Jan 2026 01:00:01 GMT"
    assert ebay.read_listing(listing["itemId"])["status"] == "ENDED"
    ebay.admin("POST", "/reset")
    assert ebay.admin("GET", "/clock").json()["offsetSeconds"] == 0


def test_the_clock_cannot_go_backwards(ebay: EbayDriver) -> None:
    assert ebay.admin("POST", "/clock", json={"advanceSeconds": -5}).status_code == 400


def test_a_listing_end_can_be_moved(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=3_600)

    response = ebay.admin(
        "PATCH", f"/listings/{listing['itemId']}", json={"endsInSeconds": 30}
    )

    assert response.json()["endTime"] == "2026-01-01T00:00:30.000Z"


def test_reset_forgets_listings_users_and_tokens(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.user_token("buyer1")

    ebay.admin("POST", "/reset")

    assert ebay.admin("GET", f"/listings/{listing['itemId']}").status_code == 404
    assert ebay.admin("GET", "/users/buyer1").status_code == 404
    assert ebay.identity(token).status_code == 401


def test_a_registered_app_gets_its_own_consent_and_tokens(ebay: EbayDriver) -> None:
    app = {
        "clientId": "other-app",
        "clientSecret": "other-secret",
        "ruName": "other-RuName",
        "acceptUrl": "https://frontend.test/linked?from=ebay",
        "rejectUrl": "https://frontend.test/declined",
    }
    assert ebay.admin("POST", "/oauth/apps", json=app).status_code == 201
    query = {
        **ebay.consent_query(),
        "client_id": "other-app",
        "redirect_uri": "other-RuName",
    }
    form = {**query, "username": "buyer1", "decision": "agree"}

    location = urlsplit(
        ebay.http.post("/oauth2/authorize", data=form).headers["location"]
    )
    code = parse_qs(location.query)["code"][0]
    exchanged = ebay.token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": "other-RuName",
        },
        auth=basic_auth("other-app", "other-secret"),
    )

    assert (location.netloc, location.path) == ("frontend.test", "/linked")
    assert parse_qs(location.query)["from"] == ["ebay"]
    assert exchanged.status_code == 200
    assert ebay.app_token()  # the default app still works


def test_a_renamed_user_keeps_their_user_id(ebay: EbayDriver) -> None:
    token = ebay.user_token("old-name")
    before = ebay.identity(token).json()

    renamed = ebay.admin("PATCH", "/users/old-name", json={"username": "new-name"})

    after = ebay.identity(token).json()
    assert renamed.status_code == 200
    assert (after["username"], after["userId"]) == ("new-name", before["userId"])


def test_a_newcomer_taking_an_old_username_gets_a_new_user_id(ebay: EbayDriver) -> None:
    renamed = ebay.admin("POST", "/users", json={"username": "alice"}).json()
    ebay.admin("PATCH", "/users/alice", json={"username": "alice2"})

    newcomer = ebay.admin("POST", "/users", json={"username": "alice"}).json()

    assert newcomer["userId"] != renamed["userId"]


def test_users_carry_seller_feedback_into_browse(ebay: EbayDriver) -> None:
    ebay.admin(
        "POST",
        "/users",
        json={
            "username": "top-seller",
            "feedbackScore": 4321,
            "feedbackPercentage": "100.0",
        },
    )
    listing = ebay.listing(startPrice=1_000, seller="top-seller")

    seller = ebay.browse_legacy(ebay.app_token(), listing["itemId"]).json()["seller"]

    assert seller == {
        "username": "top-seller",
        "feedbackScore": 4321,
        "feedbackPercentage": "100.0",
    }


def test_items_can_be_removed_from_a_watch_list(ebay: EbayDriver) -> None:
    first = ebay.listing(startPrice=1_000)
    second = ebay.listing(startPrice=1_000)
    ebay.watch("buyer1", first["itemId"])
    ebay.watch("buyer1", second["itemId"])

    removed = ebay.admin("DELETE", f"/users/buyer1/watchlist/{first['itemId']}")

    assert removed.json()["watchList"] == [second["itemId"]]
    watched = ebay.admin("GET", "/users/buyer1/watchlist").json()
    assert [item["itemId"] for item in watched] == [second["itemId"]]


def test_watching_an_unknown_item_is_404(ebay: EbayDriver) -> None:
    response = ebay.admin("POST", "/users/buyer1/watchlist", json={"itemId": "42"})

    assert response.status_code == 404


def test_the_journal_records_ebay_calls_but_not_admin_ones(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    ebay.admin("DELETE", "/requests")
    ebay.browse_legacy("bogus", listing["itemId"])

    journal = ebay.admin("GET", "/requests").json()

    browse_calls = [e for e in journal if e["path"].startswith("/buy/browse/")]
    assert [(e["method"], e["status"], e["at"]) for e in browse_calls] == [
        ("GET", 401, "2026-01-01T00:00:00.000Z")
    ]
    assert not [e for e in journal if e["path"].startswith("/__admin")]


def test_a_purchase_needs_buy_it_now(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)

    response = ebay.admin(
        "POST", f"/listings/{listing['itemId']}/purchase", json={"buyer": "b"}
    )

    assert response.status_code == 400


def test_a_rival_bid_in_another_currency_is_refused(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)

    response = ebay.rival_bid(
        listing["itemId"], "rival1", {"value": "20.00", "currency": "EUR"}
    )

    assert response.status_code == 409
    assert response.json()["errorId"] == 120009
