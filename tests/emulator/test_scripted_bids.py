"""Rival bids scripted for a moment: placed then, under the Offer API's rules."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from local.ebay_emulator import EmulatorServer, ManualClock
from local.ebay_emulator.clock import DEFAULT_MANUAL_START

from .driver import EbayDriver

START = DEFAULT_MANUAL_START


def script(ebay: EbayDriver, item_id: str, **spec: Any) -> httpx.Response:
    return ebay.admin("POST", f"/listings/{item_id}/scripted-bids", json=spec)


def scripted(ebay: EbayDriver, item_id: str) -> list[dict[str, Any]]:
    response = ebay.admin("GET", f"/listings/{item_id}/scripted-bids")
    assert response.status_code == 200, response.text
    scripts: list[dict[str, Any]] = response.json()
    return scripts


def test_a_rival_bids_at_its_moment_and_proxy_bidding_applies(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=60)
    token = ebay.user_token("sniper")
    assert ebay.bid(token, listing["restfulItemId"], "30.00").status_code == 200
    answer = script(
        ebay,
        listing["itemId"],
        bidder="rival1",
        maxAmount={"value": "25.00", "currency": "USD"},
        secondsBeforeEnd=2,
    )
    assert answer.status_code == 201, answer.text
    assert (answer.json()["at"], answer.json()["status"]) == (
        "2026-01-01T00:00:58.000Z",
        "PENDING",
    )

    clock.advance(57.999)
    assert ebay.read_listing(listing["itemId"])["bidCount"] == 1
    clock.advance(0.001)
    view = ebay.read_listing(listing["itemId"])

    rival = view["bids"][-1]
    assert (rival["bidder"], rival["maxAmount"], rival["accepted"]) == (
        "rival1",
        "25.00",
        True,
    )
    assert (rival["placedAt"], rival["source"]) == (
        "2026-01-01T00:00:58.000Z",
        "scripted",
    )
    # The higher maximum leads at the runner-up's maximum plus one increment.
    assert (view["leader"], view["currentPrice"]) == ("sniper", "26.00")
    clock.advance(3)
    assert ebay.read_listing(listing["itemId"])["outcome"] == {
        "sold": True,
        "winner": "sniper",
        "price": "26.00",
    }


def test_a_higher_scripted_maximum_outbids_us_even_after_a_clock_jump(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=60)
    token = ebay.user_token("sniper")
    ebay.bid(token, listing["restfulItemId"], "30.00")
    script(ebay, listing["itemId"], bidder="rival1", maxAmount="40.00", at=START + 10.5)

    # Jumping past the moment and the end: the bid still counts as of its moment.
    clock.advance(120)
    bidding = ebay.bidding(token, listing["restfulItemId"]).json()
    view = ebay.read_listing(listing["itemId"])

    assert bidding["highBidder"] is False
    assert view["bids"][-1]["placedAt"] == "2026-01-01T00:00:10.500Z"
    assert view["outcome"] == {"sold": True, "winner": "rival1", "price": "31.00"}
    (ran,) = scripted(ebay, listing["itemId"])
    assert (ran["status"], ran["proxyBidId"]) == (
        "PLACED",
        view["bids"][-1]["proxyBidId"],
    )


def test_a_rival_scripted_after_the_end_is_refused_like_a_late_bid(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=60)

    late = script(
        ebay, listing["itemId"], bidder="rival1", maxAmount=2_000, at=START + 60.001
    )
    at_the_end = script(
        ebay, listing["itemId"], bidder="rival2", maxAmount=2_000, at=START + 60
    )

    assert late.status_code == 409
    assert (late.json()["error"], late.json()["errorId"]) == ("ENDED", 120012)
    assert at_the_end.status_code == 201  # the end instant still counts
    assert [s["bidder"] for s in scripted(ebay, listing["itemId"])] == ["rival2"]


def test_a_scripted_bid_whose_end_moved_before_it_is_refused_then(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=60)
    script(ebay, listing["itemId"], bidder="rival1", maxAmount=2_000, at=START + 50)
    follows = script(
        ebay, listing["itemId"], bidder="rival2", maxAmount=1_500, secondsBeforeEnd=5
    )
    ebay.admin("PATCH", f"/listings/{listing['itemId']}", json={"endsInSeconds": 30})

    assert follows.json()["at"] == "2026-01-01T00:00:55.000Z"
    clock.advance(60)
    view = ebay.read_listing(listing["itemId"])

    by_bidder = {s["bidder"]: s for s in scripted(ebay, listing["itemId"])}
    assert (by_bidder["rival2"]["status"], by_bidder["rival2"]["at"]) == (
        "PLACED",
        "2026-01-01T00:00:25.000Z",
    )
    assert (by_bidder["rival1"]["status"], by_bidder["rival1"]["errorId"]) == (
        "REFUSED",
        120012,
    )
    assert [(b["bidder"], b["accepted"]) for b in view["bids"]] == [
        ("rival2", True),
        ("rival1", False),
    ]


def test_scripted_bids_are_listed_cancelled_and_journaled(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=60)
    item = listing["itemId"]
    kept = script(ebay, item, bidder="rival1", maxAmount=2_000, at=START + 10).json()
    dropped = script(ebay, item, bidder="rival2", maxAmount=3_000, at=START + 20).json()

    cancelled = ebay.admin(
        "DELETE", f"/listings/{item}/scripted-bids/{dropped['scriptId']}"
    )
    clock.advance(30)
    again = ebay.admin("DELETE", f"/listings/{item}/scripted-bids/{kept['scriptId']}")
    unknown = ebay.admin("DELETE", f"/listings/{item}/scripted-bids/script-99")

    assert cancelled.json()["status"] == "CANCELLED"
    assert [(s["bidder"], s["status"]) for s in scripted(ebay, item)] == [
        ("rival1", "PLACED"),
        ("rival2", "CANCELLED"),
    ]
    assert [b["bidder"] for b in ebay.read_listing(item)["bids"]] == ["rival1"]
    assert again.status_code == 409
    assert unknown.status_code == 404
    (entry,) = [
        e for e in ebay.admin("GET", "/requests").json() if e["method"] == "SCRIPTED"
    ]
    assert (entry["status"], entry["at"], entry["bidder"]) == (
        201,
        "2026-01-01T00:00:10.000Z",
        "rival1",
    )


@pytest.mark.parametrize(
    ("spec", "status"),
    [
        ({"at": START + 5, "secondsBeforeEnd": 2}, 400),
        ({}, 400),
        ({"secondsBeforeEnd": -1}, 400),
        ({"at": "tomorrow"}, 400),
        ({"at": "2026-01-01T00:00:05Z", "colour": "red"}, 400),
    ],
)
def test_a_nonsensical_script_is_refused(
    ebay: EbayDriver, spec: dict[str, Any], status: int
) -> None:
    listing = ebay.listing(startPrice=1_000)

    response = script(ebay, listing["itemId"], bidder="rival1", maxAmount=2_000, **spec)

    assert response.status_code == status, response.text
    assert script(ebay, "42", bidder="r", maxAmount=2_000, at=START).status_code == 404


@pytest.mark.slow
def test_a_rival_scripted_a_second_ahead_lands_on_time_without_any_call() -> None:
    # The real clock, and no request until well after the moment: the server's
    # timer alone places the bid.
    with EmulatorServer() as server, httpx.Client(base_url=server.url) as http:
        item = http.post(
            "/__admin/listings", json={"startPrice": 1_000, "endsInSeconds": 60}
        ).json()["itemId"]
        moment = server.state.now() + 1.0
        http.post(
            f"/__admin/listings/{item}/scripted-bids",
            json={"bidder": "rival1", "maxAmount": 2_000, "at": moment},
        )

        time.sleep(1.3)
        (ran,) = http.get(f"/__admin/listings/{item}/scripted-bids").json()

    assert ran["status"] == "PLACED"
    assert 0 <= ran["lateMs"] < 100
