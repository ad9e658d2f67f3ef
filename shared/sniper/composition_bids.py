"""Bid repositories and services, built once per container on first use.

Apart from `sniper.composition` so the bid functions do not import the eBay client
to read their own tables; tests call `reset()` beside `composition.reset()`.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

from sniper.notify import LambdaNotifier
from sniper.pagination import CursorCodec, secret_key
from sniper.repositories.bid_history import BidHistoryRepository
from sniper.repositories.bids import BidRepository
from sniper.services.bid_cancellation import BidCanceller
from sniper.services.bid_history import BidHistoryService
from sniper.settings import MissingSettingError, table_names
from sniper.snipe.scheduling import SnipeScheduler
from sniper.snipe.timing import snipe_timing

if TYPE_CHECKING:  # Bid Management's service pulls in the eBay client
    from sniper.services.bids import BidService

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
    return BidHistoryRepository(table_names().bid_history)


@cache
def bid_repository() -> BidRepository:
    return BidRepository(table_names().bids, bid_history_repository())


@cache
def cursor_codec() -> CursorCodec:
    """The secret itself is read when a cursor is first signed or checked."""
    return CursorCodec(secret_key(cursor_secret_arn()))


@cache
def snipe_scheduler() -> SnipeScheduler:
    return SnipeScheduler(snipe_timing())


@cache
def bid_canceller() -> BidCanceller:
    """Cancels bids (and their schedules); tells users when the system did."""
    return BidCanceller(bid_repository(), snipe_scheduler(), LambdaNotifier())


@cache
def bid_service() -> BidService:
    """Bid Management: needs eBay (Browse, the user's link) besides the tables."""
    from sniper import composition
    from sniper.repositories.users import UsersRepository
    from sniper.services.bids import BidService

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
    snipe_timing.cache_clear()
