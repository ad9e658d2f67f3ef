"""eBay's OAuth grants: consent codes, user and application tokens, refresh.

No HTTP here: `api/consent.py` and `api/token.py` turn requests into these calls.
Every lifetime is measured on the emulator's clock.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field, replace
from enum import StrEnum

PUBLIC_SCOPE = "https://api.ebay.com/oauth/api_scope"
BID_SCOPE = "https://api.ebay.com/oauth/api_scope/buy.offer.auction"
IDENTITY_SCOPE = "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly"

ACCESS_TOKEN_SECONDS = 7_200
REFRESH_TOKEN_SECONDS = 47_304_000
CODE_SECONDS = 299

# Scopes an application token may carry (the client-credentials grant).
APPLICATION_SCOPES = frozenset({PUBLIC_SCOPE})
DEFAULT_APP_SCOPES = frozenset({PUBLIC_SCOPE, BID_SCOPE, IDENTITY_SCOPE})

INVALID_CODE = (
    "the provided authorization grant code is invalid or was issued to another client"
)
INVALID_REFRESH = (
    "the provided authorization refresh token is invalid or was issued to another"
    " client"
)
INVALID_SCOPE = (
    "the requested scope is invalid, unknown, malformed, or exceeds the scope"
    " granted to the client"
)
INVALID_REQUEST = "request is missing a required parameter or malformed."
INVALID_CLIENT = "client authentication failed"
UNSUPPORTED_GRANT = "grant type in request is not supported by the authorization server"


@dataclass(frozen=True)
class OAuthApp:
    """A developer keyset with its RuName: what the consent page checks against.

    The defaults are the local stack's app, so `make dev` needs no configuration.
    """

    client_id: str = "sniper-local"
    client_secret: str = "sniper-local-secret"
    ru_name: str = "sniper-local-RuName"
    accept_url: str = "http://localhost:3001/ebay/callback"
    reject_url: str = "http://localhost:3001/ebay/callback?declined=true"
    scopes: frozenset[str] = DEFAULT_APP_SCOPES


class TokenKind(StrEnum):
    USER = "User Access Token"
    APPLICATION = "Application Access Token"
    REFRESH = "Refresh Token"


class OAuthError(Exception):
    """A refusal in OAuth's terms: `error` code, description, HTTP status."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class Token:
    value: str
    kind: TokenKind
    client_id: str
    scopes: frozenset[str]
    issued_at: float
    expires_at: float
    username: str | None = None

    def is_live(self, now: float) -> bool:
        return now < self.expires_at


@dataclass
class AuthorizationCode:
    value: str
    client_id: str
    ru_name: str
    username: str
    scopes: frozenset[str]
    expires_at: float
    used: bool = False


@dataclass(frozen=True)
class Grant:
    """What the token endpoint hands out: an access token, maybe a refresh token."""

    access: Token
    refresh: Token | None = None


def _ebay_style(flags: str, body_prefix: str = "") -> str:
    """Opaque token text shaped like eBay's (`v^1.1#i^1#...#t^<base64>`).

    Standard base64 with `+`, `/` and `=`, as eBay's: a client that forgets to
    URL-encode a token in a form or query finds out here, not in production.
    """
    body = base64.b64encode(secrets.token_bytes(64)).decode()
    return f"v^1.1#i^1#{flags}#t^{body_prefix}{body}"


def parse_scopes(text: str | None) -> frozenset[str]:
    return frozenset((text or "").split())


@dataclass
class TokenStore:
    """Every code and token the emulator has issued, with their lifetimes."""

    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    tokens: dict[str, Token] = field(default_factory=dict)

    def issue_code(
        self, app: OAuthApp, username: str, scopes: frozenset[str], now: float
    ) -> AuthorizationCode:
        code = AuthorizationCode(
            value=_ebay_style("I^3#f^0#p^3#r^1", "Ul41XzI6"),
            client_id=app.client_id,
            ru_name=app.ru_name,
            username=username,
            scopes=scopes,
            expires_at=now + CODE_SECONDS,
        )
        self.codes[code.value] = code
        return code

    def redeem_code(
        self, app: OAuthApp, code_value: str, redirect_uri: str, now: float
    ) -> Grant:
        """Exchange a consent code once, within 299 s, for the app that got it."""
        code = self.codes.get(code_value)
        if (
            code is None
            or code.used
            or now >= code.expires_at
            or code.client_id != app.client_id
            or code.ru_name != redirect_uri
        ):
            raise OAuthError("invalid_grant", INVALID_CODE)
        code.used = True
        return self.issue_user_tokens(app, code.username, code.scopes, now)

    def issue_user_tokens(
        self, app: OAuthApp, username: str, scopes: frozenset[str], now: float
    ) -> Grant:
        access = self._issue(TokenKind.USER, app, scopes, now, username)
        refresh = self._issue(TokenKind.REFRESH, app, scopes, now, username)
        return Grant(access, refresh)

    def refresh(
        self, app: OAuthApp, refresh_value: str, scope_text: str | None, now: float
    ) -> Grant:
        """A new access token only: eBay never renews the refresh token."""
        refresh = self.tokens.get(refresh_value)
        if (
            refresh is None
            or refresh.kind is not TokenKind.REFRESH
            or not refresh.is_live(now)
            or refresh.client_id != app.client_id
        ):
            raise OAuthError("invalid_grant", INVALID_REFRESH)
        wanted = parse_scopes(scope_text) if scope_text else refresh.scopes
        if not wanted or not wanted <= refresh.scopes:
            raise OAuthError("invalid_scope", INVALID_SCOPE)
        return Grant(self._issue(TokenKind.USER, app, wanted, now, refresh.username))

    def client_credentials(
        self, app: OAuthApp, scope_text: str | None, now: float
    ) -> Grant:
        if not scope_text:
            raise OAuthError("invalid_request", INVALID_REQUEST)
        wanted = parse_scopes(scope_text)
        if not wanted <= APPLICATION_SCOPES:
            raise OAuthError("invalid_scope", INVALID_SCOPE)
        return Grant(self._issue(TokenKind.APPLICATION, app, wanted, now, None))

    def live_token(self, value: str, now: float) -> Token | None:
        """The access token with this value, if it exists and has not expired."""
        token = self.tokens.get(value)
        if token is None or token.kind is TokenKind.REFRESH or not token.is_live(now):
            return None
        return token

    def expire(self, value: str, now: float) -> bool:
        """End a live access token now, as eBay ends one that reached its lifetime
        or was revoked; the refresh token that made it still works."""
        token = self.live_token(value, now)
        if token is None:
            return False
        self.tokens[value] = replace(token, expires_at=now)
        return True

    def describe(self, value: str) -> Token | None:
        """Any token by value, expired or not (to tell "expired" from "invalid")."""
        return self.tokens.get(value)

    def rename_user(self, username: str, new_username: str) -> None:
        """Tokens belong to the member, not to the name they had when consenting."""
        for value, token in list(self.tokens.items()):
            if token.username == username:
                self.tokens[value] = replace(token, username=new_username)
        for code in self.codes.values():
            if code.username == username:
                code.username = new_username

    def _issue(
        self,
        kind: TokenKind,
        app: OAuthApp,
        scopes: frozenset[str],
        now: float,
        username: str | None,
    ) -> Token:
        flags, body_prefix = {
            TokenKind.USER: ("p^3#I^3#r^1#f^0", ""),
            TokenKind.APPLICATION: ("p^1#I^3#r^0#f^0", ""),
            TokenKind.REFRESH: ("p^3#I^3#r^1#f^0", "Ul4xMF8v"),
        }[kind]
        refresh = kind is TokenKind.REFRESH
        lifetime = REFRESH_TOKEN_SECONDS if refresh else ACCESS_TOKEN_SECONDS
        token = Token(
            value=_ebay_style(flags, body_prefix),
            kind=kind,
            client_id=app.client_id,
            scopes=scopes,
            issued_at=now,
            expires_at=now + lifetime,
            username=username,
        )
        self.tokens[token.value] = token
        return token
