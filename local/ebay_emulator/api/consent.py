"""The consent page (`auth.ebay.com/oauth2/authorize`): sign in, agree, redirect.

A browser, or a test acting like one, GETs the page, POSTs its form, and follows the
302 to the RuName's accept URL with `code`, `state` and `expires_in`.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from local.ebay_emulator.api.common import Refusal, emulator, read_form
from local.ebay_emulator.oauth import CODE_SECONDS, OAuthApp, parse_scopes
from local.ebay_emulator.state import EmulatorState

USERNAME_COOKIE = "ebay_emulator_username"
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$")
CONSENT_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "prompt",
)


def _consent_error(status: int, error_id: str, description: str) -> Refusal:
    """eBay's consent endpoint answers bad requests with a small JSON document."""
    body = {
        "error_id": error_id,
        "error_description": description,
        "http_status_code": status,
    }
    return Refusal(JSONResponse(body, status_code=status))


def validate_request(state: EmulatorState, params: dict[str, str]) -> OAuthApp:
    """Check client, RuName, response type and scopes as eBay does before the page."""
    app = state.app(params.get("client_id", ""))
    if app is None:
        raise _consent_error(
            401, "unauthorized_client", "The OAuth client was not found."
        )
    if (
        params.get("redirect_uri") != app.ru_name
        or params.get("response_type") != "code"
    ):
        raise _consent_error(
            400, "invalid_request", "Input request parameters are invalid."
        )
    scopes = parse_scopes(params.get("scope"))
    if not scopes or not scopes <= app.scopes:
        raise _consent_error(
            400,
            "invalid_scope",
            "The requested scope is invalid, unknown, malformed, or exceeds the scope"
            " granted to the client.",
        )
    return app


def with_query(url: str, params: dict[str, str]) -> str:
    """Append parameters to a URL that may already carry a query."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))


def _page(params: dict[str, str], app: OAuthApp, username: str, problem: str) -> str:
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params[name])}">'
        for name in CONSENT_FIELDS
        if name in params
    )
    scopes = "\n".join(
        f"<li><code>{html.escape(scope)}</code></li>"
        for scope in sorted(parse_scopes(params.get("scope")))
    )
    notice = (
        f'<p class="problem" role="alert">{html.escape(problem)}</p>' if problem else ""
    )
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to eBay (emulator)</title>
<style>body{{font-family:sans-serif;max-width:36rem;margin:3rem auto}}
.problem{{color:#b00}}button{{margin-right:1rem}}</style></head>
<body>
<h1>eBay emulator</h1>
<p><strong>{html.escape(app.client_id)}</strong>
would like access to your eBay account:</p>
<ul>{scopes}</ul>
{notice}
<form method="post" action="/oauth2/authorize">
{hidden}
<label>eBay username <input name="username" value="{html.escape(username)}"
 autocomplete="username" required></label>
<p><button type="submit" name="decision" value="agree">Agree</button>
<button type="submit" name="decision" value="decline"
 formnovalidate>Decline</button></p>
</form>
</body></html>"""


async def show_consent(request: Request) -> Response:
    state = emulator(request)
    params = dict(request.query_params)
    app = validate_request(state, params)
    remembered = (
        ""
        if params.get("prompt") == "login"
        else request.cookies.get(USERNAME_COOKIE, "")
    )
    return HTMLResponse(_page(params, app, remembered, ""))


async def submit_consent(request: Request) -> Response:
    state = emulator(request)
    form = await read_form(request)
    params = {name: form[name] for name in CONSENT_FIELDS if name in form}
    app = validate_request(state, params)
    passthrough = {"state": params["state"]} if "state" in params else {}
    decision = form.get("decision")
    if decision == "decline":
        reject = with_query(app.reject_url, passthrough)
        return RedirectResponse(reject, status_code=302)
    if decision != "agree":
        page = _page(params, app, form.get("username", ""), "Choose Agree or Decline.")
        return HTMLResponse(page, status_code=400)
    username = form.get("username", "").strip()
    if not USERNAME_PATTERN.match(username):
        problem = (
            "Enter an eBay username: 2-64 letters, digits, dots, dashes or underscores."
        )
        return HTMLResponse(_page(params, app, username, problem), status_code=400)
    with state.lock:
        state.ensure_user(username)
        code = state.tokens.issue_code(
            app, username, parse_scopes(params.get("scope")), state.now()
        )
    target = with_query(
        app.accept_url,
        {**passthrough, "code": code.value, "expires_in": str(CODE_SECONDS)},
    )
    response = RedirectResponse(target, status_code=302)
    response.set_cookie(USERNAME_COOKIE, username, httponly=True, samesite="lax")
    return response
