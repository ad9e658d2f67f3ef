"""Typed errors for everything eBay can answer, and how callers should react.

Two families decide what a caller does next: ``EbayTransientError`` may succeed if
tried again (timeouts, connection failures, 5xx, 429), ``EbayPermanentError``
will not. Specific subclasses name the cases the sniper acts on. Messages carry
eBay's own error id and text but never a token or secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

ErrorId = int | str


@dataclass(frozen=True, slots=True)
class EbayErrorDetail:
    """One entry of eBay's error list (REST ``errors[]`` or Trading ``Errors``;
    for Trading, ``category`` holds SeverityCode and ``domain``
    ErrorClassification)."""

    error_id: ErrorId | None
    message: str
    long_message: str | None = None
    domain: str | None = None
    category: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()


class EbayConfigError(RuntimeError):
    """The deployment is misconfigured (environment or app-credential secret)."""


class EbayError(Exception):
    """An eBay call failed; ``error_id`` is eBay's id when it sent one."""

    def __init__(
        self,
        message: str,
        *,
        error_id: ErrorId | None = None,
        http_status: int | None = None,
        details: Iterable[EbayErrorDetail] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_id = error_id
        self.http_status = http_status
        self.details = tuple(details)

    def __str__(self) -> str:
        facts = []
        if self.error_id is not None:
            facts.append(f"eBay error {self.error_id}")
        if self.http_status is not None:
            facts.append(f"HTTP {self.http_status}")
        return f"{self.message} ({', '.join(facts)})" if facts else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, "
            f"error_id={self.error_id!r}, http_status={self.http_status!r})"
        )


class EbayTransientError(EbayError):
    """Trying again later may work; ``retry_after`` is eBay's hint in seconds."""

    def __init__(
        self,
        message: str,
        *,
        error_id: ErrorId | None = None,
        http_status: int | None = None,
        details: Iterable[EbayErrorDetail] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message, error_id=error_id, http_status=http_status, details=details
        )
        self.retry_after = retry_after


class EbayTimeout(EbayTransientError):
    """No answer in time. ``phase`` says where: after a ``read`` or ``write``
    timeout eBay may have acted on the request (a bid may stand); after a
    ``connect`` or ``pool`` timeout it was never sent."""

    def __init__(self, message: str, *, phase: str = "read") -> None:
        super().__init__(message)
        self.phase = phase

    @property
    def may_have_reached_ebay(self) -> bool:
        """True when the request may have been processed despite the timeout."""
        return self.phase in {"read", "write"}


class EbayConnectionError(EbayTransientError):
    """eBay could not be reached (DNS, refused, reset)."""


class EbayRateLimited(EbayTransientError):
    """eBay's call limit was hit (HTTP 429, Trading error 518)."""


class EbayPermanentError(EbayError):
    """Repeating the same call will fail the same way."""


class EbayAuthError(EbayPermanentError):
    """eBay refused the user's token or grant (invalid, expired, revoked, or
    missing scope): refresh the access token, or have the user link eBay again."""


class EbayItemNotFound(EbayPermanentError):
    """The item does not exist (any more) on eBay."""


class EbayNoBiddingActivity(EbayPermanentError):
    """getBidding for an auction the user has not bid on (Offer 120033)."""


class BidRejection(StrEnum):
    """Why eBay refused a proxy bid, from the Offer API's error ids."""

    BELOW_MINIMUM = "below_minimum"
    AUCTION_ENDED = "auction_ended"
    OWN_ITEM = "own_item"
    NOT_ELIGIBLE = "not_eligible"
    CANNOT_LOWER = "cannot_lower"
    ABOVE_BUY_IT_NOW = "above_buy_it_now"
    CURRENCY_MISMATCH = "currency_mismatch"
    ADULT_CONSENT_REQUIRED = "adult_consent_required"
    ITEM_NOT_FOUND = "item_not_found"
    INVALID_AMOUNT = "invalid_amount"
    MARKETPLACE = "marketplace"
    OTHER = "other"


# Offer API v1_beta error ids (ebay-openapi/offer.yaml, placeProxyBid responses).
_BID_REJECTIONS: dict[int, BidRejection] = {
    120001: BidRejection.ITEM_NOT_FOUND,
    120002: BidRejection.AUCTION_ENDED,  # ended by Buy It Now
    120003: BidRejection.OWN_ITEM,
    120004: BidRejection.NOT_ELIGIBLE,
    120005: BidRejection.ABOVE_BUY_IT_NOW,
    120006: BidRejection.NOT_ELIGIBLE,
    120007: BidRejection.INVALID_AMOUNT,  # too high
    120008: BidRejection.BELOW_MINIMUM,
    120009: BidRejection.CURRENCY_MISMATCH,
    120010: BidRejection.CANNOT_LOWER,
    120011: BidRejection.INVALID_AMOUNT,  # exceeds the limit
    120012: BidRejection.AUCTION_ENDED,
    120013: BidRejection.INVALID_AMOUNT,
    120014: BidRejection.CURRENCY_MISMATCH,
    120015: BidRejection.MARKETPLACE,
    120016: BidRejection.INVALID_AMOUNT,
    120017: BidRejection.MARKETPLACE,
    120018: BidRejection.INVALID_AMOUNT,  # no decimals allowed
    120032: BidRejection.ADULT_CONSENT_REQUIRED,
    **{error_id: BidRejection.NOT_ELIGIBLE for error_id in range(120019, 120032)},
}


class EbayBidRejected(EbayPermanentError):
    """eBay refused the proxy bid; ``reason`` classifies the Offer error id."""

    @property
    def reason(self) -> BidRejection:
        """What the rejection means for the bid, ``OTHER`` for unknown ids."""
        if isinstance(self.error_id, int):
            return _BID_REJECTIONS.get(self.error_id, BidRejection.OTHER)
        return BidRejection.OTHER


REDACTED = "[redacted]"


def invalid_fields(errors: Iterable[Mapping[str, Any]]) -> str:
    """Name the fields a validation failed on, never their values: pydantic's
    own message quotes the input, which may hold a token or secret."""
    names = sorted({".".join(map(str, error["loc"])) for error in errors})
    return ", ".join(name for name in names if name) or "(the whole document)"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """Remove every known secret from text that came back from eBay."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def redact_detail(
    detail: EbayErrorDetail, secrets: Iterable[str | None]
) -> EbayErrorDetail:
    """The same error entry with every known secret removed from its texts."""
    secrets = list(secrets)
    return replace(
        detail,
        message=redact(detail.message, secrets),
        long_message=(
            redact(detail.long_message, secrets) if detail.long_message else None
        ),
        parameters=tuple(
            (name, redact(value, secrets)) for name, value in detail.parameters
        ),
    )
