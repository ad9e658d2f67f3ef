"""The user's watch list through the Trading API (XML): ``GetMyeBayBuying``.

No REST API returns the watch list, so this one call speaks eBay's older XML
protocol with the user's OAuth token in ``X-EBAY-API-IAF-TOKEN``. Answers are
parsed with defusedxml and any DTD is refused: eBay never sends one, and a DTD
is how entity-expansion and external-entity attacks get in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from http import HTTPStatus
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from sniper.ebay.errors import (
    EbayAuthError,
    EbayError,
    EbayErrorDetail,
    EbayPermanentError,
    EbayRateLimited,
    EbayTransientError,
    redact_detail,
)
from sniper.ebay.http import EbayTransport, Timeout
from sniper.ebay.models import WatchedItem
from sniper.ebay.rest import build_error
from sniper.ebay.timestamps import unix_seconds
from sniper.money import Money
from sniper.observability import logger  # its formatter masks secrets

CALL_NAME = "GetMyeBayBuying"
COMPATIBILITY_LEVEL = "1475"
ENTRIES_PER_PAGE = 200  # the most Trading allows per page
MAX_PAGES = 25  # a watch list holds about 400 items; this only stops runaways
NAMESPACE = "urn:ebay:apis:eBLBaseComponents"

# Trading site ids of the marketplaces the Offer API serves.
SITE_IDS = {
    "EBAY_US": 0,
    "EBAY_CA": 2,
    "EBAY_GB": 3,
    "EBAY_AU": 15,
    "EBAY_FR": 71,
    "EBAY_DE": 77,
    "EBAY_IT": 101,
    "EBAY_ES": 186,
}

# Trading error codes that mean the user's token is unusable: 930 token missing,
# 931 invalid, 932 hard-expired, 17470 expired, 21916984 invalid IAF token,
# 21917053 expired IAF token, 21917055 revoked (from eBay's messages and
# captured answers; eBay publishes no complete list).
AUTH_ERROR_CODES = frozenset({930, 931, 932, 17470, 21916984, 21917053, 21917055})
CALL_LIMIT_ERROR_CODE = 518
INTERNAL_ERROR_CODE = 10007
_SUCCESS_ACKS = frozenset({"Success", "Warning"})


@dataclass(frozen=True, slots=True)
class WatchListPage:
    """One page of the watch list and the totals eBay reports."""

    items: tuple[WatchedItem, ...]
    total_pages: int
    total_entries: int


def get_watch_list(
    transport: EbayTransport,
    trading_url: str,
    access_token: str,
    *,
    marketplace_id: str = "EBAY_US",
    timeout: Timeout | None = None,
) -> list[WatchedItem]:
    """Every item on the user's watch list, all pages, each item once."""
    site_id = SITE_IDS.get(marketplace_id, 0)
    first = _fetch_page(transport, trading_url, access_token, 1, site_id, timeout)
    pages = [first]
    last_page = min(first.total_pages, MAX_PAGES)
    if first.total_pages > MAX_PAGES:
        logger.warning(
            "watch list reports %d pages; reading the first %d",
            first.total_pages,
            MAX_PAGES,
        )
    for number in range(2, last_page + 1):
        page = _fetch_page(
            transport, trading_url, access_token, number, site_id, timeout
        )
        if not page.items:
            break
        pages.append(page)
    seen: dict[str, WatchedItem] = {}
    for page in pages:
        for item in page.items:
            # The list can change between pages: keep the first sighting.
            seen.setdefault(item.item_id, item)
    return list(seen.values())


def _fetch_page(
    transport: EbayTransport,
    trading_url: str,
    access_token: str,
    page_number: int,
    site_id: int,
    timeout: Timeout | None,
) -> WatchListPage:
    response = transport.send(
        "POST",
        trading_url,
        headers={
            "X-EBAY-API-CALL-NAME": CALL_NAME,
            "X-EBAY-API-SITEID": str(site_id),
            "X-EBAY-API-COMPATIBILITY-LEVEL": COMPATIBILITY_LEVEL,
            "X-EBAY-API-IAF-TOKEN": access_token,
            "Content-Type": "text/xml",
        },
        content=watch_list_request(page_number),
        timeout=timeout,
    )
    if response.status_code >= HTTPStatus.INTERNAL_SERVER_ERROR or (
        response.status_code == HTTPStatus.TOO_MANY_REQUESTS
    ):
        raise build_error(response, [], secrets=(access_token,))
    try:
        return parse_watch_list_page(response.content, secrets=(access_token,))
    except EbayError as error:
        if error.http_status is None:
            error.http_status = response.status_code
        raise


def watch_list_request(page_number: int) -> bytes:
    """The ``GetMyeBayBuyingRequest`` for one page of the watch list."""
    if page_number < 1:
        raise ValueError("pages are numbered from 1")
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<GetMyeBayBuyingRequest xmlns="{NAMESPACE}">'
        "<WatchList><Include>true</Include><Pagination>"
        f"<EntriesPerPage>{ENTRIES_PER_PAGE}</EntriesPerPage>"
        f"<PageNumber>{page_number}</PageNumber>"
        "</Pagination></WatchList></GetMyeBayBuyingRequest>"
    ).encode()


def parse_watch_list_page(
    content: bytes, *, secrets: tuple[str, ...] = ()
) -> WatchListPage:
    """Read one ``GetMyeBayBuyingResponse``; ``Failure``/``PartialFailure``
    raise the error eBay named, ``Warning`` counts as success."""
    root = parse_xml(content)
    ack = _text(root, "Ack")
    if ack not in _SUCCESS_ACKS:
        raise trading_error(root, ack, secrets=secrets)
    watch_list = _child(root, "WatchList")
    if watch_list is None:
        return WatchListPage(items=(), total_pages=0, total_entries=0)
    item_array = _child(watch_list, "ItemArray")
    items = (
        tuple(_watched_item(item) for item in _children(item_array, "Item"))
        if item_array is not None
        else ()
    )
    pagination = _child(watch_list, "PaginationResult")
    if pagination is None:  # a single page
        return WatchListPage(items=items, total_pages=1, total_entries=len(items))
    return WatchListPage(
        items=items,
        total_pages=_int(_text(pagination, "TotalNumberOfPages")) or 0,
        total_entries=_int(_text(pagination, "TotalNumberOfEntries")) or 0,
    )


def parse_xml(content: bytes) -> Element:
    """Parse eBay's XML, refusing DTDs and entities; namespaces are dropped so
    lookups use eBay's plain element names."""
    try:
        root: Element = fromstring(
            content, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        raise EbayPermanentError(
            f"refused eBay's XML: it declares {type(exc).__name__}"
        ) from None
    except ParseError as exc:
        raise EbayPermanentError(f"eBay's answer is not XML ({exc})") from None
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = element.tag.split("}", 1)[1]
    return root


def trading_error(
    root: Element, ack: str | None, *, secrets: tuple[str, ...] = ()
) -> EbayError:
    """The typed error for a failed Trading answer, from its ``Errors``."""
    details = [redact_detail(_error_detail(e), secrets) for e in _errors(root)]
    errors_first = [d for d in details if d.category != "Warning"] or details
    first = errors_first[0] if errors_first else None
    message = (
        first.long_message or first.message
        if first
        else f"eBay's Trading answer says {ack or 'nothing'}"
    )
    error_id = first.error_id if first else None
    cls: type[EbayError]
    if error_id in AUTH_ERROR_CODES:
        cls = EbayAuthError
    elif error_id == CALL_LIMIT_ERROR_CODE:
        cls = EbayRateLimited
    elif error_id == INTERNAL_ERROR_CODE:
        cls = EbayTransientError
    else:
        cls = EbayPermanentError
    return cls(message.strip(), error_id=error_id, details=details)


def _errors(root: Element) -> Iterator[Element]:
    return _children(root, "Errors")


def _error_detail(element: Element) -> EbayErrorDetail:
    code = _text(element, "ErrorCode")
    error_id: int | str | None = int(code) if code and code.isdigit() else code
    parameters = tuple(
        (parameter.get("ParamID", ""), _text(parameter, "Value") or "")
        for parameter in _children(element, "ErrorParameters")
    )
    return EbayErrorDetail(
        error_id=error_id,
        message=_text(element, "ShortMessage") or "",
        long_message=_text(element, "LongMessage"),
        domain=_text(element, "ErrorClassification"),
        category=_text(element, "SeverityCode"),
        parameters=parameters,
    )


def _watched_item(element: Element) -> WatchedItem:
    item_id = _text(element, "ItemID")
    if not item_id:
        raise EbayPermanentError("a watch-list item has no ItemID")
    selling = _child(element, "SellingStatus")
    listing = _child(element, "ListingDetails")
    pictures = _child(element, "PictureDetails")
    seller = _child(element, "Seller")
    end_time = _text(listing, "EndTime")
    buy_it_now = _money(_child(element, "BuyItNowPrice"))
    try:
        return WatchedItem(
            item_id=item_id,
            title=_text(element, "Title") or "",
            listing_type=_text(element, "ListingType") or "Unknown",
            current_price=_money(_child(selling, "CurrentPrice")),
            bid_count=_int(_text(selling, "BidCount")) or 0,
            minimum_to_bid=_money(_child(selling, "MinimumToBid")),
            end_time=unix_seconds(end_time) if end_time else None,
            gallery_url=_text(pictures, "GalleryURL"),
            # eBay writes 0.0 when a listing has no Buy It Now price.
            buy_it_now_price=buy_it_now if buy_it_now and buy_it_now.cents else None,
            time_left=_text(element, "TimeLeft"),
            seller_id=_text(seller, "UserID"),
            view_item_url=_text(listing, "ViewItemURL"),
        )
    except ValueError as exc:
        raise EbayPermanentError(
            f"watch-list item {item_id} is malformed: {exc}"
        ) from None


def _money(element: Element | None) -> Money | None:
    if element is None or not (element.text or "").strip():
        return None
    currency = element.get("currencyID")
    if not currency:
        raise ValueError(f"{element.tag} has no currencyID")
    return Money.parse((element.text or "").strip(), currency)


def _child(element: Element | None, name: str) -> Element | None:
    return element.find(name) if element is not None else None


def _children(element: Element | None, name: str) -> Iterator[Element]:
    return iter(element.findall(name)) if element is not None else iter(())


def _text(element: Element | None, name: str) -> str | None:
    child = _child(element, name)
    if child is None or child.text is None:
        return None
    return child.text.strip() or None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise EbayPermanentError(
            f"eBay sent {value!r} where a number belongs"
        ) from None
