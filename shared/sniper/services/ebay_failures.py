"""What an API caller hears when eBay fails: one translation for every route.

Each failure says what happened, because each calls for something else: a timeout
or an error answer may pass in a moment, a connection failure points at the
network, a rate limit says when to come back (`Retry-After`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

from sniper.ebay import (
    EbayAuthError,
    EbayConfigError,
    EbayConnectionError,
    EbayDeadlineExceeded,
    EbayError,
    EbayItemNotFound,
    EbayRateLimited,
    EbayTimeout,
    EbayTransientError,
)
from sniper.errors import (
    EbayRelinkRequiredError,
    NotFoundError,
    ServiceUnavailableError,
    UpstreamError,
)
from sniper.observability import logger

RELINK_MESSAGE = (
    "eBay no longer accepts your account link; link your eBay account again."
)
TIMEOUT_MESSAGE = "eBay did not answer in time; try again."
UNREACHABLE_MESSAGE = "eBay could not be reached; try again in a moment."
DEFAULT_RATE_LIMIT_WAIT_S = 60


class EbayTimeoutError(UpstreamError):
    """eBay took longer than we wait: a gateway timeout, not a refusal."""

    status_code = 504
    code = "EBAY_TIMEOUT"


class EbayUnavailableError(UpstreamError):
    """eBay answered, with a server error (5xx or Trading's internal error)."""

    code = "EBAY_UNAVAILABLE"


class EbayUnreachableError(UpstreamError):
    """No answer at all: DNS, refused or reset connections."""

    code = "EBAY_UNREACHABLE"


class EbayRateLimitedError(ServiceUnavailableError):
    """eBay's call limit for the app: 503 with `Retry-After`, as for storage."""

    code = "EBAY_RATE_LIMITED"


def _retry_after(seconds: float | None, default: int) -> str:
    return str(max(1, math.ceil(seconds if seconds is not None else default)))


def _transient(error: EbayTransientError) -> UpstreamError | ServiceUnavailableError:
    """The API error for a failure that may pass: which one says what happened."""
    if isinstance(error, EbayRateLimited):
        wait = _retry_after(error.retry_after, DEFAULT_RATE_LIMIT_WAIT_S)
        return EbayRateLimitedError(
            f"eBay's rate limit was reached; try again in {wait} seconds.",
            headers={"Retry-After": wait},
        )
    if isinstance(error, EbayTimeout | EbayDeadlineExceeded):
        return EbayTimeoutError(TIMEOUT_MESSAGE)
    if isinstance(error, EbayConnectionError):
        return EbayUnreachableError(UNREACHABLE_MESSAGE)
    status = error.http_status
    if status is not None and status >= 500:
        message = f"eBay answered with an error ({status}); try again in a moment."
    else:  # Trading's internal error comes inside an HTTP 200
        message = "eBay reported an internal error; try again in a moment."
    headers = {}
    if error.retry_after is not None:
        headers["Retry-After"] = _retry_after(error.retry_after, 1)
    return EbayUnavailableError(message, headers=headers)


@contextmanager
def ebay_failures_as_api_errors(*, user_token: bool = True) -> Iterator[None]:
    """Turn eBay's failures into 4xx/5xx the frontend can act on, never a bare 500.

    `user_token` says whose token the calls carry: a refused user token means the
    user must re-link; a refused application token is our keyset's problem.
    """
    try:
        yield
    except EbayItemNotFound as error:
        raise NotFoundError("eBay has no such item (or it was removed).") from error
    except EbayAuthError as error:
        if user_token:
            raise EbayRelinkRequiredError(RELINK_MESSAGE) from error
        logger.error("eBay refused the application token", extra={"error": str(error)})
        raise UpstreamError("eBay refused the request; try again later.") from error
    except EbayTransientError as error:
        answer = _transient(error)
        logger.warning(
            "eBay unavailable",
            extra={"ebay_failure": answer.code, "ebay_error": str(error)},
        )
        raise answer from error
    except EbayError as error:
        logger.warning(
            "eBay refused a call",
            extra={"ebay_failure": UpstreamError.code, "ebay_error": str(error)},
        )
        raise UpstreamError(f"eBay refused the request: {error.message}") from error
    except EbayConfigError as error:
        logger.error("eBay integration misconfigured", extra={"reason": str(error)})
        raise ServiceUnavailableError(
            "The eBay integration is not configured; contact support."
        ) from error
