"""Domain errors, each carrying the HTTP status the API answers with.

Services raise these without knowing about HTTP frameworks; `sniper.api` maps every
one of them to a response in one place.
"""

from __future__ import annotations


class SniperError(Exception):
    """Base of the errors a caller can act on; the message is safe to show."""

    status_code = 500
    code = "INTERNAL_ERROR"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequestError(SniperError):
    status_code = 400
    code = "BAD_REQUEST"


class UnauthorizedError(SniperError):
    status_code = 401
    code = "UNAUTHORIZED"


class AccountDeletedError(UnauthorizedError):
    """The token belongs to an account deleted while the token was still valid."""

    code = "ACCOUNT_DELETED"


class EbayNotLinkedError(UnauthorizedError):
    code = "EBAY_NOT_LINKED"


class EbayRelinkRequiredError(UnauthorizedError):
    """eBay refused the user's token: only linking the account again helps."""

    code = "EBAY_RELINK_REQUIRED"


class ForbiddenError(SniperError):
    status_code = 403
    code = "FORBIDDEN"


class NotFoundError(SniperError):
    status_code = 404
    code = "NOT_FOUND"


class ConflictError(SniperError):
    status_code = 409
    code = "CONFLICT"


class UpstreamError(SniperError):
    """A service we depend on (eBay, AWS) failed; the caller may retry later."""

    status_code = 502
    code = "UPSTREAM_ERROR"


class ServiceUnavailableError(SniperError):
    status_code = 503
    code = "SERVICE_UNAVAILABLE"


class UnsupportedMediaTypeError(SniperError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
