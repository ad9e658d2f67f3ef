"""Retrying transient eBay failures without missing a deadline.

A snipe has a hard deadline (the auction's end): retries must stop in time, and
a wait eBay asks for (``Retry-After``) must not push the next try past it.
Permanent errors are never retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sniper.ebay.errors import EbayTransientError
from sniper.observability import logger  # its formatter masks secrets

T = TypeVar("T")

BASE_DELAY_SECONDS = 0.2
MAX_DELAY_SECONDS = 2.0


class EbayDeadlineExceeded(EbayTransientError):
    """The deadline passed before eBay could be asked (again)."""


def call_with_retries(
    fn: Callable[[float], T],
    deadline: float,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    base_delay: float = BASE_DELAY_SECONDS,
    max_delay: float = MAX_DELAY_SECONDS,
    max_attempts: int | None = None,
) -> T:
    """Call ``fn(seconds_left)`` until it succeeds, retrying transient errors
    with exponential backoff (at least ``Retry-After``) while time remains.

    ``deadline`` is an instant on ``clock`` (Unix seconds by default).
    ``fn`` gets the seconds left so it can cap its own timeout. When the next
    try could not start before the deadline, the last transient error is
    raised; permanent errors are raised at once.
    """
    attempt = 0
    while True:
        left = deadline - clock()
        if left <= 0:
            raise EbayDeadlineExceeded("no time left before the deadline to call eBay")
        try:
            return fn(left)
        except EbayTransientError as error:
            attempt += 1
            delay = min(max_delay, base_delay * 2 ** (attempt - 1))
            if error.retry_after is not None:
                delay = max(delay, error.retry_after)
            if max_attempts is not None and attempt >= max_attempts:
                raise
            if clock() + delay >= deadline:
                raise
            logger.warning(
                "eBay call failed (%s), retry %d in %.2f s", error, attempt, delay
            )
            sleep(delay)
