"""The transport: User-Agent, eBay's clock offset, one pooled client per
container, and one origin serving every eBay path (the local emulator)."""

from __future__ import annotations

import subprocess
import sys
from email.utils import formatdate
from pathlib import Path

import httpx
import respx
from ebay_test_support import NOW, USER_TOKEN, FakeClock, Wire

from sniper.ebay import EbayAppCredentials, EbayClient, EbaySettings
from sniper.ebay.http import EbayTransport, shared_http_client, user_agent
from sniper.money import Money

SHARED = Path(__file__).resolve().parents[3] / "shared"
IDENTITY_URL = "https://apiz.ebay.com/commerce/identity/v1/user/"


def test_requests_carry_our_user_agent(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    route = respx_mock.get(IDENTITY_URL).respond(
        200, json=wire.json("identity_get_user.json")
    )
    client.get_user(USER_TOKEN)
    assert route.calls.last.request.headers["User-Agent"] == user_agent()
    assert user_agent().startswith("ebay-sniper-api/")


def test_ebays_clock_offset_is_read_from_the_date_header(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire, clock: FakeClock
) -> None:
    assert client.server_time_offset is None
    # eBay's clock reads 2 s ahead of ours; Date has whole seconds only.
    respx_mock.get(IDENTITY_URL).respond(
        200,
        json=wire.json("identity_get_user.json"),
        headers={"Date": formatdate(NOW + 2, usegmt=True)},
    )
    client.get_user(USER_TOKEN)
    offset = client.server_time_offset
    assert offset is not None
    assert 2.0 <= offset <= 3.0  # eBay's instant lies in [Date, Date + 1 s)


def test_several_date_headers_pin_the_offset_well_below_a_second() -> None:
    """eBay 2.3 s ahead; answers at different fractions of a second narrow it."""
    transport = EbayTransport(clock=lambda: 0.0)
    for local in (NOW + 0.1, NOW + 0.45, NOW + 0.8, NOW + 1.65, NOW + 2.9):
        ebay_now = local + 0.01 + 2.3
        transport._observe_clock(
            formatdate(int(ebay_now), usegmt=True), local, local + 0.02
        )
    offset = transport.server_time_offset
    assert offset is not None
    assert abs(offset - 2.3) < 0.15


def test_clocks_that_may_agree_are_taken_to_agree() -> None:
    """Synchronised clocks: one answer allows offsets from -0.3 s to +0.7 s. The
    interval's middle would send every bid 200 ms early; zero sends it on time."""
    transport = EbayTransport(clock=lambda: 0.0)
    local = NOW + 0.3  # eBay's Date reads NOW: its instant lies in [NOW, NOW + 1)
    transport._observe_clock(formatdate(NOW, usegmt=True), local, local + 0.01)

    assert transport.server_time_offset == 0.0


def test_a_stepped_clock_drops_the_old_evidence() -> None:
    transport = EbayTransport(clock=lambda: 0.0)
    transport._observe_clock(formatdate(NOW + 2, usegmt=True), NOW, NOW + 0.01)
    transport._observe_clock(formatdate(NOW + 60, usegmt=True), NOW + 1, NOW + 1.01)

    offset = transport.server_time_offset
    assert offset is not None and 58 < offset < 60


def test_a_garbled_date_header_leaves_the_offset_alone(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.get(IDENTITY_URL).respond(
        200, json=wire.json("identity_get_user.json"), headers={"Date": "yesterday"}
    )
    client.get_user(USER_TOKEN)
    assert client.server_time_offset is None


def test_the_container_shares_one_http_client() -> None:
    first = shared_http_client()
    assert shared_http_client() is first
    assert first.headers["User-Agent"] == user_agent()
    assert first.timeout.connect is not None and first.timeout.read is not None


def test_importing_the_client_makes_no_call_and_needs_no_configuration() -> None:
    script = (
        "import sys, socket\n"
        "def refuse(*a, **k): raise AssertionError('network at import')\n"
        "socket.socket.connect = refuse\n"
        "import sniper.ebay, sniper.money\n"
        "print('boto3' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SHARED), "PATH": "", "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
    )
    assert result.stdout.strip() == "False"  # boto3 loads on first secret read


def test_one_origin_serves_every_ebay_call(
    credentials: EbayAppCredentials,
    clock: FakeClock,
    http: httpx.Client,
    wire: Wire,
) -> None:
    origin = "http://127.0.0.1:8765"
    settings = EbaySettings.from_env(
        {
            "EBAY_ENVIRONMENT": "sandbox",
            "EBAY_AUTH_BASE_URL": origin,
            "EBAY_API_BASE_URL": origin,
            "EBAY_IDENTITY_BASE_URL": origin,
        }
    )
    client = EbayClient(
        settings, credentials=lambda: credentials, http=http, clock=clock
    )
    with respx.mock(base_url=origin, assert_all_called=True) as emulator:
        emulator.post("/identity/v1/oauth2/token").respond(
            200, json=wire.json("oauth_token_client_credentials.json")
        )
        emulator.get("/commerce/identity/v1/user/").respond(
            200, json=wire.json("identity_get_user.json")
        )
        emulator.post("/ws/api.dll").respond(
            200, content=wire.bytes("trading_watch_list_empty.xml")
        )
        emulator.get("/buy/browse/v1/item/get_item_by_legacy_id").respond(
            200, json=wire.json("browse_item_auction.json")
        )
        emulator.post(
            "/buy/offer/v1_beta/bidding/v1%7C110554436163%7C0/place_proxy_bid"
        ).respond(200, json=wire.json("offer_place_proxy_bid.json"))
        emulator.get("/buy/offer/v1_beta/bidding/v1%7C110554436163%7C0").respond(
            200, json=wire.json("offer_get_bidding_ended_won.json")
        )

        assert client.consent_url("s").startswith(f"{origin}/oauth2/authorize?")
        client.get_user(USER_TOKEN)
        client.get_watch_list(USER_TOKEN)
        item = client.get_item_by_legacy_id("110554436163")
        client.place_proxy_bid(USER_TOKEN, item.item_id, Money(18000, "USD"))
        assert client.get_bidding(USER_TOKEN, item.item_id).won
    # assert_all_called: every route above, the token endpoint included, was hit.
