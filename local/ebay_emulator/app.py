"""The Starlette app: every eBay host's paths on one origin, plus `/__admin/`."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local.ebay_emulator.api import (
    admin,
    browse,
    consent,
    identity,
    item_page,
    notification,
    offer,
    token,
)
from local.ebay_emulator.api import trading as trading_api
from local.ebay_emulator.api.common import Refusal
from local.ebay_emulator.clock import Clock
from local.ebay_emulator.middleware import EmulatorMiddleware
from local.ebay_emulator.state import EmulatorState

OFFER = "/buy/offer/v1_beta/bidding/{item_id}"
EBAY_ROUTES = [
    Route("/oauth2/authorize", consent.show_consent, methods=["GET"]),
    Route("/oauth2/authorize", consent.submit_consent, methods=["POST"]),
    Route("/identity/v1/oauth2/token", token.issue_token, methods=["POST"]),
    Route("/commerce/identity/v1/user/", identity.get_user, methods=["GET"]),
    Route("/ws/api.dll", trading_api.trading_call, methods=["POST"]),
    Route("/buy/browse/v1/item/get_item_by_legacy_id", browse.get_item_by_legacy_id),
    Route("/buy/browse/v1/item/{item_id}", browse.get_item, methods=["GET"]),
    Route(OFFER + "/place_proxy_bid", offer.place_proxy_bid, methods=["POST"]),
    Route(OFFER, offer.get_bidding, methods=["GET"]),
    Route("/itm/{item_id}", item_page.view_item, methods=["GET"]),
    *notification.EBAY_ROUTES,
]


async def _refused(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    return exc.response


def create_app(
    state: EmulatorState | None = None, clock: Clock | None = None
) -> Starlette:
    """Build the emulator. Pass a `state` to share it with a test, or a `clock`
    (e.g. `ManualClock`) to control time; not both: a state has its own clock."""
    if state is not None and clock is not None:
        raise ValueError("give the clock to EmulatorState, or pass only a clock")
    emulator_state = state if state is not None else EmulatorState(clock)
    app = Starlette(
        routes=[*EBAY_ROUTES, *admin.ROUTES, *notification.ADMIN_ROUTES],
        middleware=[Middleware(EmulatorMiddleware, state=emulator_state)],
        exception_handlers={Refusal: _refused},
    )
    app.state.emulator = emulator_state
    return app
