"""Buy Offer API (`/buy/offer/v1_beta/bidding/...`): place a proxy bid, read bidding."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from local.ebay_emulator import auction
from local.ebay_emulator.api.common import Refusal, emulator, require_token, rest_error
from local.ebay_emulator.auction import BidRefusal, BidRefused, Listing
from local.ebay_emulator.money import MoneyError, amount, parse_decimal_amount
from local.ebay_emulator.oauth import BID_SCOPE
from local.ebay_emulator.state import UnknownItemError
from local.ebay_emulator.timefmt import format_timestamp

MARKETPLACES = frozenset(
    f"EBAY_{code}" for code in ("AU", "CA", "DE", "ES", "FR", "GB", "IT", "US")
)

# Descriptions from offer.yaml; `{item_id}` is filled in where eBay names the item.
MESSAGES: dict[int, str] = {
    120001: "The item ID {item_id} was not found. Check that this is an active auction"
    " item ID.",
    120002: "The auction was ended because the item was purchased with Buy It Now"
    " (fixed_price).",
    120003: "A seller cannot place a bid.",
    120005: "The bid price cannot be greater than the Buy It Now price.",
    120008: "The bid amount is too low.",
    120009: "The bid currency needs to match the item price currency.",
    120010: "You cannot lower your proxy bid.",
    120012: "The auction has ended.",
    120013: "The bid amount is missing or invalid.",
    120014: "The bid currency is invalid. Refer to the documentation for a list of"
    " currency codes.",
    120015: "The X-EBAY-C-MARKETPLACE-ID header is missing. This is a required header.",
    120016: "The maximum bid amount is missing.",
    120017: "The Marketplace {marketplace_id} is not supported. Supported values are"
    " {allowed}.",
    120033: "There is no bidding activity for this auction (item ID {item_id}).",
}


def offer_error(status: int, error_id: int, **names: str) -> Refusal:
    category = "BUSINESS" if status == 409 else "REQUEST"
    message = MESSAGES[error_id].format(**names)
    parameters = {"itemId": names["item_id"]} if "item_id" in names else None
    return Refusal(
        rest_error(
            status,
            error_id=error_id,
            domain="API_OFFER",
            category=category,
            message=message,
            parameters=parameters,
        )
    )


def _check_marketplace(request: Request) -> None:
    marketplace = request.headers.get("x-ebay-c-marketplace-id")
    if not marketplace:
        raise offer_error(400, 120015)
    if marketplace not in MARKETPLACES:
        allowed = "[" + ", ".join(sorted(MARKETPLACES)) + "]"
        raise offer_error(400, 120017, marketplace_id=marketplace, allowed=allowed)


def _auction(request: Request, item_id: str) -> Listing:
    try:
        listing = emulator(request).listing(item_id)
    except UnknownItemError:
        raise offer_error(404, 120001, item_id=item_id) from None
    if not listing.is_auction or not item_id.startswith("v1|"):
        raise offer_error(404, 120001, item_id=item_id)
    return listing


async def _max_amount(request: Request) -> tuple[int, str]:
    """The `maxAmount` of the request body, in cents, with its currency."""
    if (
        request.headers.get("content-type", "").split(";")[0].strip()
        != "application/json"
    ):
        # eBay requires the header; its exact error here is undocumented.
        raise Refusal(
            rest_error(
                415,
                error_id=120013,
                domain="API_OFFER",
                category="REQUEST",
                message="The request must be application/json.",
            )
        )
    try:
        body: Any = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError:
        raise offer_error(400, 120013) from None
    max_amount = body.get("maxAmount") if isinstance(body, dict) else None
    if not isinstance(max_amount, dict) or "value" not in max_amount:
        raise offer_error(400, 120016)
    currency = max_amount.get("currency")
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isupper():
        raise offer_error(400, 120014)
    try:
        cents = parse_decimal_amount(str(max_amount["value"]))
    except MoneyError:
        raise offer_error(400, 120013) from None
    if cents <= 0:
        raise offer_error(400, 120013)
    return cents, currency


async def place_proxy_bid(request: Request) -> Response:
    state = emulator(request)
    item_id = request.path_params["item_id"]
    token = require_token(state, request, BID_SCOPE, user_only=True)
    _check_marketplace(request)
    max_cents, currency = await _max_amount(request)
    with state.lock:
        listing = _auction(request, item_id)
        try:
            bid = state.place_bid(
                listing.item_id, token.username or "", max_cents, currency
            )
        except BidRefused as refused:
            if refused.refusal is BidRefusal.NOT_AN_AUCTION:
                raise offer_error(404, 120001, item_id=item_id) from None
            raise offer_error(409, refused.refusal.value) from None
    return JSONResponse({"proxyBidId": bid.proxy_bid_id})


def _suggestions(listing: Listing) -> list[dict[str, str]]:
    """Three amounts from the minimum next bid upward, one increment apart."""
    suggestions = [auction.minimum_to_bid(listing)]
    for _ in range(2):
        suggestions.append(suggestions[-1] + auction.increment_for(suggestions[-1]))
    return [amount(cents, listing.currency) for cents in suggestions]


def bidding_body(listing: Listing, bidder: str, now: float) -> dict[str, Any]:
    """The `Bidding` document for one bidder; `highBidder` after the end means won."""
    current = auction.standing(listing)
    ended = listing.has_ended(now)
    own = [bid for bid in listing.accepted_bids if bid.bidder == bidder][-1]
    if ended:
        result = auction.outcome(listing, now)
        high_bidder = result is not None and result.winner == bidder
    else:
        high_bidder = current.leader == bidder
    body: dict[str, Any] = {
        "auctionEndDate": format_timestamp(listing.closes_at),
        "auctionStatus": "ENDED" if ended else "ACTIVE",
        "bidCount": current.bid_count,
        "currentPrice": amount(current.price_cents, listing.currency),
        "currentProxyBid": {
            "maxAmount": amount(own.max_cents, listing.currency),
            "proxyBidId": own.proxy_bid_id,
        },
        "highBidder": high_bidder,
        "itemId": listing.restful_id,
    }
    if listing.reserve_cents is not None:
        body["reservePriceMet"] = current.reserve_met
    if not ended:
        body["suggestedBidAmounts"] = _suggestions(listing)
    return body


async def get_bidding(request: Request) -> Response:
    state = emulator(request)
    item_id = request.path_params["item_id"]
    token = require_token(state, request, BID_SCOPE, user_only=True)
    _check_marketplace(request)
    with state.lock:
        listing = _auction(request, item_id)
        bidder = token.username or ""
        if not any(bid.bidder == bidder for bid in listing.accepted_bids):
            raise offer_error(404, 120033, item_id=item_id)
        body = bidding_body(listing, bidder, state.now())
    return JSONResponse(body)
