"""A bare View Item page, so the `itemWebUrl` links of local data lead somewhere."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from local.ebay_emulator import auction
from local.ebay_emulator.api.common import emulator
from local.ebay_emulator.money import format_amount
from local.ebay_emulator.state import UnknownItemError
from local.ebay_emulator.timefmt import format_timestamp


async def view_item(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        try:
            listing = state.listing(request.path_params["item_id"])
        except UnknownItemError:
            return HTMLResponse(
                "<!doctype html><p>This listing does not exist.</p>", 404
            )
        now = state.now()
        current = auction.standing(listing)
        status = "ended" if listing.has_ended(now) else "live"
        rows = "".join(
            f"<li>{html.escape(bid.bidder)}: {format_amount(bid.max_cents)}"
            f" at {format_timestamp(bid.placed_at)}</li>"
            for bid in listing.accepted_bids
        )
        page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{html.escape(listing.title)}</title></head><body>
<h1>{html.escape(listing.title)}</h1>
<img src="{html.escape(listing.image_url or "")}" alt="" width="200">
<p>Item {listing.item_id} by {html.escape(listing.seller)} ({status},
ends {format_timestamp(listing.closes_at)})</p>
<p>Current price: {format_amount(current.price_cents)} {listing.currency},
{current.bid_count} bids</p>
<ul>{rows}</ul></body></html>"""
    return HTMLResponse(page)
