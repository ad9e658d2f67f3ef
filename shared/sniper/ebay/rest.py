"""eBay's REST conventions: JSON bodies, the ``errors[]`` list, ``Retry-After``.

Every REST API of eBay (Browse, Offer, Identity) reports failures the same way:
``{"errors": [{"errorId", "domain", "category", "message", "longMessage",
"parameters"}]}``. This module turns such answers into the typed errors of
``sniper.ebay.errors``; each API adds the ids it knows (e.g. 11003: not found).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict

from sniper.ebay.errors import (
    EbayAuthError,
    EbayError,
    EbayErrorDetail,
    EbayPermanentError,
    EbayRateLimited,
    EbayTransientError,
    redact_detail,
)
from sniper.models.base import Model
from sniper.money import Money

if TYPE_CHECKING:
    import httpx

# eBay's generic REST error id for a token without the needed scope (403); an
# invalid or expired token (1001) comes with 401, which is mapped by status.
INSUFFICIENT_PERMISSIONS = 1100

Classifier = Callable[[int, EbayErrorDetail], type[EbayError] | None]
"""Picks an API-specific error class for (HTTP status, first error), or None."""


def json_body(response: httpx.Response, what: str) -> dict[str, Any]:
    """The answer's JSON object, or a permanent error naming what was expected.
    Numbers with a fraction are read as ``Decimal``: they may be money."""
    try:
        body = json.loads(response.content, parse_float=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise EbayPermanentError(
            f"eBay's answer to {what} is not a JSON object",
            http_status=response.status_code,
        )
    return body


def error_details(response: httpx.Response) -> list[EbayErrorDetail]:
    """Parse ``errors[]`` leniently: a broken error body must not hide the
    status code behind a parsing failure."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return []
    entries = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return []
    return [_detail(entry) for entry in entries if isinstance(entry, dict)]


def _detail(entry: dict[str, Any]) -> EbayErrorDetail:
    raw_id = entry.get("errorId")
    error_id: int | str | None
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        error_id = raw_id
    elif isinstance(raw_id, str) and raw_id.isdigit():
        error_id = int(raw_id)
    else:
        error_id = raw_id if isinstance(raw_id, str) else None
    parameters = tuple(
        (str(p.get("name", "")), str(p.get("value", "")))
        for p in entry.get("parameters") or ()
        if isinstance(p, dict)
    )
    return EbayErrorDetail(
        error_id=error_id,
        message=str(entry.get("message") or entry.get("longMessage") or ""),
        long_message=_str_or_none(entry.get("longMessage")),
        domain=_str_or_none(entry.get("domain")),
        category=_str_or_none(entry.get("category")),
        parameters=parameters,
    )


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def retry_after_seconds(
    response: httpx.Response, clock: Callable[[], float] = time.time
) -> float | None:
    """``Retry-After`` as seconds from now (delta-seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - clock())


def raise_for_rest_status(
    response: httpx.Response,
    *,
    secrets: Iterable[str | None] = (),
    classify: Classifier | None = None,
) -> None:
    """Raise the typed error for a non-2xx REST answer; return on success."""
    if response.is_success:
        return
    details = error_details(response)
    error = build_error(response, details, secrets=secrets, classify=classify)
    raise error


def build_error(
    response: httpx.Response,
    details: list[EbayErrorDetail],
    *,
    secrets: Iterable[str | None] = (),
    classify: Classifier | None = None,
) -> EbayError:
    """Choose the error class by status and eBay's error id, in that order:
    429, 5xx, the API's own ids, then 401/403 and other 4xx."""
    status = response.status_code
    secrets = list(secrets)
    details = [redact_detail(detail, secrets) for detail in details]
    first = details[0] if details else None
    message = first.message if first and first.message else "eBay sent no error details"
    error_id = first.error_id if first else None
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return EbayRateLimited(
            message,
            error_id=error_id,
            http_status=status,
            details=details,
            retry_after=retry_after_seconds(response),
        )
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return EbayTransientError(
            message,
            error_id=error_id,
            http_status=status,
            details=details,
            retry_after=retry_after_seconds(response),
        )
    specific = classify(status, first) if classify and first else None
    if specific is not None:
        cls: type[EbayError] = specific
    elif status == HTTPStatus.UNAUTHORIZED or (
        status == HTTPStatus.FORBIDDEN and error_id == INSUFFICIENT_PERMISSIONS
    ):
        cls = EbayAuthError
    else:
        cls = EbayPermanentError
    return cls(message, error_id=error_id, http_status=status, details=details)


def bearer(access_token: str) -> dict[str, str]:
    """The ``Authorization`` header for a user or application token."""
    return {"Authorization": f"Bearer {access_token}"}


class WireAmount(Model):
    """eBay's REST amount ``{"value": "12.50", "currency": "USD"}``."""

    model_config = ConfigDict(extra="ignore")

    value: str | int | Decimal
    currency: str

    def money(self) -> Money:
        """The amount in cents (raises ``ValueError`` on a malformed value)."""
        return Money.parse(self.value, self.currency)


def money_or_none(amount: WireAmount | None) -> Money | None:
    """``Money`` of an optional amount field."""
    return amount.money() if amount is not None else None
