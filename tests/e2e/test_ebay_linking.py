"""On the local stack, over HTTP: link eBay through the emulator's consent page, then
read the watch list, as a frontend developer would from their browser."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.support import RunningStack, free_ports, start_stack
from tests.support.handlers import ROOT

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ebay_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("ebay-stack")
    (ebay_port,) = free_ports(1)
    running = start_stack(folder, template=ROOT / "template.yaml", ebay_port=ebay_port)
    yield running
    running.stop()


def test_link_ebay_then_list_the_watch_list(ebay_stack: RunningStack) -> None:
    assert ebay_stack.ebay is not None
    ebay_url = ebay_stack.ebay
    api = httpx.Client(
        base_url=ebay_stack.api,
        headers={"Authorization": f"Bearer {ebay_stack.token('carol')}"},
        timeout=20,
    )
    browser = httpx.Client(timeout=20)
    admin = httpx.Client(base_url=f"{ebay_url}/__admin", timeout=20)

    # The frontend asks for the consent URL; the browser goes to eBay's page.
    started = api.get("/ebay/auth/url")
    assert started.status_code == 200, started.text
    auth_url = started.json()["authUrl"]
    assert auth_url.startswith(f"{ebay_url}/oauth2/authorize?")
    page = browser.get(auth_url)
    assert page.status_code == 200
    assert 'name="username"' in page.text

    # The user agrees; eBay redirects to the frontend's page with code and state.
    query = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
    agreed = browser.post(
        f"{ebay_url}/oauth2/authorize",
        data={**query, "username": "carol-on-ebay", "decision": "agree"},
    )
    assert agreed.status_code == 302
    redirect = parse_qs(urlsplit(agreed.headers["location"]).query)

    linked = api.post(
        "/ebay/auth/callback",
        json={"code": redirect["code"][0], "state": redirect["state"][0]},
    )
    assert linked.status_code == 200, linked.text
    assert linked.json()["accountId"] == "carol-on-ebay"
    assert api.get("/ebay/auth/status").json()["isLinked"] is True

    # Two listings on carol's eBay watch list; the API returns them in cents.
    auction = admin.post(
        "/listings", json={"title": "Gibson Les Paul", "startPrice": "850.00"}
    ).json()
    fixed = admin.post(
        "/listings",
        json={"title": "Strings", "listingType": "FIXED_PRICE", "startPrice": 1299},
    ).json()
    for item in (auction, fixed):
        watched = admin.post(
            "/users/carol-on-ebay/watchlist", json={"itemId": item["itemId"]}
        )
        assert watched.status_code == 201

    everything = api.get("/wishlist/items")
    auctions = api.get("/wishlist/items", params={"auctionsOnly": "true"})
    details = api.get(f"/wishlist/items/{auction['itemId']}")

    assert everything.status_code == 200, everything.text
    prices = {i["title"]: i["currentPrice"] for i in everything.json()["items"]}
    assert prices == {"Gibson Les Paul": 85000, "Strings": 1299}
    assert [i["title"] for i in auctions.json()["items"]] == ["Gibson Les Paul"]
    assert details.status_code == 200
    assert details.json()["minimumBidAmount"] == 85000


def test_watch_list_without_a_link_is_401(ebay_stack: RunningStack) -> None:
    response = httpx.get(
        f"{ebay_stack.api}/wishlist/items",
        headers={"Authorization": f"Bearer {ebay_stack.token('dave')}"},
        timeout=20,
    )

    assert response.status_code == 401
    assert response.json()["code"] == "EBAY_NOT_LINKED"


def test_startup_says_the_functions_use_the_emulator(
    ebay_stack: RunningStack,
) -> None:
    assert "functions use the eBay emulator" in ebay_stack.log()
