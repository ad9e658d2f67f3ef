"""Trading GetMyeBayBuying (the watch list). Wire bodies:
tests/fixtures/ebay/trading_*.xml (GetMyeBayBuying reference and samples on
developer.ebay.com; see the fixtures README)."""

from __future__ import annotations

import time
import traceback

import httpx
import pytest
import respx
from defusedxml.ElementTree import fromstring
from ebay_test_support import USER_TOKEN, FakeClock, Wire

from sniper.ebay import (
    EbayAppCredentials,
    EbayAuthError,
    EbayClient,
    EbayPermanentError,
    EbayRateLimited,
    EbaySettings,
    EbayTransientError,
    WatchedItem,
)
from sniper.money import Money

TRADING_URL = "https://api.ebay.com/ws/api.dll"
NS = "{urn:ebay:apis:eBLBaseComponents}"


def _page_number(request: httpx.Request) -> int:
    root = fromstring(request.content)
    return int(root.findtext(f"{NS}WatchList/{NS}Pagination/{NS}PageNumber") or 0)


def _pages(wire: Wire, *names: str) -> respx.types.SideEffectTypes:
    bodies = {number: wire.bytes(name) for number, name in enumerate(names, 1)}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=bodies[_page_number(request)])

    return answer


def test_watch_list_request_has_the_trading_headers_and_body(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    route = respx_mock.post(TRADING_URL).respond(
        200, content=wire.bytes("trading_watch_list_empty.xml")
    )
    assert client.get_watch_list(USER_TOKEN) == []

    request = route.calls.last.request
    assert request.headers["X-EBAY-API-CALL-NAME"] == "GetMyeBayBuying"
    assert request.headers["X-EBAY-API-SITEID"] == "0"
    assert request.headers["X-EBAY-API-COMPATIBILITY-LEVEL"] == "1475"
    assert request.headers["X-EBAY-API-IAF-TOKEN"] == USER_TOKEN
    assert request.headers["Content-Type"] == "text/xml"
    assert "Authorization" not in request.headers
    root = fromstring(request.content)
    assert root.tag == f"{NS}GetMyeBayBuyingRequest"
    assert root.findtext(f"{NS}WatchList/{NS}Include") == "true"
    pagination = f"{NS}WatchList/{NS}Pagination"
    assert root.findtext(f"{pagination}/{NS}EntriesPerPage") == "200"
    assert root.findtext(f"{pagination}/{NS}PageNumber") == "1"
    assert route.call_count == 1  # an empty list is one call


def test_every_page_is_fetched_and_parsed(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    route = respx_mock.post(TRADING_URL).mock(
        side_effect=_pages(
            wire, "trading_watch_list_page1.xml", "trading_watch_list_page2.xml"
        )
    )
    items = client.get_watch_list(USER_TOKEN)

    assert [_page_number(call.request) for call in route.calls] == [1, 2]
    assert [item.item_id for item in items] == [
        "110554436163",
        "266712345678",
        "355098765432",
    ]
    auction, fixed_price, ended = items
    assert auction == WatchedItem(
        item_id="110554436163",
        title="Vintage Omega Seamaster Automatic Men's Watch Cal. 552, 1960s",
        listing_type="Chinese",
        current_price=Money(15250, "USD"),
        bid_count=7,
        minimum_to_bid=Money(15500, "USD"),
        end_time=1_741_688_460,
        gallery_url="https://i.ebayimg.com/images/g/3kAAAOSw0jdnxYz1/s-l140.jpg",
        buy_it_now_price=None,  # eBay writes 0.0 when there is none
        time_left="P15H39M3S",
        seller_id="vintage_time_pieces",
        view_item_url="https://www.ebay.com/itm/110554436163",
    )
    assert auction.is_auction
    assert not fixed_price.is_auction
    assert fixed_price.buy_it_now_price == Money(8999, "USD")
    assert fixed_price.end_time == 1_742_659_512
    assert ended.current_price == Money(400, "USD")  # written "4.0"
    assert ended.time_left == "PT0S"
    assert ended.gallery_url is None


def test_an_item_seen_on_two_pages_is_listed_once(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.post(TRADING_URL).mock(
        side_effect=_pages(
            wire, "trading_watch_list_page1.xml", "trading_watch_list_page1.xml"
        )
    )
    assert len(client.get_watch_list(USER_TOKEN)) == 2


@pytest.fixture
def gb_client(
    credentials: EbayAppCredentials, clock: FakeClock, http: httpx.Client
) -> EbayClient:
    settings = EbaySettings.from_env(
        {"EBAY_ENVIRONMENT": "production", "EBAY_MARKETPLACE_ID": "EBAY_GB"}
    )
    return EbayClient(settings, credentials=lambda: credentials, http=http, clock=clock)


def test_a_warning_is_still_a_success(
    gb_client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    route = respx_mock.post(TRADING_URL).respond(
        200, content=wire.bytes("trading_watch_list_warning.xml")
    )
    items = gb_client.get_watch_list(USER_TOKEN)
    assert [(item.item_id, item.current_price) for item in items] == [
        ("405512233445", Money(2100, "GBP"))
    ]
    assert route.calls.last.request.headers["X-EBAY-API-SITEID"] == "3"


def test_an_expired_token_is_an_auth_error(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.post(TRADING_URL).respond(
        200, content=wire.bytes("trading_failure_expired_token.xml")
    )
    with pytest.raises(EbayAuthError) as caught:
        client.get_watch_list(USER_TOKEN)
    error = caught.value
    assert error.error_id == 21917053
    assert error.http_status == 200
    assert (
        str(error) == "IAF token supplied is expired. (eBay error 21917053, HTTP 200)"
    )
    assert USER_TOKEN not in "".join(traceback.format_exception(error))


def test_the_call_limit_is_a_rate_limit(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.post(TRADING_URL).respond(
        200, content=wire.bytes("trading_failure_call_limit.xml")
    )
    with pytest.raises(EbayRateLimited) as caught:
        client.get_watch_list(USER_TOKEN)
    assert caught.value.error_id == 518


@pytest.mark.parametrize("ack", ["Failure", "PartialFailure"])
def test_other_failures_carry_ebays_code_and_message(
    client: EbayClient, respx_mock: respx.MockRouter, ack: str
) -> None:
    body = (
        f'<GetMyeBayBuyingResponse xmlns="urn:ebay:apis:eBLBaseComponents">'
        f"<Ack>{ack}</Ack><Errors><ShortMessage>Invalid page number.</ShortMessage>"
        "<LongMessage>The page number is out of range.</LongMessage>"
        "<ErrorCode>340</ErrorCode><SeverityCode>Error</SeverityCode>"
        "</Errors></GetMyeBayBuyingResponse>"
    )
    respx_mock.post(TRADING_URL).respond(200, content=body.encode())
    with pytest.raises(EbayPermanentError) as caught:
        client.get_watch_list(USER_TOKEN)
    assert type(caught.value) is EbayPermanentError
    assert caught.value.error_id == 340
    assert "The page number is out of range." in str(caught.value)


def test_a_trading_outage_is_transient(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(TRADING_URL).respond(503, text="Service Unavailable")
    with pytest.raises(EbayTransientError) as caught:
        client.get_watch_list(USER_TOKEN)
    assert caught.value.http_status == 503


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<GetMyeBayBuyingResponse xmlns="urn:ebay:apis:eBLBaseComponents"><Ack>Success</Ack>
<WatchList><ItemArray><Item><ItemID>1</ItemID><Title>&lol9;</Title>
<ListingType>Chinese</ListingType></Item></ItemArray></WatchList>
</GetMyeBayBuyingResponse>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<GetMyeBayBuyingResponse xmlns="urn:ebay:apis:eBLBaseComponents"><Ack>Success</Ack>
<WatchList><ItemArray><Item><ItemID>1</ItemID><Title>&xxe;</Title>
<ListingType>Chinese</ListingType></Item></ItemArray></WatchList>
</GetMyeBayBuyingResponse>"""

PLAIN_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE GetMyeBayBuyingResponse [<!ELEMENT Ack (#PCDATA)>]>
<GetMyeBayBuyingResponse xmlns="urn:ebay:apis:eBLBaseComponents"><Ack>Success</Ack>
</GetMyeBayBuyingResponse>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY, PLAIN_DTD])
def test_hostile_xml_is_refused_not_expanded(
    client: EbayClient, respx_mock: respx.MockRouter, body: bytes
) -> None:
    respx_mock.post(TRADING_URL).respond(200, content=body)
    started = time.perf_counter()
    with pytest.raises(EbayPermanentError, match="refused eBay's XML") as caught:
        client.get_watch_list(USER_TOKEN)
    assert time.perf_counter() - started < 1.0  # nothing was expanded
    text = "".join(traceback.format_exception(caught.value))
    assert "lollol" not in text and "root:" not in text


def test_xml_that_is_not_xml_is_a_permanent_error(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(TRADING_URL).respond(200, text="<html><body>Oops")
    with pytest.raises(EbayPermanentError, match="not XML"):
        client.get_watch_list(USER_TOKEN)
