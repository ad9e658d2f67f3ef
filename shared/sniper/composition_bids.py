"""Bid repositories and services, built once per container on first use.

Apart from `sniper.composition` so the bid functions do not import the eBay client
to read their own tables; tests call `reset()` beside `composition.reset()`.
"""

from __future__ import annotations

import os
from functools import cache

from sniper.pagination import CursorCodec, secret_key
from sniper.repositories.bid_history import BidHistoryRepository
from sniper.repositories.bids import BidRepository
from sniper.services.bid_history import BidHistoryService
from sniper.settings import MissingSettingError, table_names

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
def bid_history_service() -> BidHistoryService:
    return BidHistoryService(bid_history_repository(), cursor_codec())


def reset() -> None:
    """Forget every built object; tests rebuild them against a fresh mock."""
    for builder in (
        bid_history_repository,
        bid_repository,
        cursor_codec,
        bid_history_service,
    ):
        builder.cache_clear()
