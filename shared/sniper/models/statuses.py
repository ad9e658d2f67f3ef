"""Bid statuses and history actions: what the repositories, the snipe and the
emails share with the API, in a module of their own so that a function that never
answers an HTTP request loads none of the API's models."""

from __future__ import annotations

from enum import StrEnum


class BidStatus(StrEnum):
    """Where a bid is in its life (see the state diagram in the README)."""

    PENDING = "PENDING"
    EXECUTING = "EXECUTING"
    PLACED = "PLACED"
    WON = "WON"
    LOST = "LOST"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


# A bid in one of these still holds its item: no second bid on the same auction.
ACTIVE_STATUSES = frozenset({BidStatus.PENDING, BidStatus.EXECUTING, BidStatus.PLACED})
FINAL_STATUSES = frozenset(BidStatus) - ACTIVE_STATUSES


class HistoryAction(StrEnum):
    """What happened to a bid, as its history entries name it."""

    CREATE = "CREATE"
    UPDATE = "UPDATE"
    CANCEL = "CANCEL"
    PLACE = "PLACE"
    WIN = "WIN"
    LOSE = "LOSE"
    FAIL = "FAIL"
    # The sweeper put right what had gone wrong (a lost schedule, a dead executor,
    # an outcome never checked); `details` say which repair and why.
    REPAIR = "REPAIR"
