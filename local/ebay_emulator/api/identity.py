"""Identity API (`apiz.ebay.com/commerce/identity/v1/user/`): whose token it is."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from local.ebay_emulator.api.common import emulator, invalid_token, require_token
from local.ebay_emulator.oauth import IDENTITY_SCOPE


async def get_user(request: Request) -> Response:
    state = emulator(request)
    with state.lock:
        token = require_token(state, request, IDENTITY_SCOPE, user_only=True)
        if token.username is None or token.username not in state.users:
            raise invalid_token()
        user = state.user(token.username)
        body = {
            "userId": user.user_id,
            "username": user.username,
            "accountType": "INDIVIDUAL",
            "registrationMarketplaceId": "EBAY_US",
            "status": "CONFIRMED",
        }
    return JSONResponse(body)
