"""The token endpoint (`POST /identity/v1/oauth2/token`): the three grants."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from local.ebay_emulator.api.common import emulator, read_form
from local.ebay_emulator.oauth import (
    INVALID_CLIENT,
    INVALID_REQUEST,
    UNSUPPORTED_GRANT,
    Grant,
    OAuthApp,
    OAuthError,
)
from local.ebay_emulator.state import EmulatorState


def _client(state: EmulatorState, request: Request) -> OAuthApp:
    """The app named by HTTP Basic credentials, or `invalid_client`."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    client_id, _, secret = decoded.partition(":")
    app = state.app(client_id)
    if scheme.lower() != "basic" or app is None or app.client_secret != secret:
        raise OAuthError("invalid_client", INVALID_CLIENT, status=401)
    return app


def _grant(state: EmulatorState, app: OAuthApp, form: dict[str, str]) -> Grant:
    grant_type = form.get("grant_type")
    now = state.now()
    if grant_type == "authorization_code":
        if not form.get("code") or not form.get("redirect_uri"):
            raise OAuthError("invalid_request", INVALID_REQUEST)
        return state.tokens.redeem_code(app, form["code"], form["redirect_uri"], now)
    if grant_type == "refresh_token":
        if not form.get("refresh_token"):
            raise OAuthError("invalid_request", INVALID_REQUEST)
        return state.tokens.refresh(app, form["refresh_token"], form.get("scope"), now)
    if grant_type == "client_credentials":
        return state.tokens.client_credentials(app, form.get("scope"), now)
    if not grant_type:
        raise OAuthError("invalid_request", INVALID_REQUEST)
    raise OAuthError("unsupported_grant_type", UNSUPPORTED_GRANT)


def grant_body(grant: Grant, now: float) -> dict[str, Any]:
    """The token response, field for field as eBay sends it."""
    body: dict[str, Any] = {
        "access_token": grant.access.value,
        "expires_in": round(grant.access.expires_at - now),
    }
    if grant.refresh is not None:
        body["refresh_token"] = grant.refresh.value
        body["refresh_token_expires_in"] = round(grant.refresh.expires_at - now)
    body["token_type"] = grant.access.kind.value
    return body


async def issue_token(request: Request) -> Response:
    state = emulator(request)
    form = await read_form(request)
    try:
        with state.lock:
            app = _client(state, request)
            grant = _grant(state, app, form)
            body = grant_body(grant, state.now())
    except OAuthError as error:
        headers = (
            {"WWW-Authenticate": 'Basic realm="eBay"'} if error.status == 401 else None
        )
        return JSONResponse(
            {"error": error.error, "error_description": error.description},
            status_code=error.status,
            headers=headers,
        )
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
