"""What the bid's schedule hands the executor, what the executor answers, and what
it tells the Notification Handler."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import ConfigDict, Field

from sniper.models.base import Model
from sniper.models.statuses import BidStatus


class ExecutionKind(StrEnum):
    """Why the executor was woken: to snipe, or (later) to learn the outcome."""

    SNIPE = "SNIPE"
    OUTCOME_CHECK = "OUTCOME_CHECK"


class BidExecutionEvent(Model):
    """The schedule's input. The executor trusts only the ids: it re-reads the bid,
    so an edit made after the schedule was written is what counts."""

    model_config = ConfigDict(extra="ignore")

    bidId: str = Field(min_length=1, max_length=64)
    userId: str = Field(min_length=1, max_length=128)
    kind: ExecutionKind = ExecutionKind.SNIPE
    attempt: int = Field(default=1, ge=1, le=100, description="outcome checks only")
    ebayItemId: str | None = None
    auctionEndTime: int | None = Field(default=None, description="Unix seconds")
    maxBidAmount: int | None = Field(
        default=None, description="cents, at scheduling (the stored bid decides)"
    )
    repair: int | None = Field(
        default=None,
        ge=1,
        description=(
            "set by the sweeper: the bid's version its repair wrote, so the run has "
            "an idempotency record of its own (a dead run's record may still block "
            "the schedule's)"
        ),
    )


class BidExecutionResult(Model):
    """What one executor invocation did with the bid."""

    bidId: str
    bidPlaced: bool
    bidOutcome: str | None = Field(default=None, description="WON, LOST or FAILED")
    status: BidStatus | None = None
    ebayBidId: str | None = None
    latenessMs: int | None = None
    reason: str | None = None
    skipped: str | None = Field(
        default=None, description="why nothing was done (already claimed, cancelled)"
    )


class NotificationKind(StrEnum):
    BID_ENDED = "BID_ENDED"
    RELINK_REMINDER = "RELINK_REMINDER"


class BidNotificationEvent(Model):
    """Tells the Notification Handler a bid ended (WON, LOST, FAILED, or CANCELLED
    by the system); it re-reads the bid and the user for the details."""

    model_config = ConfigDict(extra="ignore")

    kind: NotificationKind = NotificationKind.BID_ENDED
    bidId: str = Field(min_length=1, max_length=64)
    userId: str = Field(min_length=1, max_length=128)
    status: BidStatus
    ebayItemId: str
    bidAmount: int = Field(description="the bid's maximum, cents")
    finalPrice: int | None = Field(default=None, description="cents")
    reason: str | None = None


class RelinkReminderEvent(Model):
    """Tells the Notification Handler to ask a user, once, to link eBay again
    before their refresh token expires (sent by Token Refresh)."""

    model_config = ConfigDict(extra="ignore")

    kind: NotificationKind = NotificationKind.RELINK_REMINDER
    userId: str = Field(min_length=1, max_length=128)
    refreshTokenExpiresAt: int = Field(description="Unix seconds")


class Repair(StrEnum):
    """What the sweeper did for a bid something had left behind (the `repair`
    dimension of the `SweeperRepair` metric, and of the REPAIR history entry)."""

    SCHEDULE_RECREATED = "schedule_recreated"
    SNIPE_RUN_NOW = "snipe_run_now"
    STALE_CLAIM_RERUN = "stale_claim_rerun"
    STALE_CLAIM_RECONCILED = "stale_claim_reconciled"
    OUTCOME_CHECKED = "outcome_checked"
    FAILED = "failed"


def is_sweep(event: Any) -> bool:
    """Whether the Bid Executor was woken by the sweep rule (`{"sweep": true}`)
    rather than by a bid's schedule."""
    return isinstance(event, dict) and event.get("sweep") is True


class SweepResult(Model):
    """What one sweep looked at and put right."""

    examined: int = Field(description="bids in flight read")
    repairs: dict[Repair, int] = Field(default_factory=dict)
    errors: int = Field(default=0, description="bids whose repair raised")
    complete: bool = Field(
        default=True,
        description="false when the run stopped at its time or size bound",
    )
