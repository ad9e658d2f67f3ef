"""Bid repositories and services, built once per container on first use.

Apart from `sniper.composition` so the bid functions do not import the eBay client
to read their own tables. Each builder imports its own parts, so importing this
module loads none of them: a function loads the bid modules it builds (Bid History
neither the bid repository nor the scheduler), and User Management and eBay OAuth,
which cancel bids only on rare routes, none until they do (`DeferredBidCanceller`).
Tests call `reset()` beside `composition.reset()`.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from typing import TYPE_CHECKING

from sniper.settings import MissingSettingError, table_names

if TYPE_CHECKING:
    from sniper.pagination import CursorCodec
    from sniper.repositories.bid_history import BidHistoryRepository
    from sniper.repositories.bids import BidRepository
    from sniper.services.bid_cancellation import BidCanceller
    from sniper.services.bid_history import BidHistoryService
    from sniper.services.bids import BidService
    from sniper.snipe.scheduling import SnipeScheduler

CURSOR_SECRET_VARIABLE = "CURSOR_SECRET_ARN"  # noqa: S105 - a variable name


def cursor_secret_arn() -> str:
    """The secret that holds the key signing page cursors."""
    value = os.environ.get(CURSOR_SECRET_VARIABLE, "").strip()
    if not value:
        raise MissingSettingError(
            CURSOR_SECRET_VARIABLE, "the secret with the cursor signing key"
        )
    return value


@cache
def bid_history_repository() -> BidHistoryRepository:
    from sniper.repositories.bid_history import BidHistoryRepository

    return BidHistoryRepository(table_names().bid_history)


@cache
def bid_repository() -> BidRepository:
    from sniper.repositories.bids import BidRepository

    return BidRepository(table_names().bids, bid_history_repository())


@cache
def cursor_codec() -> CursorCodec:
    """The secret itself is read when a cursor is first signed or checked."""
    from sniper.pagination import CursorCodec, secret_key

    return CursorCodec(secret_key(cursor_secret_arn()))


@cache
def snipe_scheduler() -> SnipeScheduler:
    from sniper.snipe.scheduling import SnipeScheduler
    from sniper.snipe.timing import snipe_timing

    return SnipeScheduler(snipe_timing())


@cache
def bid_canceller() -> BidCanceller:
    """Cancels bids (and their schedules); tells users when the system did."""
    from sniper.notify import LambdaNotifier
    from sniper.services.bid_cancellation import BidCanceller

    return BidCanceller(bid_repository(), snipe_scheduler(), LambdaNotifier())


class DeferredBidCanceller:
    """`bid_canceller()`, built on the first cancellation: for functions that
    cancel bids only on rare routes (deleting an account, unlinking eBay), so
    their cold starts skip the bid modules."""

    def cancel_all(self, user_id: str, reason: str, *, notify: bool = False) -> int:
        return bid_canceller().cancel_all(user_id, reason, notify=notify)


@cache
def bid_service() -> BidService:
    """Bid Management: needs eBay (Browse, the user's link) besides the tables."""
    from sniper import composition
    from sniper.repositories.users import UsersRepository
    from sniper.services.bids import BidService
    from sniper.snipe.timing import snipe_timing

    return BidService(
        bids=bid_repository(),
        schedules=snipe_scheduler(),
        items=composition.ebay_client(),
        tokens=composition.user_tokens(),
        preferences=UsersRepository(table_names().users),
        cursors=cursor_codec(),
        timing=snipe_timing(),
    )


@cache
def bid_history_service() -> BidHistoryService:
    from sniper.services.bid_history import BidHistoryService

    return BidHistoryService(bid_history_repository(), cursor_codec())


def reset() -> None:
    """Forget every built object; tests rebuild them against a fresh mock."""
    for builder in (
        bid_history_repository,
        bid_repository,
        cursor_codec,
        bid_history_service,
        snipe_scheduler,
        bid_canceller,
        bid_service,
    ):
        builder.cache_clear()
    timing = sys.modules.get("sniper.snipe.timing")
    if timing is not None:
        timing.snipe_timing.cache_clear()
