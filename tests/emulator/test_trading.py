"""Trading API `GetMyeBayBuying`: the watch list in eBay's XML, and Trading errors."""

from __future__ import annotations

import pytest

from local.ebay_emulator import EmulatorServer, ManualClock

from .driver import (
    EbayDriver,
    trading_error_code,
    watch_list_request,
    xml_root,
    xml_text,
)

NS = "urn:ebay:apis:eBLBaseComponents"


def watch_page(
    ebay: EbayDriver, token: str, entries: int, page: int
) -> tuple[list[str], int, int]:
    response = ebay.trading(token, watch_list_request(entries, page))
    assert response.status_code == 200
    root = xml_root(response)
    assert xml_text(root, "e:Ack") == "Success"
    ids = [
        el.text
        for el in root.findall("e:WatchList/e:ItemArray/e:Item/e:ItemID", {"e": NS})
    ]
    pages = int(
        xml_text(root, "e:WatchList/e:PaginationResult/e:TotalNumberOfPages") or -1
    )
    entries_total = int(
        xml_text(root, "e:WatchList/e:PaginationResult/e:TotalNumberOfEntries") or -1
    )
    return ids, pages, entries_total


def test_the_watch_list_pages_through_every_item_once(ebay: EbayDriver) -> None:
    token = ebay.user_token("buyer1")
    # Created in reverse end order: the watch list comes soonest-ending first.
    expected: list[str] = []
    for minutes in (50, 40, 30, 20, 10):
        listing = ebay.listing(title=f"Lot {minutes}", endsInSeconds=minutes * 60)
        ebay.watch("buyer1", listing["itemId"])
        expected.insert(0, listing["itemId"])

    pages = [watch_page(ebay, token, entries=2, page=n) for n in (1, 2, 3, 4)]

    assert [ids for ids, _, _ in pages] == [
        expected[0:2],
        expected[2:4],
        expected[4:5],
        [],
    ]
    assert {(total_pages, total) for _, total_pages, total in pages} == {(3, 5)}


def test_a_page_holds_at_most_200_entries(
    ebay: EbayDriver, emulator_server: EmulatorServer
) -> None:
    state = emulator_server.state
    for n in range(201):
        listing = state.create_listing(
            title=f"Lot {n}", seller="seller1", start_price_cents=100
        )
        state.watch("buyer1", listing.item_id)
    token = ebay.user_token("buyer1")

    ids, pages, total = watch_page(ebay, token, entries=500, page=1)

    assert (len(ids), pages, total) == (200, 2, 201)


def test_an_empty_watch_list_reports_zero_entries_and_pages(ebay: EbayDriver) -> None:
    ids, pages, total = watch_page(ebay, ebay.user_token("buyer1"), entries=25, page=1)

    assert (ids, pages, total) == ([], 0, 0)


def test_default_page_size_is_25(
    ebay: EbayDriver, emulator_server: EmulatorServer
) -> None:
    state = emulator_server.state
    for n in range(30):
        listing = state.create_listing(
            title=f"Lot {n}", seller="seller1", start_price_cents=100
        )
        state.watch("buyer1", listing.item_id)

    root = xml_root(ebay.trading(ebay.user_token("buyer1"), watch_list_request()))

    assert len(root.findall("e:WatchList/e:ItemArray/e:Item", {"e": NS})) == 25


def test_an_auction_item_carries_the_fields_a_sniper_reads(ebay: EbayDriver) -> None:
    listing = ebay.listing(
        title="Leica M6",
        seller="camera-shop",
        startPrice="400.00",
        buyItNow="900.00",
        endsInSeconds=93_784,
        imageUrl="https://i.ebayimg.com/leica.jpg",
    )
    ebay.watch("buyer1", listing["itemId"])

    root = xml_root(ebay.trading(ebay.user_token("buyer1")))
    item = root.find("e:WatchList/e:ItemArray/e:Item", {"e": NS})

    assert xml_text(item, "e:ItemID") == listing["itemId"]
    assert xml_text(item, "e:Title") == "Leica M6"
    assert xml_text(item, "e:ListingType") == "Chinese"
    price = item.find("e:SellingStatus/e:CurrentPrice", {"e": NS})
    assert (price.text, price.get("currencyID")) == ("400.0", "USD")
    assert xml_text(item, "e:SellingStatus/e:BidCount") == "0"
    assert xml_text(item, "e:SellingStatus/e:MinimumToBid") == "400.0"
    assert xml_text(item, "e:BuyItNowPrice") == "900.0"
    assert xml_text(item, "e:ListingDetails/e:EndTime") == listing["endTime"]
    assert xml_text(item, "e:TimeLeft") == "P1DT2H3M4S"
    assert xml_text(item, "e:Seller/e:UserID") == "camera-shop"
    assert (
        xml_text(item, "e:PictureDetails/e:GalleryURL")
        == "https://i.ebayimg.com/leica.jpg"
    )
    assert xml_text(root, "e:Timestamp") == "2026-01-01T00:00:00.000Z"


def test_bids_show_in_the_watch_list(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000, buyItNow=5_000)
    ebay.watch("buyer1", listing["itemId"])
    ebay.rival_bid(listing["itemId"], "rival1", 2_000)
    ebay.rival_bid(listing["itemId"], "rival2", 2_500)

    item = xml_root(ebay.trading(ebay.user_token("buyer1"))).find(
        "e:WatchList/e:ItemArray/e:Item", {"e": NS}
    )

    assert xml_text(item, "e:SellingStatus/e:CurrentPrice") == "20.5"
    assert xml_text(item, "e:SellingStatus/e:BidCount") == "2"
    assert xml_text(item, "e:SellingStatus/e:MinimumToBid") == "21.0"
    assert item.find("e:BuyItNowPrice", {"e": NS}) is None


def test_an_ended_item_has_no_time_left(ebay: EbayDriver, clock: ManualClock) -> None:
    listing = ebay.listing(startPrice=1_000, endsInSeconds=60)
    ebay.watch("buyer1", listing["itemId"])
    token = ebay.user_token("buyer1")
    clock.advance(61)

    item = xml_root(ebay.trading(token)).find(
        "e:WatchList/e:ItemArray/e:Item", {"e": NS}
    )

    assert xml_text(item, "e:TimeLeft") == "PT0S"
    assert xml_text(item, "e:SellingStatus/e:ListingStatus") == "Completed"


def test_a_fixed_price_item_is_listed_as_such(ebay: EbayDriver) -> None:
    listing = ebay.listing(listingType="FIXED_PRICE", startPrice="15.99")
    ebay.watch("buyer1", listing["itemId"])

    item = xml_root(ebay.trading(ebay.user_token("buyer1"))).find(
        "e:WatchList/e:ItemArray/e:Item", {"e": NS}
    )

    assert xml_text(item, "e:ListingType") == "FixedPriceItem"
    assert xml_text(item, "e:SellingStatus/e:CurrentPrice") == "15.99"
    assert item.find("e:SellingStatus/e:MinimumToBid", {"e": NS}) is None


def test_include_false_leaves_the_watch_list_out(ebay: EbayDriver) -> None:
    body = watch_list_request().replace(
        b"<Include>true</Include>", b"<Include>false</Include>"
    )

    root = xml_root(ebay.trading(ebay.user_token("buyer1"), body))

    assert xml_text(root, "e:Ack") == "Success"
    assert root.find("e:WatchList", {"e": NS}) is None


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (None, "930"),
        ("v^1.1#i^1#not-a-token", "21916984"),
    ],
)
def test_a_missing_or_unknown_iaf_token_fails_with_ebays_code(
    ebay: EbayDriver, token: str | None, code: str
) -> None:
    response = ebay.trading(token)

    assert response.status_code == 200
    assert trading_error_code(response) == code


def test_an_auth_n_auth_token_in_the_body_is_refused_with_931(ebay: EbayDriver) -> None:
    body = watch_list_request().replace(
        b"<WatchList>",
        b"<RequesterCredentials><eBayAuthToken>AgAAAA**legacy</eBayAuthToken>"
        b"</RequesterCredentials><WatchList>",
    )

    assert trading_error_code(ebay.trading(None, body=body)) == "931"


def test_a_failure_carries_ebays_error_fields(ebay: EbayDriver) -> None:
    root = xml_root(ebay.trading("bogus"))

    errors = root.find("e:Errors", {"e": NS})
    assert xml_text(errors, "e:ShortMessage") == "Invalid IAF token."
    assert xml_text(errors, "e:LongMessage")
    assert xml_text(errors, "e:SeverityCode") == "Error"
    assert xml_text(errors, "e:ErrorClassification") == "RequestError"
    assert root.tag == f"{{{NS}}}GetMyeBayBuyingResponse"


def test_the_compatibility_level_header_is_required(ebay: EbayDriver) -> None:
    response = ebay.trading(ebay.user_token("buyer1"), compatibility=None)

    assert trading_error_code(response) == "10012"


def test_an_unknown_call_name_is_refused(ebay: EbayDriver) -> None:
    response = ebay.trading(ebay.user_token("buyer1"), call_name="PlaceOffer")

    assert trading_error_code(response) == "2"
    assert "PlaceOffer" in (
        xml_text(xml_root(response), "e:Errors/e:LongMessage") or ""
    )


def test_malformed_xml_is_refused(ebay: EbayDriver) -> None:
    response = ebay.trading(ebay.user_token("buyer1"), body=b"<GetMyeBayBuyingRequest")

    assert trading_error_code(response) == "5"


def test_a_request_outside_ebays_namespace_is_refused(ebay: EbayDriver) -> None:
    body = b"<GetMyeBayBuyingRequest><WatchList/></GetMyeBayBuyingRequest>"

    assert trading_error_code(ebay.trading(ebay.user_token("buyer1"), body=body)) == "5"
