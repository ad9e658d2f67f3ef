"""Notification API (`/commerce/notification/v1/public_key/{id}`) and the admin
calls that act as eBay's notification service: signed account deletion notices
and the endpoint challenge, delivered over HTTP to any URL."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from local.ebay_emulator.api.admin import AdminError, admin_errors, body_as
from local.ebay_emulator.api.admin_models import ChallengeRequest, DeletionNoticeRequest
from local.ebay_emulator.api.common import (
    Refusal,
    access_denied,
    emulator,
    require_token,
    rest_error,
)
from local.ebay_emulator.notifications import ACKNOWLEDGED, challenge_response
from local.ebay_emulator.oauth import PUBLIC_SCOPE, TokenKind

PUBLIC_KEY_PATH = "/commerce/notification/v1/public_key/{public_key_id}"
DELIVERY_TIMEOUT_SECONDS = 10.0
USER_AGENT = "eBay-Notification-Emulator"


async def get_public_key(request: Request) -> Response:
    """getPublicKey: application tokens only (the client credentials grant)."""
    state = emulator(request)
    with state.lock:
        token = require_token(state, request, PUBLIC_SCOPE, user_only=False)
        if token.kind is not TokenKind.APPLICATION:
            raise access_denied()
        signer = state.notification_signer
        if request.path_params["public_key_id"] != signer.key_id:
            raise Refusal(
                rest_error(
                    404,
                    error_id=195001,
                    domain="API_NOTIFICATION",
                    category="REQUEST",
                    message="The specified key id is invalid.",
                )
            )
        body = signer.public_key_body()
    return JSONResponse(body)


async def _deliver(
    method: str, url: str, headers: dict[str, str] | None = None, **kwargs: Any
) -> httpx.Response:
    # Async: the endpoint may call back into this emulator (getPublicKey) before
    # it answers, and a blocking call here would stall the event loop serving it.
    try:
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS) as client:
            return await client.request(
                method,
                url,
                headers={"User-Agent": USER_AGENT, **(headers or {})},
                **kwargs,
            )
    except httpx.HTTPError as error:
        raise AdminError(
            502, f"the endpoint did not answer: {type(error).__name__}"
        ) from None


def _excerpt(response: httpx.Response) -> str:
    return response.text[:500]


@admin_errors
async def send_account_deletion(request: Request) -> Response:
    """POST eBay's signed deletion notice for an emulator user to an endpoint."""
    spec = await body_as(request, DeletionNoticeRequest)
    signed = emulator(request).account_deletion_notice(spec.username)
    answer = await _deliver(
        "POST", spec.endpoint, content=signed.body, headers=signed.headers
    )
    return JSONResponse(
        {
            "status": answer.status_code,
            "acknowledged": answer.status_code in ACKNOWLEDGED,
            "responseBody": _excerpt(answer),
            "notification": signed.notice,
            "signature": signed.signature,
        }
    )


@admin_errors
async def send_challenge(request: Request) -> Response:
    """eBay's endpoint validation: GET ?challenge_code=..., check the answer."""
    spec = await body_as(request, ChallengeRequest)
    code = str(uuid.uuid4())
    expected = challenge_response(code, spec.verification_token, spec.endpoint)
    answer = await _deliver("GET", spec.endpoint, params={"challenge_code": code})
    content_type = answer.headers.get("content-type", "")
    received = None
    if content_type.startswith("application/json"):
        try:
            body = answer.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("challengeResponse"), str):
            received = body["challengeResponse"]
    return JSONResponse(
        {
            "status": answer.status_code,
            "contentType": content_type,
            "challengeCode": code,
            "expected": expected,
            "received": received,
            "matched": answer.status_code == 200 and received == expected,
            "responseBody": _excerpt(answer),
        }
    )


EBAY_ROUTES = [Route(PUBLIC_KEY_PATH, get_public_key, methods=["GET"])]
ADMIN_ROUTES = [
    Route(
        "/__admin/notifications/account-deletion",
        send_account_deletion,
        methods=["POST"],
    ),
    Route("/__admin/notifications/challenge", send_challenge, methods=["POST"]),
]
