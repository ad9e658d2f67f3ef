"""What the Notification Handler is asked to send, and what it answers.

The events themselves (`BidNotificationEvent`, `RelinkReminderEvent`) belong to their
senders (`sniper.models.snipe`); this module reads either from one invocation payload
and names every way a notification can end, so tests and logs share one vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from pydantic import Field

from sniper.models.base import Model
from sniper.models.snipe import (
    BidNotificationEvent,
    NotificationKind,
    RelinkReminderEvent,
)
from sniper.models.statuses import BidStatus

Notification = BidNotificationEvent | RelinkReminderEvent

# The bid outcomes a user hears about; an active status is no outcome.
OUTCOME_STATUSES = frozenset(
    {BidStatus.WON, BidStatus.LOST, BidStatus.FAILED, BidStatus.CANCELLED}
)


class NotificationOutcome(StrEnum):
    """Why an email was, or was not, sent."""

    SENT = "SENT"
    INVALID_EVENT = "INVALID_EVENT"
    USER_NOT_FOUND = "USER_NOT_FOUND"
    ACCOUNT_INACTIVE = "ACCOUNT_INACTIVE"
    NOTIFICATIONS_OFF = "NOTIFICATIONS_OFF"
    UNVERIFIED_ADDRESS = "UNVERIFIED_ADDRESS"
    NOT_AN_OUTCOME = "NOT_AN_OUTCOME"
    BID_NOT_FOUND = "BID_NOT_FOUND"
    STATUS_MISMATCH = "STATUS_MISMATCH"
    RECIPIENT_REJECTED = "RECIPIENT_REJECTED"
    POSTMARK_REJECTED = "POSTMARK_REJECTED"


class NotificationResult(Model):
    """The handler's answer: never an address, never Postmark's own message text."""

    sent: bool
    reason: NotificationOutcome
    messageId: str | None = Field(default=None, description="Postmark's MessageID")
    duplicate: bool = Field(
        default=False,
        description="a repeat of a notification already handled: nothing was sent",
    )


def parse_notification(event: Mapping[str, Any]) -> Notification:
    """The event as the model its `kind` names (a bid's end when absent).

    Raises pydantic's `ValidationError` for anything else.
    """
    if event.get("kind") == NotificationKind.RELINK_REMINDER:
        return RelinkReminderEvent.model_validate(event)
    return BidNotificationEvent.model_validate(event)
