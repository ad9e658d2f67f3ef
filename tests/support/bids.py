"""Bids and history entries for tests, and the cursor key the template generates."""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

import boto3
import pytest

from sniper.models.statuses import BidStatus, HistoryAction
from sniper.repositories.bid_history import HistoryEntry
from sniper.repositories.bids import StoredBid, new_bid_id
from tests.support.handlers import ALICE

CURSOR_SECRET_NAME = "ebay-sniper/test/cursor-key"
# 2026-11-25 00:00:00 UTC: the sample events' era.
NOW = 1_764_028_800


def cursor_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    """The cursor signing key in moto's Secrets Manager, as the stack creates it."""
    arn = str(
        boto3.client("secretsmanager").create_secret(
            Name=CURSOR_SECRET_NAME, SecretString=secrets.token_urlsafe(48)
        )["ARN"]
    )
    monkeypatch.setenv("CURSOR_SECRET_ARN", arn)
    return arn


def a_bid(
    user_id: str = ALICE,
    *,
    ebay_item_id: str | None = None,
    ends_at: int = NOW + 3_600,
    status: BidStatus = BidStatus.PENDING,
    **fields: Any,
) -> StoredBid:
    """A pending bid on its own item unless told otherwise."""
    item_id = ebay_item_id or str(110_000_000_000 + secrets.randbelow(10**9))
    bid = StoredBid(
        user_id=user_id,
        bid_id=new_bid_id(),
        ebay_item_id=item_id,
        rest_item_id=f"v1|{item_id}|0",
        marketplace_id="EBAY_US",
        currency="USD",
        max_bid_amount=2_500,
        status=status,
        auction_end_time=ends_at,
        snipe_lead_seconds=5,
        created_at=NOW,
        updated_at=NOW,
        item_title="Leica M6",
        current_price=1_200,
    )
    return replace(bid, **fields)


def an_entry(
    bid: StoredBid,
    action: HistoryAction = HistoryAction.CREATE,
    *,
    at: float = NOW,
    **fields: Any,
) -> HistoryEntry:
    """A history entry of `bid`, at `at` (Unix seconds, fractions for ordering)."""
    entry = HistoryEntry.new(
        user_id=bid.user_id,
        bid_id=bid.bid_id,
        action=action,
        ebay_item_id=bid.ebay_item_id,
        bid_amount=bid.max_bid_amount,
        now=at,
        details={"status": bid.status.value},
    )
    return replace(entry, **fields)
