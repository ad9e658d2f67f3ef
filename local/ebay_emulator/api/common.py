"""What every eBay REST handler shares: error bodies, bearer tokens, form bodies."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from local.ebay_emulator.oauth import Token, TokenKind
from local.ebay_emulator.state import EmulatorState


class Refusal(Exception):
    """Stop handling and answer with `response` (an eBay-shaped error)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def error_body(
    error_id: int,
    domain: str,
    category: str,
    message: str,
    long_message: str | None = None,
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """eBay's REST error body: `{"errors": [{errorId, domain, category, ...}]}`."""
    error: dict[str, Any] = {
        "errorId": error_id,
        "domain": domain,
        "category": category,
        "message": message,
        "longMessage": long_message or message,
    }
    if parameters:
        error["parameters"] = [{"name": k, "value": v} for k, v in parameters.items()]
    return {"errors": [error]}


def rest_error(status: int, **fields: Any) -> JSONResponse:
    return JSONResponse(error_body(**fields), status_code=status)


def invalid_token() -> Refusal:
    """What eBay answers for an unknown or expired access token."""
    return Refusal(
        rest_error(
            401,
            error_id=1001,
            domain="OAuth",
            category="REQUEST",
            message="Invalid access token",
            long_message=(
                "Invalid access token. Check the value of the Authorization HTTP"
                " request header."
            ),
        )
    )


def access_denied() -> Refusal:
    """What eBay answers for a missing token, a missing scope or the wrong kind."""
    return Refusal(
        rest_error(
            403,
            error_id=1100,
            domain="ACCESS",
            category="REQUEST",
            message="Access denied",
            long_message="Insufficient permissions to fulfill the request.",
        )
    )


def bearer_value(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def require_token(
    state: EmulatorState, request: Request, scope: str, *, user_only: bool
) -> Token:
    """The caller's live access token, with `scope`, of the right kind, or a refusal."""
    value = bearer_value(request)
    if value is None:
        raise access_denied()
    with state.lock:
        token = state.tokens.live_token(value, state.now())
    if token is None:
        raise invalid_token()
    if scope not in token.scopes or (user_only and token.kind is not TokenKind.USER):
        raise access_denied()
    return token


async def read_form(request: Request) -> dict[str, str]:
    """A form-encoded body as a flat dict (first value wins).

    Parsed with the standard library: python-multipart is not installed here, and
    eBay's endpoints only take `application/x-www-form-urlencoded` anyway.
    """
    body = (await request.body()).decode("utf-8", errors="replace")
    return {
        key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()
    }


def emulator(request: Request) -> EmulatorState:
    """The state this app serves, set by `create_app`."""
    state: EmulatorState = request.app.state.emulator
    return state
