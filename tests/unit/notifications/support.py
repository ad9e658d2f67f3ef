"""Fakes of the notifier's own ports, and the users and bids it reads."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sniper.email.message import OutgoingEmail
from sniper.models.snipe import BidNotificationEvent, RelinkReminderEvent
from sniper.models.statuses import BidStatus
from sniper.repositories.bids import StoredBid
from sniper.repositories.users import StoredProfile
from tests.support.bids import NOW, a_bid
from tests.support.handlers import ALICE

ADDRESS = "alice.private@example.com"


def a_profile(user_id: str = ALICE, **fields: Any) -> StoredProfile:
    preferences = {
        "emailNotifications": True,
        "bidWinNotifications": True,
        "bidLossNotifications": True,
        "timezone": "UTC",
        **fields.pop("preferences", {}),
    }
    profile = StoredProfile(
        user_id=user_id,
        email=ADDRESS,
        created_at=NOW,
        updated_at=NOW,
        preferences=preferences,
        email_verified=True,
    )
    return replace(profile, **fields)


def an_ended_bid(status: BidStatus = BidStatus.WON, **fields: Any) -> StoredBid:
    values: dict[str, Any] = {
        "item_title": "Leica M6",
        "item_url": "https://www.ebay.com/itm/110000000001",
        "final_price": 2_350 if status in (BidStatus.WON, BidStatus.LOST) else None,
        "lateness_ms": 84,
        **fields,
    }
    return a_bid(ebay_item_id="110000000001", status=status, **values)


def ended(bid: StoredBid, status: BidStatus | None = None, **fields: Any) -> Any:
    values: dict[str, Any] = {
        "bidId": bid.bid_id,
        "userId": bid.user_id,
        "status": status or bid.status,
        "ebayItemId": bid.ebay_item_id,
        "bidAmount": bid.max_bid_amount,
        "finalPrice": bid.final_price,
        **fields,
    }
    return BidNotificationEvent(**values)


def reminder(user_id: str = ALICE, expires_at: int = NOW + 7 * 86_400) -> Any:
    return RelinkReminderEvent(userId=user_id, refreshTokenExpiresAt=expires_at)


class FakeProfiles:
    def __init__(self, *profiles: StoredProfile) -> None:
        self.profiles = {profile.user_id: profile for profile in profiles}

    def get_profile(self, user_id: str) -> StoredProfile | None:
        return self.profiles.get(user_id)


class FakeBids:
    def __init__(self, *bids: StoredBid) -> None:
        self.bids = {(bid.user_id, bid.bid_id): bid for bid in bids}
        self.reads = 0

    def get(self, user_id: str, bid_id: str) -> StoredBid | None:
        self.reads += 1
        return self.bids.get((user_id, bid_id))


class FakeSender:
    """Records what it sends; raises the queued errors first, one per send."""

    def __init__(self, *errors: Exception) -> None:
        self.sent: list[OutgoingEmail] = []
        self.errors = list(errors)

    def send(self, email: OutgoingEmail) -> str:
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(email)
        return f"message-{len(self.sent)}"
