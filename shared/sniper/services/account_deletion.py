"""eBay's marketplace account deletion notifications: answer, verify, forget.

eBay requires every production keyset to run this endpoint. It validates the
endpoint with a challenge, then POSTs a signed notice for every eBay member who
closes their account, to every app. For the few of those members who linked
their eBay account here, everything of ours tied to that eBay account goes: the
link, its encrypted tokens and the guard that reserved the account. For everyone
else, and for a notice seen before, there is nothing to do: both answer 204.

Refusals: a notice that is not JSON, or a deletion notice without a user id, is
400; a signature that is missing, malformed or wrong, or names a key eBay does
not know, is 412 (what eBay's SDKs answer), and so is a key id not yet known
once this container has looked up its quota of those this minute; a key eBay
cannot hand out right now is 503 (eBay redelivers unacknowledged notices).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Protocol

from pydantic import ConfigDict, Field, ValidationError

from sniper.ebay import (
    MARKETPLACE_ACCOUNT_DELETION,
    SIGNATURE_HEADER,
    EbayAppCredentials,
    EbayAuthError,
    EbayConfigError,
    EbayError,
    EbayTransientError,
    NotificationPublicKey,
    NotificationSignatureError,
    challenge_response,
    parse_signature_header,
    signed_forms,
    verify_signature,
)
from sniper.ebay.notification import PublicKeyLookupRefused
from sniper.errors import BadRequestError, ServiceUnavailableError, SniperError
from sniper.models.base import Model
from sniper.models.ebay_accounts import ChallengeResponse, NoticeOutcome
from sniper.observability import logger


class SignatureRejected(SniperError):
    """The notice's signature does not prove it came from eBay."""

    status_code = 412
    code = "PRECONDITION_FAILED"


class _Metadata(Model):
    model_config = ConfigDict(extra="ignore")

    topic: str = Field(min_length=1)
    schemaVersion: str | None = None
    deprecated: bool | None = None


class _Notification(Model):
    model_config = ConfigDict(extra="ignore")

    notificationId: str | None = None
    eventDate: str | None = None
    publishDate: str | None = None
    publishAttemptCount: int | None = None
    data: dict[str, Any] | None = None


class _Notice(Model):
    """Any eBay notice: ``{metadata, notification}``."""

    model_config = ConfigDict(extra="ignore")

    metadata: _Metadata
    notification: _Notification


class _DeletedAccount(Model):
    """``notification.data`` of MARKETPLACE_ACCOUNT_DELETION. ``userId`` is the
    immutable id our links are keyed by; the username and eiasToken are not
    needed and are not kept."""

    model_config = ConfigDict(extra="ignore")

    userId: str = Field(min_length=1, max_length=256)


class NotificationKeys(Protocol):
    """The part of the eBay client that verification needs."""

    def get_public_key(self, key_id: str) -> NotificationPublicKey: ...


class LinkedAccounts(Protocol):
    """The part of ``EbayLinkRepository`` that forgetting an eBay account needs."""

    def owner_of(self, ebay_user_id: str) -> str | None: ...

    def delete(self, user_id: str, *, ebay_user_id: str | None = None) -> bool: ...

    def release_guard(self, ebay_user_id: str, owner_id: str) -> bool: ...


class BidCanceller(Protocol):
    """Ends the bids that can no longer go out once the eBay account is gone."""

    def cancel_all(self, user_id: str, reason: str, *, notify: bool = False) -> int: ...


ACCOUNT_GONE_REASON = (
    "eBay told us your eBay account was deleted, so this bid cannot be placed."
)


class AccountDeletionService:
    # The request header eBay signs its notices in: read by the route, checked here.
    signature_header = SIGNATURE_HEADER

    def __init__(
        self,
        links: LinkedAccounts,
        ebay: NotificationKeys,
        credentials: Callable[[], EbayAppCredentials],
        bids: BidCanceller | None = None,
    ) -> None:
        self.links = links
        self.ebay = ebay
        self.credentials = credentials
        self.bids = bids

    def answer_challenge(self, challenge_code: str) -> ChallengeResponse:
        """eBay's endpoint validation, from the token and URL registered with eBay."""
        try:
            endpoint = self.credentials().deletion_endpoint()
        except EbayConfigError as error:
            logger.error(
                "Account deletion endpoint not configured", extra={"reason": str(error)}
            )
            raise ServiceUnavailableError(
                "Account deletion notifications are not configured: put "
                "verificationToken and deletionEndpointUrl into the eBay app secret."
            ) from error
        return ChallengeResponse(
            challengeResponse=challenge_response(
                challenge_code,
                endpoint.verification_token.get_secret_value(),
                endpoint.url,
            )
        )

    def receive(self, body: bytes, signature: str | None) -> NoticeOutcome:
        """Verify a notice and act on it; raises a 400, 412 or 503 error."""
        document = _json_document(body)
        self._verify(body, document, signature)
        try:
            notice = _Notice.model_validate(document)
        except ValidationError:
            raise BadRequestError(
                "The notice lacks metadata.topic or notification."
            ) from None
        if notice.metadata.topic != MARKETPLACE_ACCOUNT_DELETION:
            logger.info(
                "eBay notice ignored",
                extra={
                    "topic": notice.metadata.topic[:64],
                    "notification_id": notice.notification.notificationId,
                },
            )
            return NoticeOutcome.IGNORED
        try:
            account = _DeletedAccount.model_validate(notice.notification.data or {})
        except ValidationError:
            raise BadRequestError(
                "The account deletion notice lacks notification.data.userId."
            ) from None
        return self._forget(account.userId, notice.notification.notificationId)

    def _verify(self, body: bytes, document: Any, signature: str | None) -> None:
        try:
            header = parse_signature_header(signature)
            key = self._public_key(header.kid)
            verify_signature(header, key, *signed_forms(body, document))
        except NotificationSignatureError as error:
            logger.warning("eBay notice refused", extra={"reason": str(error)})
            raise SignatureRejected(
                f"The notice's signature is refused: {error}."
            ) from error

    def _public_key(self, key_id: str) -> NotificationPublicKey:
        try:
            return self.ebay.get_public_key(key_id)
        except (EbayAuthError, EbayConfigError) as error:
            logger.error(
                "Cannot fetch eBay's notification key", extra={"reason": str(error)}
            )
            raise ServiceUnavailableError(
                "eBay's notification key cannot be fetched; redeliver later."
            ) from error
        except EbayTransientError as error:
            logger.warning(
                "eBay's notification key unavailable", extra={"reason": str(error)}
            )
            retry_after = str(max(1, math.ceil(error.retry_after or 60)))
            raise ServiceUnavailableError(
                "eBay's notification key is unavailable; redeliver later.",
                headers={"Retry-After": retry_after},
            ) from error
        except PublicKeyLookupRefused as error:
            # A flood of made-up key ids: refused as unverifiable, eBay not asked.
            logger.warning(
                "eBay notification key lookups over the bound",
                extra={"reason": str(error)},
            )
            raise NotificationSignatureError(
                "eBay has no usable public key with the signature's key id"
            ) from error
        except EbayError as error:  # unknown key id (404), or an unusable answer
            raise NotificationSignatureError(
                "eBay has no usable public key with the signature's key id"
            ) from error

    def _forget(self, ebay_user_id: str, notification_id: str | None) -> NoticeOutcome:
        """The link to the eBay account, its tokens and its guard, whoever holds
        them; nothing else of the owner's (their profile is theirs, not eBay's)."""
        facts = {"ebay_user_id": ebay_user_id, "notification_id": notification_id}
        owner = self.links.owner_of(ebay_user_id)
        if owner is None:
            logger.info("eBay account deletion: not linked here", extra=facts)
            return NoticeOutcome.NOT_LINKED
        if self.links.delete(owner, ebay_user_id=ebay_user_id):
            logger.info("eBay account deletion: link and tokens deleted", extra=facts)
            if self.bids is not None:
                self.bids.cancel_all(owner, ACCOUNT_GONE_REASON, notify=True)
            return NoticeOutcome.DELETED
        # A guard with no link to this account behind it still names the account.
        if self.links.release_guard(ebay_user_id, owner):
            logger.warning("eBay account deletion: stray guard deleted", extra=facts)
            return NoticeOutcome.DELETED
        logger.info("eBay account deletion: already gone", extra=facts)
        return NoticeOutcome.NOT_LINKED


def _json_document(body: bytes) -> Any:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not UTF-8 JSON, or nested too deeply
        document = None
    if not isinstance(document, dict):
        raise BadRequestError("The notice is not a JSON object.")
    return document
