"""Around every call: place due scripted bids, act out injected faults, stamp
eBay's `Date`, keep a journal.

The `Date` header comes from the emulator's clock, as eBay's comes from eBay's: the
sniper measures its clock offset from it, so a shifted emulator clock must show.

A dropped connection sends the answer's headers and ends before its body (ASGI
has no way to reset a connection): the client sees its connection fail, not an
HTTP error. uvicorn closes such a connection and would log it as an app's error;
`DroppedOnPurpose` keeps that line out for the connections dropped here.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from email.utils import formatdate
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from local.ebay_emulator.api import trading
from local.ebay_emulator.api.common import error_body
from local.ebay_emulator.faults import Fault, FaultKind
from local.ebay_emulator.state import EmulatorState
from local.ebay_emulator.timefmt import format_timestamp

ADMIN_PREFIX = "/__admin"
# REST families: path prefix -> (domain, id of "internal error").
REST_DOMAINS = (
    ("/buy/offer/", "API_OFFER", 120000),
    ("/buy/browse/", "API_BROWSE", 11000),
    ("/commerce/identity/", "API_IDENTITY", 140000),
    ("/commerce/notification/", "API_NOTIFICATION", 195000),
)


_dropping = contextvars.ContextVar("dropping", default=False)
INCOMPLETE = "ASGI callable returned without completing response."


class DroppedOnPurpose(logging.Filter):
    """Hides uvicorn's complaint about an unfinished answer when a `drop` fault
    left it unfinished (the request's own context says so)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_dropping.get() and record.getMessage() == INCOMPLETE)


logging.getLogger("uvicorn.error").addFilter(DroppedOnPurpose())


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""


def fault_response(
    scope: Scope, status: int, now: float, retry_after: int | None
) -> Response:
    """An error as the faulted API would send it: XML for Trading, OAuth JSON for
    the token endpoint, an HTML page for the consent page, eBay JSON elsewhere."""
    path = scope["path"]
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    response: Response
    if path.startswith("/ws/api.dll"):
        failure = trading.USAGE_LIMIT if status == 429 else trading.INTERNAL_ERROR
        call_name = _header(scope, b"x-ebay-api-call-name") or "GetMyeBayBuying"
        response = trading.failure(call_name, now, failure, status)
    elif path.startswith("/identity/v1/oauth2/token"):
        error = "temporarily_unavailable" if status in (429, 503) else "server_error"
        body = {"error": error, "error_description": "injected fault"}
        response = JSONResponse(body, status_code=status)
    elif path.startswith("/oauth2/"):
        page = "<!doctype html><title>eBay</title><p>Sorry, eBay is unavailable.</p>"
        response = HTMLResponse(page, status_code=status)
    elif status == 429:
        body = error_body(
            2001,
            "ACCESS",
            "REQUEST",
            "Too many requests. The request limit has been reached for the resource.",
        )
        response = JSONResponse(body, status_code=status)
    else:
        domain, error_id = next(
            ((d, i) for prefix, d, i in REST_DOMAINS if path.startswith(prefix)),
            ("API", 10000),
        )
        category = "APPLICATION" if status >= 500 else "REQUEST"
        message = (
            "There was a problem with an eBay internal system or process. Contact eBay"
            " developer support for assistance."
        )
        response = JSONResponse(
            error_body(error_id, domain, category, message), status_code=status
        )
    if headers:
        response.headers.update(headers)
    return response


class EmulatorMiddleware:
    """Pure ASGI middleware, so held (timeout) responses are simple sleeps."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Before anything is read or bid: a scripted bid whose moment has passed
        # happened before this call did.
        self.state.run_due_scripted_bids()
        seen: dict[str, Any] = {}

        async def dated_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"date"
                ]
                date = formatdate(self.state.now(), usegmt=True).encode()
                message = {**message, "headers": [*headers, (b"date", date)]}
            await send(message)

        if scope["path"].startswith(ADMIN_PREFIX):
            await self.app(scope, receive, dated_send)
            return
        with self.state.lock:
            started_at = self.state.now()
            fault = self.state.faults.pick(scope["method"], scope["path"], started_at)
        started = time.monotonic()
        try:
            if fault is not None and fault.kind is FaultKind.DROP:
                await self._drop(fault, scope, receive, send)
                seen["status"] = None
            else:
                await self._serve(fault, scope, receive, dated_send)
        finally:
            self.state.record_call(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": seen.get("status"),
                    "fault": fault.kind.value if fault else None,
                    "at": format_timestamp(started_at),
                    "durationMs": round((time.monotonic() - started) * 1000),
                }
            )

    async def _serve(
        self, fault: Fault | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.kind is FaultKind.LATENCY:
            await asyncio.sleep(fault.delay_ms / 1000)
            await self.app(scope, receive, send)
        elif fault.kind is FaultKind.STATUS:
            await fault_response(scope, fault.status, self.state.now(), None)(
                scope, receive, send
            )
        elif fault.kind is FaultKind.RATE_LIMIT:
            response = fault_response(scope, 429, self.state.now(), fault.retry_after)
            await response(scope, receive, send)
        elif fault.kind is FaultKind.EXPIRE_TOKEN:
            # The token ends now; the call then meets eBay's answer to it.
            token = _presented_token(scope)
            with self.state.lock:
                if token:
                    self.state.tokens.expire(token, self.state.now())
            await self.app(scope, receive, send)
        elif fault.processed:
            # eBay acted on the call; only the answer is lost in the wait.
            held: list[Message] = []

            async def hold(message: Message) -> None:
                held.append(message)

            await self.app(scope, receive, hold)
            await asyncio.sleep(fault.hold_seconds)
            for message in held:
                await send(message)
        else:
            await asyncio.sleep(fault.hold_seconds)
            await fault_response(scope, 504, self.state.now(), None)(
                scope, receive, send
            )

    async def _drop(
        self, fault: Fault, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """The connection fails before the answer; `processed`: after eBay acted
        on the call (the "did my bid go through?" case without a timeout)."""
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        if fault.processed:
            await self.app(scope, receive, hold)
        _dropping.set(True)
        start = next((m for m in held if m["type"] == "http.response.start"), None)
        await send(
            start
            or {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"1")],
            }
        )


def _presented_token(scope: Scope) -> str:
    """The access token of a call: the bearer token (REST), or Trading's IAF one."""
    authorization = _header(scope, b"authorization")
    if authorization.lower().startswith("bearer "):
        return authorization[len("bearer ") :].strip()
    return _header(scope, b"x-ebay-api-iaf-token").strip()
