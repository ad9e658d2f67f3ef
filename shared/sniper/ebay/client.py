"""``EbayClient``: every eBay call the sniper makes, behind one object.

Callers (handlers, services) hold one client per container, from
``sniper.composition``; tests build their own with injected settings, credentials,
HTTP client and clock. The client owns the application-token cache, the cache of
eBay's notification public keys and the last observed offset of eBay's clock.
Each API's module is imported by the first call to it, so a function's cold start
loads only the APIs it calls (a snipe never loads Trading, linking never Offer).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from sniper.ebay.config import EbaySettings, load_app_credentials
from sniper.ebay.errors import EbayAuthError
from sniper.ebay.http import EbayTransport, Timeout
from sniper.ebay.models import (
    AccessToken,
    Bidding,
    EbayUser,
    ItemDetails,
    UserTokens,
    WatchedItem,
)
from sniper.ebay.oauth import USER_SCOPES, CredentialsSource, EbayOAuth
from sniper.money import Money

if TYPE_CHECKING:
    import httpx

    from sniper.ebay.notification import NotificationPublicKey, PublicKeyCache

T = TypeVar("T")


class EbayClient:
    """The eBay APIs the sniper needs: OAuth, Identity, Trading, Browse, Offer."""

    def __init__(
        self,
        settings: EbaySettings,
        *,
        credentials: CredentialsSource | None = None,
        http: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._endpoints = settings.endpoints
        self._marketplace = settings.marketplace_id
        self._transport = EbayTransport(http, clock=clock)
        self._oauth = EbayOAuth(
            settings.endpoints,
            credentials or partial(load_app_credentials, settings.secret_arn),
            self._transport,
            clock=clock,
        )
        self._clock = clock
        self._public_key_cache: PublicKeyCache | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EbayClient:
        """A client configured from the function's environment variables."""
        return cls(EbaySettings.from_env(environ))

    def __repr__(self) -> str:
        return (
            f"EbayClient(environment={self.settings.environment.value!r}, "
            f"marketplace={self._marketplace!r})"
        )

    @property
    def server_time_offset(self) -> float | None:
        """eBay's clock minus ours, in seconds, from the last ``Date`` header."""
        return self._transport.server_time_offset

    # OAuth ------------------------------------------------------------------

    def consent_url(
        self,
        state: str,
        scopes: Sequence[str] = USER_SCOPES,
        *,
        prompt_login: bool = False,
    ) -> str:
        """Where to send the user to link their eBay account."""
        return self._oauth.consent_url(state, scopes, prompt_login=prompt_login)

    def exchange_code(self, code: str) -> UserTokens:
        """The user's tokens for the code eBay's consent page returned."""
        return self._oauth.exchange_code(code)

    def refresh_access_token(
        self, refresh_token: str, scopes: Sequence[str] = USER_SCOPES
    ) -> AccessToken:
        """A fresh user access token (the refresh token is not renewed)."""
        return self._oauth.refresh_access_token(refresh_token, scopes)

    def application_token(self) -> str:
        """The cached application token (client credentials grant)."""
        return self._oauth.application_token()

    # Identity ---------------------------------------------------------------

    def get_user(
        self, access_token: str, *, timeout: Timeout | None = None
    ) -> EbayUser:
        """The eBay account that ``access_token`` belongs to."""
        from sniper.ebay import identity

        return identity.get_user(
            self._transport, self._endpoints, access_token, timeout=timeout
        )

    # Trading ----------------------------------------------------------------

    def get_watch_list(
        self, access_token: str, *, timeout: Timeout | None = None
    ) -> list[WatchedItem]:
        """Every item the user watches on eBay (all pages)."""
        from sniper.ebay import trading

        return trading.get_watch_list(
            self._transport,
            self._endpoints.trading_url,
            access_token,
            marketplace_id=self._marketplace,
            timeout=timeout,
        )

    # Browse -----------------------------------------------------------------

    def get_item_by_legacy_id(
        self, legacy_id: str, *, timeout: Timeout | None = None
    ) -> ItemDetails:
        """The live listing with classic numeric id ``legacy_id``."""
        from sniper.ebay import browse

        browse.check_legacy_id(legacy_id)
        return self._with_app_token(
            lambda token: browse.get_item_by_legacy_id(
                self._transport,
                self._endpoints,
                token,
                legacy_id,
                marketplace_id=self._marketplace,
                timeout=timeout,
            )
        )

    def get_item(self, item_id: str, *, timeout: Timeout | None = None) -> ItemDetails:
        """The live listing with RESTful id ``item_id`` (``v1|123|0``)."""
        from sniper.ebay import browse

        return self._with_app_token(
            lambda token: browse.get_item(
                self._transport,
                self._endpoints,
                token,
                item_id,
                marketplace_id=self._marketplace,
                timeout=timeout,
            )
        )

    def _with_app_token(self, call: Callable[[str], T]) -> T:
        # eBay can drop an application token before its announced expiry: on
        # a refusal, fetch a new one and try once more.
        try:
            return call(self._oauth.application_token())
        except EbayAuthError:
            self._oauth.invalidate_application_token()
            return call(self._oauth.application_token())

    # Notification -----------------------------------------------------------

    def get_public_key(
        self, key_id: str, *, timeout: Timeout | None = None
    ) -> NotificationPublicKey:
        """eBay's key ``key_id`` for checking a notification's signature, fetched
        once an hour at most (``EbayPublicKeyNotFound`` if eBay has no such key)."""
        from sniper.ebay import notification

        notification.check_key_id(key_id)
        if self._public_key_cache is None:
            self._public_key_cache = notification.PublicKeyCache(clock=self._clock)
        return self._public_key_cache.get(
            key_id,
            lambda: self._with_app_token(
                lambda token: notification.get_public_key(
                    self._transport, self._endpoints, token, key_id, timeout=timeout
                )
            ),
        )

    # Offer ------------------------------------------------------------------

    def place_proxy_bid(
        self,
        access_token: str,
        item_id: str,
        max_amount: Money,
        *,
        adult_consent: bool = False,
        marketplace_id: str | None = None,
        timeout: Timeout | None = None,
    ) -> str:
        """Bid up to ``max_amount`` on the auction; returns eBay's proxyBidId.

        ``marketplace_id`` is the listing's marketplace (default: the
        deployment's)."""
        from sniper.ebay import offer

        return offer.place_proxy_bid(
            self._transport,
            self._endpoints,
            access_token,
            item_id,
            max_amount,
            marketplace_id=marketplace_id or self._marketplace,
            adult_consent=adult_consent,
            timeout=timeout,
        )

    def get_bidding(
        self,
        access_token: str,
        item_id: str,
        *,
        marketplace_id: str | None = None,
        timeout: Timeout | None = None,
    ) -> Bidding:
        """The user's standing on an auction they bid on (``won`` once ended)."""
        from sniper.ebay import offer

        return offer.get_bidding(
            self._transport,
            self._endpoints,
            access_token,
            item_id,
            marketplace_id=marketplace_id or self._marketplace,
            timeout=timeout,
        )
