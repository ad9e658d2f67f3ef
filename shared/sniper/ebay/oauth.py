"""eBay OAuth: the consent URL, user tokens, and the cached application token.

Users link eBay through the authorization code grant; their access token lives
two hours and is renewed with the refresh token, which eBay never renews (after
about 18 months the user must link again). The Browse API takes an application
token from the client credentials grant, which is cached per container because
that grant is limited to 1,000 calls a day.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from pydantic import ConfigDict, Field, SecretStr, ValidationError

from sniper.ebay.config import EbayAppCredentials, EbayEndpoints
from sniper.ebay.errors import (
    EbayAuthError,
    EbayError,
    EbayPermanentError,
    EbayRateLimited,
    EbayTransientError,
    invalid_fields,
    redact,
)
from sniper.ebay.http import EbayTransport
from sniper.ebay.models import AccessToken, UserTokens
from sniper.ebay.rest import raise_for_rest_status, retry_after_seconds
from sniper.models.base import Model

if TYPE_CHECKING:
    import httpx

# Scope URLs are the same in the sandbox and in production.
API_SCOPE = "https://api.ebay.com/oauth/api_scope"
BUY_OFFER_AUCTION_SCOPE = "https://api.ebay.com/oauth/api_scope/buy.offer.auction"
IDENTITY_READONLY_SCOPE = (
    "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly"
)
# api_scope also covers the Trading API calls made with the user's token (the
# watch list): Trading documents no finer OAuth scope for GetMyeBayBuying.
USER_SCOPES: tuple[str, ...] = (
    API_SCOPE,
    BUY_OFFER_AUCTION_SCOPE,
    IDENTITY_READONLY_SCOPE,
)
APPLICATION_SCOPES: tuple[str, ...] = (API_SCOPE,)

APP_TOKEN_RENEW_MARGIN_SECONDS = 300
"""Renew the application token this long before eBay says it expires."""

_INVALID_GRANT = "invalid_grant"

CredentialsSource = Callable[[], EbayAppCredentials]


class _TokenAnswer(Model):
    """The token endpoint's JSON (eBay's OAuth guide, "token response")."""

    model_config = ConfigDict(extra="ignore")

    access_token: str = Field(min_length=1)
    expires_in: int = Field(gt=0)
    refresh_token: str | None = None
    refresh_token_expires_in: int | None = None
    token_type: str | None = None


class EbayOAuth:
    """OAuth flows against eBay's token endpoint for one app keyset."""

    def __init__(
        self,
        endpoints: EbayEndpoints,
        credentials: CredentialsSource,
        transport: EbayTransport,
        *,
        clock: Callable[[], float] = time.time,
        renew_margin: float = APP_TOKEN_RENEW_MARGIN_SECONDS,
    ) -> None:
        self._endpoints = endpoints
        self._credentials = credentials
        self._transport = transport
        self._clock = clock
        self._renew_margin = renew_margin
        self._app_lock = threading.Lock()
        self._app_token: str | None = None
        self._app_token_expires_at = 0.0

    def __repr__(self) -> str:
        return f"EbayOAuth(token_url={self._endpoints.token_url!r})"

    def consent_url(
        self,
        state: str,
        scopes: Sequence[str] = USER_SCOPES,
        *,
        prompt_login: bool = False,
        locale: str | None = None,
    ) -> str:
        """The eBay page to send the user to; eBay comes back to the RuName's
        accept URL with ``code`` and this ``state``."""
        if not state:
            raise ValueError("state must not be empty: it binds the callback")
        credentials = self._credentials()
        params = {
            "client_id": credentials.client_id,
            "redirect_uri": credentials.ru_name,
            "response_type": "code",
            "scope": " ".join(_checked_scopes(scopes)),
            "state": state,
        }
        if prompt_login:
            params["prompt"] = "login"
        if locale:
            params["locale"] = locale
        return f"{self._endpoints.consent_url}?{urlencode(params, quote_via=quote)}"

    def exchange_code(self, code: str) -> UserTokens:
        """Trade the consent's authorization code for the user's tokens."""
        if not code:
            raise ValueError("the authorization code is empty")
        credentials = self._credentials()
        requested_at = self._clock()
        answer = self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": credentials.ru_name,
            },
            credentials,
            secrets=(code,),
        )
        if not answer.refresh_token or not answer.refresh_token_expires_in:
            raise EbayPermanentError("eBay's code grant answer has no refresh token")
        return UserTokens(
            access_token=SecretStr(answer.access_token),
            access_token_expires_at=int(requested_at + answer.expires_in),
            refresh_token=SecretStr(answer.refresh_token),
            refresh_token_expires_at=int(
                requested_at + answer.refresh_token_expires_in
            ),
        )

    def refresh_access_token(
        self, refresh_token: str, scopes: Sequence[str] = USER_SCOPES
    ) -> AccessToken:
        """A new access token from the refresh token; the refresh token itself
        is not renewed. ``EbayAuthError`` means the user must link again."""
        if not refresh_token:
            raise ValueError("the refresh token is empty")
        requested_at = self._clock()
        answer = self._token_request(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "scope": " ".join(_checked_scopes(scopes)),
            },
            self._credentials(),
            secrets=(refresh_token,),
        )
        return AccessToken(
            access_token=SecretStr(answer.access_token),
            expires_at=int(requested_at + answer.expires_in),
        )

    def application_token(self) -> str:
        """The app's client-credentials token, fetched once per container and
        renewed a few minutes before it expires; safe across threads."""
        with self._app_lock:
            now = self._clock()
            if (
                self._app_token is not None
                and now < self._app_token_expires_at - self._renew_margin
            ):
                return self._app_token
            answer = self._token_request(
                {
                    "grant_type": "client_credentials",
                    "scope": " ".join(APPLICATION_SCOPES),
                },
                self._credentials(),
            )
            self._app_token = answer.access_token
            self._app_token_expires_at = now + answer.expires_in
            return self._app_token

    def invalidate_application_token(self) -> None:
        """Forget the cached application token (eBay refused it early)."""
        with self._app_lock:
            self._app_token = None
            self._app_token_expires_at = 0.0

    def _token_request(
        self,
        form: Mapping[str, str],
        credentials: EbayAppCredentials,
        *,
        secrets: Iterable[str] = (),
    ) -> _TokenAnswer:
        client_secret = credentials.client_secret.get_secret_value()
        basic = base64.b64encode(
            f"{credentials.client_id}:{client_secret}".encode()
        ).decode("ascii")
        response = self._transport.send(
            "POST",
            self._endpoints.token_url,
            headers={
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
            # Spaces as %20, as in eBay's examples (scope lists are space-separated).
            content=urlencode(form, quote_via=quote).encode("ascii"),
        )
        hidden = [*secrets, client_secret, basic]
        raise_for_oauth_status(response, secrets=hidden)
        try:
            return _TokenAnswer.model_validate_json(response.content)
        except ValidationError as exc:
            # pydantic's message would quote the input, i.e. the tokens.
            raise EbayPermanentError(
                "eBay's token answer is missing or has invalid field(s): "
                + invalid_fields(exc.errors()),
                http_status=response.status_code,
            ) from None


def raise_for_oauth_status(
    response: httpx.Response, *, secrets: Iterable[str | None] = ()
) -> None:
    """Map the token endpoint's ``{"error", "error_description"}`` answers;
    ``invalid_grant`` (expired, revoked or reused grant) is an auth error."""
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        raise_for_rest_status(response, secrets=secrets)
        return
    code: str = body["error"]
    description = body.get("error_description")
    message = redact(
        f"eBay refused the token request: {description or code}", list(secrets)
    )
    status = response.status_code
    error: EbayError
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        error = EbayRateLimited(
            message,
            error_id=code,
            http_status=status,
            retry_after=retry_after_seconds(response),
        )
    elif status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        error = EbayTransientError(
            message,
            error_id=code,
            http_status=status,
            retry_after=retry_after_seconds(response),
        )
    elif code == _INVALID_GRANT:
        error = EbayAuthError(message, error_id=code, http_status=status)
    else:  # invalid_client, invalid_scope, ...: our configuration, not the user
        error = EbayPermanentError(message, error_id=code, http_status=status)
    raise error


def _checked_scopes(scopes: Sequence[str]) -> Sequence[str]:
    if isinstance(scopes, str) or not scopes:
        raise ValueError("scopes must be a non-empty sequence of scope URLs")
    return scopes
