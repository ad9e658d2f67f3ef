"""The admin API under `/__admin/`: set up scenarios, inspect them, inject faults.

No eBay path starts with `/__admin/`, and faults never apply here, so a scenario
script can always reach the emulator. Amounts: integers are cents, strings are
decimals; responses write decimals ("20.50").
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.ebay_emulator.api.admin_models import (
    ClockChange,
    ListingChange,
    NewApp,
    NewFault,
    NewListing,
    NewScriptedBid,
    NewUser,
    Purchase,
    RivalBid,
    TokenRequest,
    UserChange,
    WatchItem,
    optional_cents,
    stated_currency,
    to_cents,
)
from local.ebay_emulator.api.admin_views import (
    app_view,
    clock_view,
    listing_view,
    scripted_bid_view,
    user_view,
)
from local.ebay_emulator.api.common import emulator
from local.ebay_emulator.api.token import grant_body
from local.ebay_emulator.auction import BidRefused
from local.ebay_emulator.faults import Fault
from local.ebay_emulator.money import MoneyError
from local.ebay_emulator.oauth import OAuthApp
from local.ebay_emulator.scripted import (
    LateScriptError,
    ScriptStatus,
    UnknownScriptError,
)
from local.ebay_emulator.state import (
    EmulatorState,
    UnknownItemError,
    UnknownUserError,
)
from local.ebay_emulator.timefmt import (
    parse_timestamp,
    round_to_millis,
)

Model = TypeVar("Model", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]


class AdminError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"error": message, **extra}


def admin_errors(handler: Handler) -> Handler:
    """Turn bad input and unknown ids into JSON 400/404 answers."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except AdminError as error:
            return JSONResponse(error.body, status_code=error.status)
        except ValidationError as error:
            problems = [
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()
            ]
            return JSONResponse({"error": "; ".join(problems)}, status_code=400)
        except UnknownItemError as error:
            return JSONResponse(
                {"error": f"no listing {error.args[0]}"}, status_code=404
            )
        except UnknownUserError as error:
            return JSONResponse({"error": f"no user {error.args[0]}"}, status_code=404)
        except UnknownScriptError as error:
            return JSONResponse(
                {"error": f"no scripted bid {error.args[0]}"}, status_code=404
            )
        except (MoneyError, ValueError) as error:
            return JSONResponse({"error": str(error)}, status_code=400)

    return wrapped


async def body_as(request: Request, model: type[Model]) -> Model:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except json.JSONDecodeError as error:
        raise AdminError(400, f"the body is not JSON: {error}") from None
    return model.model_validate(data)


@admin_errors
async def reset(request: Request) -> Response:
    emulator(request).reset()
    return JSONResponse({"reset": True})


@admin_errors
async def read_clock(request: Request) -> Response:
    return JSONResponse(clock_view(emulator(request)))


@admin_errors
async def advance_clock(request: Request) -> Response:
    change = await body_as(request, ClockChange)
    state = emulator(request)
    state.clock.advance(change.advance_seconds)
    return JSONResponse(clock_view(state))


def _end_time(
    state: EmulatorState, ends_in: float | None, end_time: str | None
) -> float | None:
    if ends_in is not None and end_time is not None:
        raise AdminError(400, "give endsInSeconds or endTime, not both")
    if end_time is not None:
        return parse_timestamp(end_time)
    return None if ends_in is None else state.now() + ends_in


@admin_errors
async def create_listing(request: Request) -> Response:
    spec = await body_as(request, NewListing)
    stated = stated_currency(spec.start_price, spec.reserve, spec.buy_it_now)
    if stated is not None and stated != spec.currency:
        raise AdminError(400, f"amounts in {stated} on a listing in {spec.currency}")
    state = emulator(request)
    with state.lock:
        end_time = _end_time(state, spec.ends_in_seconds, spec.end_time)
        listing = state.create_listing(
            title=spec.title,
            seller=spec.seller,
            listing_type=spec.listing_type,
            currency=spec.currency,
            start_price_cents=to_cents(spec.start_price),
            reserve_cents=optional_cents(spec.reserve),
            buy_it_now_cents=optional_cents(spec.buy_it_now),
            end_time=end_time,
            image_url=spec.image_url,
            condition=spec.condition,
        )
        return JSONResponse(listing_view(listing, state.now()), status_code=201)


@admin_errors
async def list_listings(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        now = state.now()
        return JSONResponse(
            [listing_view(item, now) for item in state.listings.values()]
        )


@admin_errors
async def read_listing(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        listing = state.listing(request.path_params["item_id"])
        return JSONResponse(listing_view(listing, state.now()))


@admin_errors
async def change_listing(request: Request) -> Response:
    change = await body_as(request, ListingChange)
    state = emulator(request)
    with state.lock:
        listing = state.listing(request.path_params["item_id"])
        end_time = _end_time(state, change.ends_in_seconds, change.end_time)
        if end_time is not None:
            if end_time <= listing.start_time:
                raise AdminError(400, "a listing must end after it starts")
            listing.end_time = round_to_millis(end_time)
        return JSONResponse(listing_view(listing, state.now()))


@admin_errors
async def add_bid(request: Request) -> Response:
    """A rival's bid, through exactly the rules an Offer API bid meets."""
    spec = await body_as(request, RivalBid)
    state = emulator(request)
    with state.lock:
        listing = state.listing(request.path_params["item_id"])
        currency = spec.currency or stated_currency(spec.max_amount) or listing.currency
        try:
            bid = state.place_bid(
                listing.item_id,
                spec.bidder,
                to_cents(spec.max_amount),
                currency,
                "admin",
            )
        except BidRefused as refused:
            raise AdminError(
                409,
                refused.refusal.name,
                errorId=refused.refusal.value,
                listing=listing_view(listing, state.now()),
            ) from None
        view = listing_view(listing, state.now())
    return JSONResponse(
        {"proxyBidId": bid.proxy_bid_id, "listing": view}, status_code=201
    )


@admin_errors
async def script_bid(request: Request) -> Response:
    """A rival's bid at a moment, placed then through the Offer API's rules."""
    spec = await body_as(request, NewScriptedBid)
    at = parse_timestamp(spec.at) if isinstance(spec.at, str) else spec.at
    if at is not None and not math.isfinite(at):
        raise AdminError(400, "at must be a finite number of Unix seconds")
    state = emulator(request)
    with state.lock:
        listing = state.listing(request.path_params["item_id"])
        try:
            script = state.script_bid(
                listing.item_id,
                spec.bidder,
                to_cents(spec.max_amount),
                spec.currency or stated_currency(spec.max_amount),
                at=at,
                seconds_before_end=spec.seconds_before_end,
            )
        except LateScriptError as late:
            raise AdminError(
                409,
                late.refusal.name,
                errorId=late.refusal.value,
                listing=listing_view(listing, state.now()),
            ) from None
        return JSONResponse(scripted_bid_view(script, listing), status_code=201)


@admin_errors
async def list_scripted_bids(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        listing = state.listing(request.path_params["item_id"])
        scripts = state.scripted_bids(listing.item_id)
        return JSONResponse([scripted_bid_view(s, listing) for s in scripts])


@admin_errors
async def cancel_scripted_bid(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        listing = state.listing(request.path_params["item_id"])
        script = state.scripted_bid(listing.item_id, request.path_params["script_id"])
        if script.status is not ScriptStatus.PENDING:
            raise AdminError(
                409,
                f"the scripted bid already ran ({script.status.value})",
                scriptedBid=scripted_bid_view(script, listing),
            )
        state.cancel_scripted_bid(listing.item_id, script.script_id)
        return JSONResponse(scripted_bid_view(script, listing))


@admin_errors
async def purchase(request: Request) -> Response:
    spec = await body_as(request, Purchase)
    state = emulator(request)
    with state.lock:
        listing = state.buy_now(request.path_params["item_id"], spec.buyer)
        return JSONResponse(listing_view(listing, state.now()))


@admin_errors
async def create_user(request: Request) -> Response:
    spec = await body_as(request, NewUser)
    state = emulator(request)
    with state.lock:
        user = state.ensure_user(spec.username)
        if spec.feedback_score is not None:
            user.feedback_score = spec.feedback_score
        if spec.feedback_percentage is not None:
            user.feedback_percentage = spec.feedback_percentage
        return JSONResponse(user_view(state, user), status_code=201)


@admin_errors
async def read_user(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        return JSONResponse(
            user_view(state, state.user(request.path_params["username"]))
        )


@admin_errors
async def rename_user(request: Request) -> Response:
    change = await body_as(request, UserChange)
    state = emulator(request)
    with state.lock:
        user = state.rename_user(request.path_params["username"], change.username)
        return JSONResponse(user_view(state, user))


@admin_errors
async def read_watch_list(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        now = state.now()
        listings = state.watched_listings(request.path_params["username"])
        return JSONResponse([listing_view(item, now) for item in listings])


@admin_errors
async def watch(request: Request) -> Response:
    spec = await body_as(request, WatchItem)
    state = emulator(request)
    with state.lock:
        username = request.path_params["username"]
        state.watch(username, spec.item_id)
        return JSONResponse(user_view(state, state.user(username)), status_code=201)


@admin_errors
async def unwatch(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        username = request.path_params["username"]
        state.unwatch(username, request.path_params["item_id"])
        return JSONResponse(user_view(state, state.user(username)))


@admin_errors
async def issue_tokens(request: Request) -> Response:
    spec = await body_as(request, TokenRequest)
    state = emulator(request)
    with state.lock:
        scopes = frozenset(spec.scopes) if spec.scopes is not None else None
        grant = state.issue_user_tokens(
            request.path_params["username"], scopes, spec.client_id
        )
        return JSONResponse(grant_body(grant, state.now()), status_code=201)


@admin_errors
async def issued_secrets(request: Request) -> Response:
    """Every code and token issued so far, by kind: leak tests search for them.

    Only an emulator can tell this; a test that greps logs for secrets it cannot
    name proves nothing.
    """
    state = emulator(request)
    with state.lock:
        tokens = state.tokens
        return JSONResponse(
            {
                "codes": sorted(tokens.codes),
                "tokens": [
                    {"kind": token.kind.value, "value": token.value}
                    for token in tokens.tokens.values()
                ],
            }
        )


@admin_errors
async def list_apps(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        return JSONResponse([app_view(app) for app in state.apps.values()])


@admin_errors
async def register_app(request: Request) -> Response:
    spec = await body_as(request, NewApp)
    state = emulator(request)
    defaults = OAuthApp()
    app = OAuthApp(
        client_id=spec.client_id,
        client_secret=spec.client_secret,
        ru_name=spec.ru_name,
        accept_url=spec.accept_url,
        reject_url=spec.reject_url,
        scopes=frozenset(spec.scopes) if spec.scopes is not None else defaults.scopes,
    )
    return JSONResponse(app_view(state.register_app(app)), status_code=201)


@admin_errors
async def list_faults(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        return JSONResponse([fault.to_json() for fault in state.faults.faults])


@admin_errors
async def add_fault(request: Request) -> Response:
    spec = await body_as(request, NewFault)
    state = emulator(request)
    if spec.path_prefix.startswith("/__admin"):
        raise AdminError(400, "the admin API cannot be faulted")
    # Neither count nor rate: the next matching call. A rate alone: until removed.
    remaining = (
        spec.count if spec.count is not None else (None if spec.rate is not None else 1)
    )
    window = [
        parse_timestamp(moment) if isinstance(moment, str) else moment
        for moment in (spec.active_from, spec.active_until)
    ]
    if any(moment is not None and not math.isfinite(moment) for moment in window):
        raise AdminError(400, "activeFrom and activeUntil must be finite instants")
    # A window alone (no count, no rate) lasts as long as the window.
    if spec.count is None and spec.rate is None and window[1] is not None:
        remaining = None
    with state.lock:
        fault = Fault(
            fault_id=state.faults.next_id(),
            kind=spec.kind,
            path_prefix=spec.path_prefix,
            method=spec.method,
            remaining=remaining,
            rate=spec.rate if spec.rate is not None else 1.0,
            seed=spec.seed,
            delay_ms=spec.delay_ms,
            status=spec.status,
            retry_after=spec.retry_after,
            hold_seconds=spec.hold_seconds,
            processed=spec.processed,
            active_from=window[0],
            active_until=window[1],
        )
        state.faults.add(fault)
        return JSONResponse(fault.to_json(), status_code=201)


@admin_errors
async def clear_faults(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        state.faults.clear()
    return JSONResponse({"faults": []})


@admin_errors
async def read_journal(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        return JSONResponse(list(state.journal))


@admin_errors
async def clear_journal(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        state.journal.clear()
    return JSONResponse({"requests": []})


SCRIPTED = "/__admin/listings/{item_id}/scripted-bids"
ROUTES = [
    Route("/__admin/reset", reset, methods=["POST"]),
    Route("/__admin/clock", read_clock, methods=["GET"]),
    Route("/__admin/clock", advance_clock, methods=["POST"]),
    Route("/__admin/listings", list_listings, methods=["GET"]),
    Route("/__admin/listings", create_listing, methods=["POST"]),
    Route("/__admin/listings/{item_id}", read_listing, methods=["GET"]),
    Route("/__admin/listings/{item_id}", change_listing, methods=["PATCH"]),
    Route("/__admin/listings/{item_id}/bids", add_bid, methods=["POST"]),
    Route("/__admin/listings/{item_id}/purchase", purchase, methods=["POST"]),
    Route(SCRIPTED, script_bid, methods=["POST"]),
    Route(SCRIPTED, list_scripted_bids, methods=["GET"]),
    Route(SCRIPTED + "/{script_id}", cancel_scripted_bid, methods=["DELETE"]),
    Route("/__admin/users", create_user, methods=["POST"]),
    Route("/__admin/users/{username}", read_user, methods=["GET"]),
    Route("/__admin/users/{username}", rename_user, methods=["PATCH"]),
    Route("/__admin/users/{username}/watchlist", read_watch_list, methods=["GET"]),
    Route("/__admin/users/{username}/watchlist", watch, methods=["POST"]),
    Route("/__admin/users/{username}/watchlist/{item_id}", unwatch, methods=["DELETE"]),
    Route("/__admin/users/{username}/tokens", issue_tokens, methods=["POST"]),
    Route("/__admin/oauth/issued", issued_secrets, methods=["GET"]),
    Route("/__admin/oauth/apps", list_apps, methods=["GET"]),
    Route("/__admin/oauth/apps", register_app, methods=["POST"]),
    Route("/__admin/faults", list_faults, methods=["GET"]),
    Route("/__admin/faults", add_fault, methods=["POST"]),
    Route("/__admin/faults", clear_faults, methods=["DELETE"]),
    Route("/__admin/requests", read_journal, methods=["GET"]),
    Route("/__admin/requests", clear_journal, methods=["DELETE"]),
]
