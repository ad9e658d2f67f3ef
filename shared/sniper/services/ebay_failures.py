"""What an API caller hears when eBay fails: one translation for every route."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

from sniper.ebay import (
    EbayAuthError,
    EbayConfigError,
    EbayError,
    EbayItemNotFound,
    EbayRateLimited,
    EbayTransientError,
)
from sniper.errors import (
    EbayRelinkRequiredError,
    ForbiddenError,
    NotFoundError,
    ServiceUnavailableError,
    UpstreamError,
)
from sniper.observability import logger

RELINK_MESSAGE = (
    "eBay no longer accepts your account link; link your eBay account again."
)


@contextmanager
def ebay_failures_as_api_errors(*, user_token: bool = True) -> Iterator[None]:
    """Turn eBay's failures into 4xx/5xx the frontend can act on, never a bare 500.

    `user_token` says whose token the calls carry: a refused user token means the
    user must re-link; a refused application token is our keyset's problem.
    """
    try:
        yield
    except EbayRateLimited as error:
        retry_after = str(max(1, math.ceil(error.retry_after or 60)))
        raise ForbiddenError(
            "eBay's rate limit was reached; try again later.",
            headers={"Retry-After": retry_after},
        ) from error
    except EbayItemNotFound as error:
        raise NotFoundError("eBay has no such item (or it was removed).") from error
    except EbayAuthError as error:
        if user_token:
            raise EbayRelinkRequiredError(RELINK_MESSAGE) from error
        logger.error("eBay refused the application token", extra={"error": str(error)})
        raise UpstreamError("eBay refused the request; try again later.") from error
    except EbayTransientError as error:
        logger.warning("eBay unavailable", extra={"ebay_error": str(error)})
        raise UpstreamError("eBay did not answer in time; try again.") from error
    except EbayError as error:
        logger.warning("eBay refused a call", extra={"ebay_error": str(error)})
        raise UpstreamError(f"eBay refused the request: {error.message}") from error
    except EbayConfigError as error:
        logger.error("eBay integration misconfigured", extra={"reason": str(error)})
        raise ServiceUnavailableError(
            "The eBay integration is not configured; contact support."
        ) from error
