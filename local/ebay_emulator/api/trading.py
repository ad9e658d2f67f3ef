"""Trading API (`POST /ws/api.dll`): `GetMyeBayBuying`, the watch list, in XML.

Trading answers HTTP 200 even when it fails: `Ack` says `Failure` and `Errors` say
why, with eBay's real error codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml.ElementTree import fromstring
from starlette.requests import Request
from starlette.responses import Response

from local.ebay_emulator import auction
from local.ebay_emulator.api.common import emulator
from local.ebay_emulator.auction import Listing
from local.ebay_emulator.money import format_trading_amount
from local.ebay_emulator.oauth import TokenKind
from local.ebay_emulator.state import EmulatorState
from local.ebay_emulator.timefmt import format_duration, format_timestamp

NS = "urn:ebay:apis:eBLBaseComponents"
SERVED_VERSION = "1475"
DEFAULT_ENTRIES = 25
MAX_ENTRIES = 200
SUPPORTED_CALLS = frozenset({"GetMyeBayBuying"})


@dataclass(frozen=True)
class TradingError:
    code: str
    short: str
    long: str
    classification: str = "RequestError"


NO_TOKEN = TradingError(
    "930",
    "No Password and no token.",
    "No XML <RequestPassword> or <RequestToken> was found in XML Request.",
)
INVALID_AUTH_TOKEN = TradingError(
    "931",
    "Auth token is invalid.",
    "Validation of the authentication token in API request failed.",
)
INVALID_IAF = TradingError(
    "21916984", "Invalid IAF token.", "IAF token supplied is invalid. "
)
EXPIRED_IAF = TradingError(
    "21917053", "Expired IAF token.", "IAF token supplied is expired. "
)
PARSE_ERROR = TradingError("5", "XML Parse error.", 'XML Error Text: "{detail}".')
INTERNAL_ERROR = TradingError(
    "10007",
    "Internal error to the application.",
    "System error. Unable to process your request. Please try again later.",
    "SystemError",
)
USAGE_LIMIT = TradingError(
    "518",
    "Call usage limit has been reached.",
    "Your application has exceeded usage limit on this call, please make call to"
    " Developer Analytics API to check your call usage.",
)


def _unsupported_call(name: str) -> TradingError:
    return TradingError(
        "2",
        "Unsupported API call.",
        f'The API call "{name}" is invalid or not supported in this release.',
    )


def _bad_compatibility(value: str) -> TradingError:
    return TradingError(
        "10012",
        'Invalid value for header "X-EBAY-API-COMPATIBILITY-LEVEL".',
        f'Header "X-EBAY-API-COMPATIBILITY-LEVEL" with value "{value}" is out of'
        " range.",
    )


def _envelope(call_name: str, now: float, ack: str) -> Element:
    root = Element(f"{call_name}Response", {"xmlns": NS})
    SubElement(root, "Timestamp").text = format_timestamp(now)
    SubElement(root, "Ack").text = ack
    return root


def _versioned(root: Element) -> Element:
    SubElement(root, "Version").text = SERVED_VERSION
    SubElement(root, "Build").text = f"E{SERVED_VERSION}_CORE_API_EMULATOR"
    return root


def xml_response(root: Element, status: int = 200) -> Response:
    text = '<?xml version="1.0" encoding="UTF-8"?>\n' + tostring(
        root, encoding="unicode"
    )
    return Response(text, status_code=status, media_type="text/xml;charset=UTF-8")


def failure(
    call_name: str, now: float, error: TradingError, status: int = 200
) -> Response:
    """A `Failure` response carrying one error, as eBay sends it."""
    root = _envelope(call_name, now, "Failure")
    errors = SubElement(root, "Errors")
    SubElement(errors, "ShortMessage").text = error.short
    SubElement(errors, "LongMessage").text = error.long
    SubElement(errors, "ErrorCode").text = error.code
    SubElement(errors, "SeverityCode").text = "Error"
    SubElement(errors, "ErrorClassification").text = error.classification
    return xml_response(_versioned(root), status)


def _money(parent: Element, name: str, cents: int, currency: str) -> None:
    SubElement(parent, name, {"currencyID": currency}).text = format_trading_amount(
        cents
    )


def _item(parent: Element, state: EmulatorState, listing: Listing, now: float) -> None:
    current = auction.standing(listing)
    item = SubElement(parent, "Item")
    if auction.buy_it_now_available(listing, now) and listing.buy_it_now_cents:
        _money(item, "BuyItNowPrice", listing.buy_it_now_cents, listing.currency)
    SubElement(item, "ItemID").text = listing.item_id
    details = SubElement(item, "ListingDetails")
    SubElement(details, "StartTime").text = format_timestamp(listing.start_time)
    SubElement(details, "EndTime").text = format_timestamp(listing.closes_at)
    SubElement(item, "ListingType").text = (
        "Chinese" if listing.is_auction else "FixedPriceItem"
    )
    seller = state.ensure_user(listing.seller)
    seller_element = SubElement(item, "Seller")
    SubElement(seller_element, "UserID").text = seller.username
    SubElement(seller_element, "FeedbackScore").text = str(seller.feedback_score)
    status = SubElement(item, "SellingStatus")
    _money(status, "CurrentPrice", current.price_cents, listing.currency)
    if listing.is_auction:
        SubElement(status, "BidCount").text = str(current.bid_count)
        _money(
            status, "MinimumToBid", auction.minimum_to_bid(listing), listing.currency
        )
        if listing.reserve_cents is not None:
            SubElement(status, "ReserveMet").text = str(current.reserve_met).lower()
    ended = listing.has_ended(now)
    SubElement(status, "ListingStatus").text = "Completed" if ended else "Active"
    SubElement(item, "TimeLeft").text = format_duration(
        0 if ended else listing.end_time - now
    )
    SubElement(item, "Title").text = listing.title
    pictures = SubElement(item, "PictureDetails")
    SubElement(pictures, "GalleryURL").text = listing.image_url


def _count(root: Element, path: str, default: int) -> int:
    element = root.find(path, {"e": NS})
    text = (element.text or "").strip() if element is not None else ""
    return int(text) if text.isdigit() else default


def watch_list_response(
    state: EmulatorState, username: str, request_root: Element, now: float
) -> Response:
    """One page of the user's watch list (200 entries at most per page)."""
    root = _envelope("GetMyeBayBuying", now, "Success")
    _versioned(root)
    include = request_root.find("e:WatchList/e:Include", {"e": NS})
    if include is not None and (include.text or "").strip().lower() == "false":
        return xml_response(root)
    pagination_path = "e:WatchList/e:Pagination/"
    per_page = _count(
        request_root, pagination_path + "e:EntriesPerPage", DEFAULT_ENTRIES
    )
    per_page = min(max(per_page, 1), MAX_ENTRIES)
    page = max(_count(request_root, pagination_path + "e:PageNumber", 1), 1)
    listings = state.watched_listings(username)
    shown = listings[(page - 1) * per_page : page * per_page]
    watch_list = SubElement(root, "WatchList")
    if shown:
        items = SubElement(watch_list, "ItemArray")
        for listing in shown:
            _item(items, state, listing, now)
    pagination = SubElement(watch_list, "PaginationResult")
    SubElement(pagination, "TotalNumberOfPages").text = str(
        math.ceil(len(listings) / per_page)
    )
    SubElement(pagination, "TotalNumberOfEntries").text = str(len(listings))
    return xml_response(root)


def _caller(
    state: EmulatorState, request: Request, request_root: Element, now: float
) -> str | TradingError:
    """The username behind the IAF token, or the Trading error that refuses it."""
    value = request.headers.get("x-ebay-api-iaf-token", "").strip()
    if not value:
        # An Auth'n'Auth token in the body: the emulator issues none, so none is valid.
        legacy = request_root.find("e:RequesterCredentials/e:eBayAuthToken", {"e": NS})
        return NO_TOKEN if legacy is None else INVALID_AUTH_TOKEN
    token = state.tokens.live_token(value, now)
    if token is None:
        known = state.tokens.describe(value)
        expired = known is not None and known.kind is TokenKind.USER
        return EXPIRED_IAF if expired else INVALID_IAF
    if token.kind is not TokenKind.USER or token.username not in state.users:
        return INVALID_IAF
    return token.username


def _parse(call_name: str, body: bytes) -> Element | TradingError:
    """The request document, which must be `<CallNameRequest>` in eBay's namespace."""
    try:
        root: Element = fromstring(body)
    except (ParseError, ValueError) as error:  # defusedxml refusals are ValueErrors
        return TradingError(
            "5", PARSE_ERROR.short, PARSE_ERROR.long.format(detail=error)
        )
    if root.tag != f"{{{NS}}}{call_name}Request":
        detail = PARSE_ERROR.long.format(detail=f"unexpected root {root.tag}")
        return TradingError("5", PARSE_ERROR.short, detail)
    return root


async def trading_call(request: Request) -> Response:
    state = emulator(request)
    call_name = request.headers.get("x-ebay-api-call-name", "").strip()
    body = await request.body()
    with state.lock:
        now = state.now()
        if call_name not in SUPPORTED_CALLS:
            return failure(call_name or "Generic", now, _unsupported_call(call_name))
        level = request.headers.get("x-ebay-api-compatibility-level", "").strip()
        if not level.isdigit():
            return failure(call_name, now, _bad_compatibility(level or "(null)"))
        request_root = _parse(call_name, body)
        if isinstance(request_root, TradingError):
            return failure(call_name, now, request_root)
        caller = _caller(state, request, request_root, now)
        if isinstance(caller, TradingError):
            return failure(call_name, now, caller)
        return watch_list_response(state, caller, request_root, now)
