"""Browse API (`/buy/browse/v1/item/...`): a live listing as eBay's `Item`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from local.ebay_emulator import auction
from local.ebay_emulator.api.common import Refusal, emulator, require_token, rest_error
from local.ebay_emulator.auction import Listing
from local.ebay_emulator.money import amount
from local.ebay_emulator.oauth import PUBLIC_SCOPE
from local.ebay_emulator.state import EmulatorState, UnknownItemError
from local.ebay_emulator.timefmt import format_timestamp

CONDITION_IDS = {"New": "1000", "New other (see details)": "1500", "Used": "3000"}
# The site a listing in each currency lives on (euro listings: eBay Germany).
MARKETPLACE_OF_CURRENCY = {
    "USD": "EBAY_US",
    "GBP": "EBAY_GB",
    "CAD": "EBAY_CA",
    "AUD": "EBAY_AU",
    "EUR": "EBAY_DE",
}


def item_body(
    state: EmulatorState, listing: Listing, now: float, site_url: str
) -> dict[str, Any]:
    """The `Item` fields the sniper reads, shaped as browse.yaml defines them."""
    seller = state.ensure_user(listing.seller)
    bin_available = auction.buy_it_now_available(listing, now)
    current = auction.standing(listing)
    options = ["AUCTION"] if listing.is_auction else []
    if bin_available:
        options.append("FIXED_PRICE")
    price = current.price_cents
    if bin_available and listing.buy_it_now_cents is not None:
        price = listing.buy_it_now_cents
    body: dict[str, Any] = {
        "itemId": listing.restful_id,
        "legacyItemId": listing.item_id,
        "title": listing.title,
        "buyingOptions": options,
        "price": amount(price, listing.currency),
        "itemCreationDate": format_timestamp(listing.start_time),
        "itemEndDate": format_timestamp(listing.end_time),
        "condition": listing.condition,
        "image": {"imageUrl": listing.image_url},
        "seller": {
            "username": seller.username,
            "feedbackPercentage": seller.feedback_percentage,
            "feedbackScore": seller.feedback_score,
        },
        "itemWebUrl": f"{site_url}itm/{listing.item_id}",
        "listingMarketplaceId": MARKETPLACE_OF_CURRENCY.get(
            listing.currency, "EBAY_US"
        ),
    }
    if listing.condition in CONDITION_IDS:
        body["conditionId"] = CONDITION_IDS[listing.condition]
    if listing.is_auction:
        body["currentBidPrice"] = amount(current.price_cents, listing.currency)
        body["minimumPriceToBid"] = amount(
            auction.minimum_to_bid(listing), listing.currency
        )
        body["bidCount"] = current.bid_count
        body["uniqueBidderCount"] = len(current.bidders)
        if listing.reserve_cents is not None:
            body["reservePriceMet"] = current.reserve_met
    return body


def _not_found(error_id: int, message: str, name: str, value: str) -> Refusal:
    return Refusal(
        rest_error(
            404,
            error_id=error_id,
            domain="API_BROWSE",
            category="REQUEST",
            message=message,
            parameters={name: value},
        )
    )


def _live_item(
    request: Request, item_id: str, well_formed: bool, not_found: Refusal
) -> Response:
    """Answer with the item, or 404 once it is unknown or has ended (Browse serves
    only live listings)."""
    state = emulator(request)
    with state.lock:
        require_token(state, request, PUBLIC_SCOPE, user_only=False)
        if not well_formed:
            raise not_found
        try:
            listing = state.listing(item_id)
        except UnknownItemError:
            raise not_found from None
        now = state.now()
        if listing.has_ended(now):
            raise not_found
        body = item_body(state, listing, now, str(request.base_url))
    return JSONResponse(body)


async def get_item(request: Request) -> Response:
    item_id = request.path_params["item_id"]
    parts = item_id.split("|")
    not_found = _not_found(
        11001, "The specified item ID was not found.", "itemId", item_id
    )
    well_formed = len(parts) == 3 and parts[0] == "v1" and parts[1].isdigit()
    return _live_item(request, item_id, well_formed, not_found)


async def get_item_by_legacy_id(request: Request) -> Response:
    legacy = request.query_params.get("legacy_item_id", "")
    not_found = _not_found(
        11003, "The specified legacy item ID was not found.", "legacyItemId", legacy
    )
    return _live_item(request, legacy, legacy.isdigit(), not_found)
