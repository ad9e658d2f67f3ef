"""What the admin API shows: listings with their standing and bids, users, apps."""

from __future__ import annotations

from typing import Any

from local.ebay_emulator import auction
from local.ebay_emulator.auction import Bid, Listing
from local.ebay_emulator.money import format_amount
from local.ebay_emulator.oauth import OAuthApp
from local.ebay_emulator.scripted import ScriptedBid
from local.ebay_emulator.state import EbayUser, EmulatorState
from local.ebay_emulator.timefmt import format_timestamp


def _decimal(cents: int | None) -> str | None:
    return None if cents is None else format_amount(cents)


def bid_view(bid: Bid) -> dict[str, Any]:
    return {
        "sequence": bid.sequence,
        "bidder": bid.bidder,
        "maxAmount": format_amount(bid.max_cents),
        "currency": bid.currency,
        "placedAt": format_timestamp(bid.placed_at),
        "accepted": bid.accepted,
        "proxyBidId": bid.proxy_bid_id,
        "errorId": bid.refusal.value if bid.refusal else None,
        "refusal": bid.refusal.name if bid.refusal else None,
        "source": bid.source,
    }


def listing_view(listing: Listing, now: float) -> dict[str, Any]:
    current = auction.standing(listing)
    result = auction.outcome(listing, now)
    return {
        "itemId": listing.item_id,
        "legacyItemId": listing.item_id,
        "restfulItemId": listing.restful_id,
        "title": listing.title,
        "seller": listing.seller,
        "listingType": listing.listing_type.value,
        "currency": listing.currency,
        "startPrice": format_amount(listing.start_price_cents),
        "reserve": _decimal(listing.reserve_cents),
        "buyItNow": _decimal(listing.buy_it_now_cents),
        "startTime": format_timestamp(listing.start_time),
        "endTime": format_timestamp(listing.closes_at),
        "status": "ENDED" if listing.has_ended(now) else "ACTIVE",
        "currentPrice": format_amount(current.price_cents),
        "minimumToBid": format_amount(auction.minimum_to_bid(listing)),
        "bidCount": current.bid_count,
        "uniqueBidderCount": len(current.bidders),
        "leader": current.leader,
        "reserveMet": current.reserve_met
        if listing.reserve_cents is not None
        else None,
        "buyItNowAvailable": auction.buy_it_now_available(listing, now),
        "boughtBy": listing.bought_by,
        "outcome": None
        if result is None
        else {
            "sold": result.sold,
            "winner": result.winner,
            "price": _decimal(result.price_cents),
        },
        "imageUrl": listing.image_url,
        "condition": listing.condition,
        "bids": [bid_view(bid) for bid in listing.bids],
    }


def scripted_bid_view(script: ScriptedBid, listing: Listing) -> dict[str, Any]:
    """A scripted bid: its moment (followed if the end moves, until it runs) and,
    once it ran, how it went and how late the emulator ran it."""
    moment = script.moment(listing)
    fired = script.fired_at
    return {
        "scriptId": script.script_id,
        "itemId": script.item_id,
        "bidder": script.bidder,
        "maxAmount": format_amount(script.max_cents),
        "currency": script.currency,
        "at": format_timestamp(moment),
        "epochSeconds": moment,
        "secondsBeforeEnd": script.seconds_before_end,
        "status": script.status.value,
        "firedAt": None if fired is None else format_timestamp(fired),
        "lateMs": None if fired is None else round((fired - moment) * 1000, 1),
        "proxyBidId": script.proxy_bid_id,
        "errorId": script.refusal.value if script.refusal else None,
        "refusal": script.refusal.name if script.refusal else None,
    }


def user_view(state: EmulatorState, user: EbayUser) -> dict[str, Any]:
    return {
        "username": user.username,
        "userId": user.user_id,
        "feedbackScore": user.feedback_score,
        "feedbackPercentage": user.feedback_percentage,
        "watchList": [item for item in user.watch_list if item in state.listings],
    }


def app_view(app: OAuthApp) -> dict[str, Any]:
    return {
        "clientId": app.client_id,
        "clientSecret": app.client_secret,
        "ruName": app.ru_name,
        "acceptUrl": app.accept_url,
        "rejectUrl": app.reject_url,
        "scopes": sorted(app.scopes),
    }


def clock_view(state: EmulatorState) -> dict[str, Any]:
    now = state.now()
    return {
        "now": format_timestamp(now),
        "epochSeconds": now,
        "offsetSeconds": state.clock.offset,
    }
