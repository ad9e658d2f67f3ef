"""Linking a user's eBay account: consent URL, code exchange, status, unlink."""

from __future__ import annotations

import secrets
from typing import Protocol

from sniper.auth import AuthenticatedUser
from sniper.clock import Clock, SystemClock
from sniper.ebay import EbayAuthError, EbayUser, UserTokens
from sniper.errors import (
    AccountDeletedError,
    BadRequestError,
    ConflictError,
    UnauthorizedError,
)
from sniper.models.ebay_accounts import AuthUrlResponse, EbayAccountStatus
from sniper.observability import logger
from sniper.repositories.ebay_links import (
    AnotherAccountLinked,
    EbayAccountTaken,
    EbayLinkRepository,
    LinkChanged,
    StoredEbayLink,
)
from sniper.repositories.oauth_states import OAuthStateRepository
from sniper.repositories.users import AccountDeleted
from sniper.services.ebay_failures import ebay_failures_as_api_errors
from sniper.token_cipher import TokenCipher

STATE_LIFETIME_SECONDS = 600
LINK_CHANGED_MESSAGE = "Your eBay link changed meanwhile; try again."
ACCOUNT_DELETED_MESSAGE = "This account was deleted; sign up again to link eBay."
BAD_STATE_MESSAGE = (
    "The state is unknown, already used, expired or issued to someone else; "
    "start linking again."
)


class EbayOAuthPort(Protocol):
    """The parts of the eBay client that linking needs."""

    def consent_url(self, state: str) -> str: ...

    def exchange_code(self, code: str) -> UserTokens: ...

    def get_user(self, access_token: str) -> EbayUser: ...


class BidCanceller(Protocol):
    """Ends the bids an unlinked account can no longer place."""

    def cancel_all(self, user_id: str, reason: str, *, notify: bool = False) -> int: ...


UNLINKED_REASON = "You unlinked your eBay account, so this bid cannot be placed."


class EbayAccountService:
    def __init__(
        self,
        links: EbayLinkRepository,
        states: OAuthStateRepository,
        cipher: TokenCipher,
        ebay: EbayOAuthPort,
        clock: Clock | None = None,
        bids: BidCanceller | None = None,
    ) -> None:
        self.links = links
        self.states = states
        self.cipher = cipher
        self.ebay = ebay
        self.clock = clock or SystemClock()
        self.bids = bids

    def start_linking(self, caller: AuthenticatedUser) -> AuthUrlResponse:
        """A consent URL with a fresh single-use state bound to the caller."""
        state = secrets.token_urlsafe(32)
        now = int(self.clock.now())
        expires_at = now + STATE_LIFETIME_SECONDS
        with ebay_failures_as_api_errors():
            url = self.ebay.consent_url(state)
        self.states.save(caller.user_id, state, now, expires_at)
        return AuthUrlResponse(authUrl=url, state=state, expiresAt=expires_at)

    def complete_linking(
        self, caller: AuthenticatedUser, code: str, state: str
    ) -> EbayAccountStatus:
        """Exchange the code, learn who the eBay user is, store tokens encrypted."""
        if not self.states.consume(caller.user_id, state, int(self.clock.now())):
            raise BadRequestError(BAD_STATE_MESSAGE)
        with ebay_failures_as_api_errors():
            try:
                tokens = self.ebay.exchange_code(code)
            except EbayAuthError as error:
                raise UnauthorizedError(
                    "eBay refused the authorization code; start linking again."
                ) from error
            ebay_user = self.ebay.get_user(tokens.access_token.get_secret_value())
        now = int(self.clock.now())
        existing = self.links.get(caller.user_id)
        if existing is not None and existing.ebay_user_id != ebay_user.user_id:
            raise _another_account_linked(existing)
        link = StoredEbayLink(
            user_id=caller.user_id,
            ebay_user_id=ebay_user.user_id,
            ebay_username=ebay_user.username,
            access_token_ciphertext=self.cipher.encrypt(
                caller.user_id, tokens.access_token
            ),
            access_token_expires_at=tokens.access_token_expires_at,
            refresh_token_ciphertext=self.cipher.encrypt(
                caller.user_id, tokens.refresh_token
            ),
            refresh_token_expires_at=tokens.refresh_token_expires_at,
            linked_at=(
                existing.linked_at
                if existing and existing.ebay_user_id == ebay_user.user_id
                else now
            ),
            updated_at=now,
        )
        try:
            self.links.save(link)
        except EbayAccountTaken as error:
            raise ConflictError(
                "This eBay account is already linked to another user."
            ) from error
        except AnotherAccountLinked as error:
            current = self.links.get(caller.user_id)
            raise _another_account_linked(current) from error
        except AccountDeleted as error:
            raise AccountDeletedError(ACCOUNT_DELETED_MESSAGE) from error
        logger.info("eBay account linked", extra={"ebay_user_id": ebay_user.user_id})
        return self._status(link)

    def status(self, caller: AuthenticatedUser) -> EbayAccountStatus:
        link = self.links.get(caller.user_id)
        return self._status(link) if link else EbayAccountStatus(isLinked=False)

    def unlink(self, caller: AuthenticatedUser) -> None:
        """Forget the link and its tokens, and cancel the bids that can no longer
        go out; unlinking twice is not an error."""
        try:
            deleted = self.links.delete(caller.user_id)
        except LinkChanged as error:
            raise ConflictError(LINK_CHANGED_MESSAGE) from error
        if deleted:
            logger.info("eBay account unlinked")
        if self.bids is not None:
            self.bids.cancel_all(caller.user_id, UNLINKED_REASON)

    def _status(self, link: StoredEbayLink) -> EbayAccountStatus:
        return EbayAccountStatus(
            isLinked=True,
            accountId=link.ebay_username,
            ebayUserId=link.ebay_user_id,
            linkedAt=link.linked_at,
            tokenExpiresAt=link.refresh_token_expires_at,
            needsRelink=(
                link.refused_at is not None
                or link.refresh_token_expires_at <= self.clock.now()
            ),
        )


def _another_account_linked(existing: StoredEbayLink | None) -> ConflictError:
    """409 naming the account already linked: unlinking is the user's decision."""
    name = f" ({existing.ebay_username})" if existing and existing.ebay_username else ""
    return ConflictError(
        f"Another eBay account{name} is already linked to your account; unlink it "
        "first (DELETE /ebay/auth/unlink), then link the new one."
    )
