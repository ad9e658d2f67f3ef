"""The Token Refresh job, composed from the container's settings.

Apart from `sniper.composition` and `sniper.composition_bids`, whose cached parts
(the eBay client, the token provider, the bid repository) it reuses, imported when
the first run builds the service. The service itself is built per run: the job
runs once a day, so caching it buys nothing and would outlive a test's
environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sniper.services.token_refresh import TokenRefreshService

THRESHOLD_VARIABLE = "TOKEN_EXPIRY_THRESHOLD"
MAX_THRESHOLD_DAYS = 365


def expiry_threshold_days(environ: Mapping[str, str] = os.environ) -> int:
    """Days before a refresh token expires that its user is asked to re-link.

    A bad value fails the run loudly: guessing could email every user, or none.
    """
    from sniper.services.token_refresh import DEFAULT_THRESHOLD_DAYS

    raw = environ.get(THRESHOLD_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_THRESHOLD_DAYS
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_THRESHOLD_DAYS:
        raise ValueError(
            f"environment variable {THRESHOLD_VARIABLE} must be whole days from 1 "
            f"to {MAX_THRESHOLD_DAYS}, not {raw!r}"
        )
    return int(raw)


def token_refresh_service() -> TokenRefreshService:
    from sniper import composition, composition_bids
    from sniper.notify import LambdaNotifier
    from sniper.services.token_refresh import TokenRefreshService

    return TokenRefreshService(
        links=composition.ebay_links(),
        bids=composition_bids.bid_repository(),
        tokens=composition.user_tokens(),
        notifier=LambdaNotifier(),
        threshold_days=expiry_threshold_days(),
    )
