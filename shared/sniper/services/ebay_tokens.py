"""A user's eBay access token, decrypted and refreshed just in time.

eBay access tokens live two hours; refresh tokens about eighteen months and cannot
be renewed without the user. Callers ask for a token valid until a given instant
(the snipe asks for one valid past the auction's end) and get a fresh one if needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from pydantic import SecretStr

from sniper.clock import Clock, SystemClock
from sniper.ebay import AccessToken, EbayAuthError
from sniper.errors import EbayNotLinkedError, EbayRelinkRequiredError
from sniper.observability import logger
from sniper.repositories.ebay_links import EbayLinkRepository, StoredEbayLink
from sniper.services.ebay_failures import RELINK_MESSAGE
from sniper.token_cipher import TokenCipher

T = TypeVar("T")

NOT_LINKED_MESSAGE = "No eBay account is linked; link your eBay account first."
# Refresh a little before expiry: a token that dies mid-request is no token.
SAFETY_MARGIN_SECONDS = 120


class TokenRefresher(Protocol):
    def refresh_access_token(self, refresh_token: str) -> AccessToken: ...


class UserTokenProvider:
    """Hands out a user's access token, refreshing and re-storing it when due."""

    def __init__(
        self,
        links: EbayLinkRepository,
        cipher: TokenCipher,
        refresher: TokenRefresher,
        clock: Clock | None = None,
    ) -> None:
        self.links = links
        self.cipher = cipher
        self.refresher = refresher
        self.clock = clock or SystemClock()

    def link_of(self, user_id: str) -> StoredEbayLink:
        link = self.links.get(user_id)
        if link is None:
            raise EbayNotLinkedError(NOT_LINKED_MESSAGE)
        return link

    def access_token(
        self,
        user_id: str,
        valid_until: float | None = None,
        *,
        force_refresh: bool = False,
    ) -> SecretStr:
        """A token eBay accepts until `valid_until` (default: a few minutes).

        `force_refresh` is for a token eBay refused although it had not expired
        yet (revoked, or eBay's clock ahead of ours).
        """
        now = self.clock.now()
        needed_until = max(valid_until or now, now) + SAFETY_MARGIN_SECONDS
        link = self.link_of(user_id)
        if link.refresh_token_expires_at <= now or link.refused_at is not None:
            raise EbayRelinkRequiredError(RELINK_MESSAGE)
        if not force_refresh and link.access_token_expires_at > needed_until:
            return self.cipher.decrypt(user_id, link.access_token_ciphertext)
        return self._refresh(link)

    def _refresh(self, link: StoredEbayLink) -> SecretStr:
        refresh_token = self.cipher.decrypt(link.user_id, link.refresh_token_ciphertext)
        try:
            fresh = self.refresher.refresh_access_token(
                refresh_token.get_secret_value()
            )
        except EbayAuthError as error:
            self.links.mark_refused(link, int(self.clock.now()))
            raise EbayRelinkRequiredError(RELINK_MESSAGE) from error
        stored = self.links.update_access_token(
            link,
            self.cipher.encrypt(link.user_id, fresh.access_token),
            fresh.expires_at,
            int(self.clock.now()),
        )
        if not stored:
            logger.info("eBay link changed during a token refresh; not stored")
        return fresh.access_token


def call_with_user_token(
    tokens: UserTokenProvider, user_id: str, call: Callable[[str], T]
) -> T:
    """Run an eBay call with the user's token, refreshing once if eBay refuses it."""
    token = tokens.access_token(user_id)
    try:
        return call(token.get_secret_value())
    except EbayAuthError:
        logger.info("eBay refused an unexpired access token; refreshing it")
    fresh = tokens.access_token(user_id, force_refresh=True)
    return call(fresh.get_secret_value())
