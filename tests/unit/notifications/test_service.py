"""The notifier's rules with fakes of its ports: who gets which email, and what a
refusal or an outage does."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from sniper.email.message import EmailRejected, EmailUnavailable
from sniper.models.notifications import NotificationOutcome
from sniper.models.statuses import BidStatus
from sniper.repositories.bids import StoredBid
from sniper.repositories.users import StoredProfile
from sniper.services.notifications import NotificationService
from tests.support.logs import CapturedLogs, capture_logs
from tests.unit.notifications.support import (
    ADDRESS,
    FakeBids,
    FakeProfiles,
    FakeSender,
    a_profile,
    an_ended_bid,
    ended,
    reminder,
)


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    with capture_logs() as captured:
        yield captured


def service(
    profile: StoredProfile | None, *bids: StoredBid, sender: FakeSender | None = None
) -> NotificationService:
    profiles = FakeProfiles(*([profile] if profile else []))
    return NotificationService(profiles, FakeBids(*bids), sender or FakeSender())


# ---------------------------------------------------------------- preferences
@pytest.mark.parametrize("status", list(BidStatus))
@pytest.mark.parametrize("master", [True, False])
@pytest.mark.parametrize("wins", [True, False])
@pytest.mark.parametrize("losses", [True, False])
def test_preferences_decide_which_outcomes_are_emailed(
    status: BidStatus, master: bool, wins: bool, losses: bool
) -> None:
    profile = a_profile(
        preferences={
            "emailNotifications": master,
            "bidWinNotifications": wins,
            "bidLossNotifications": losses,
        }
    )
    bid = an_ended_bid(status)
    sender = FakeSender()

    result = service(profile, bid, sender=sender).notify(ended(bid))

    expected = {
        BidStatus.WON: master and wins,
        BidStatus.LOST: master and losses,
        BidStatus.FAILED: master,
        BidStatus.CANCELLED: master,
    }.get(status, False)
    assert result.sent is expected
    assert len(sender.sent) == int(expected)
    if status in (BidStatus.PENDING, BidStatus.EXECUTING, BidStatus.PLACED):
        assert result.reason is NotificationOutcome.NOT_AN_OUTCOME
    elif not expected:
        assert result.reason is NotificationOutcome.NOTIFICATIONS_OFF


@pytest.mark.parametrize("master", [True, False])
def test_relink_reminders_follow_the_master_switch_only(master: bool) -> None:
    profile = a_profile(
        preferences={
            "emailNotifications": master,
            "bidWinNotifications": False,
            "bidLossNotifications": False,
        }
    )
    sender = FakeSender()

    result = service(profile, sender=sender).notify(reminder())

    assert result.sent is master
    assert [email.tag for email in sender.sent] == (
        ["relink-reminder"] if master else []
    )


def test_preferences_missing_from_the_profile_mean_the_defaults() -> None:
    profile = replace(a_profile(), preferences={})
    bid = an_ended_bid(BidStatus.LOST)

    assert service(profile, bid).notify(ended(bid)).sent is True


# ---------------------------------------------------------------- who and what
def test_the_email_goes_to_the_profiles_address_with_the_bids_details() -> None:
    bid = an_ended_bid(BidStatus.WON, currency="GBP")
    sender = FakeSender()

    result = service(a_profile(), bid, sender=sender).notify(ended(bid))

    assert result.model_dump() == {
        "sent": True,
        "reason": "SENT",
        "messageId": "message-1",
        "duplicate": False,
    }
    (email,) = sender.sent
    assert email.to == ADDRESS
    assert email.subject == "You won: Leica M6"
    assert "25.00 GBP" in email.text_body and "23.50 GBP" in email.text_body
    assert email.tag == "bid-won"
    assert dict(email.metadata) == {
        "kind": "BID_ENDED",
        "bidId": bid.bid_id,
        "status": "WON",
    }
    assert ADDRESS not in repr(email)


def test_an_unverified_address_is_not_written_to(logs: CapturedLogs) -> None:
    bid = an_ended_bid()
    sender = FakeSender()

    result = service(a_profile(email_verified=False), bid, sender=sender).notify(
        ended(bid)
    )

    assert (result.sent, result.reason) == (False, "UNVERIFIED_ADDRESS")
    assert sender.sent == []
    assert "unverified address, not sent" in logs.text
    assert ADDRESS not in logs.text


def test_a_deleted_user_is_logged_and_skipped(logs: CapturedLogs) -> None:
    bid = an_ended_bid()

    result = service(None, bid).notify(ended(bid))

    assert (result.sent, result.reason) == (False, "USER_NOT_FOUND")
    assert "user not found" in logs.text


def test_an_inactive_account_gets_nothing() -> None:
    bid = an_ended_bid()

    result = service(a_profile(is_active=False), bid).notify(ended(bid))

    assert result.reason is NotificationOutcome.ACCOUNT_INACTIVE


def test_a_bid_gone_is_skipped() -> None:
    bid = an_ended_bid()

    result = service(a_profile()).notify(ended(bid))

    assert (result.sent, result.reason) == (False, "BID_NOT_FOUND")


def test_preferences_are_checked_before_the_bid_is_read() -> None:
    bid = an_ended_bid(BidStatus.WON)
    bids = FakeBids(bid)
    profile = a_profile(preferences={"bidWinNotifications": False})

    NotificationService(FakeProfiles(profile), bids, FakeSender()).notify(ended(bid))

    assert bids.reads == 0


def test_an_event_contradicting_the_stored_outcome_sends_nothing() -> None:
    bid = an_ended_bid(BidStatus.LOST)
    sender = FakeSender()

    result = service(a_profile(), bid, sender=sender).notify(ended(bid, BidStatus.WON))

    assert result.reason is NotificationOutcome.STATUS_MISMATCH
    assert sender.sent == []


def test_a_bid_still_placed_is_told_the_events_outcome() -> None:
    # The executor records the outcome before it invokes; a read that still sees
    # PLACED (an unusual order) does not lose the email.
    bid = an_ended_bid(BidStatus.PLACED)
    sender = FakeSender()

    result = service(a_profile(), bid, sender=sender).notify(
        ended(bid, BidStatus.WON, finalPrice=2_000)
    )

    assert result.sent is True
    assert "20.00 USD" in sender.sent[0].text_body


# ---------------------------------------------------------------- refusals, outages
@pytest.mark.parametrize(
    ("error_code", "reason"),
    [
        (406, "RECIPIENT_REJECTED"),
        (300, "RECIPIENT_REJECTED"),
        (411, "POSTMARK_REJECTED"),
    ],
)
def test_a_refused_message_is_an_answer_logged_without_the_address(
    logs: CapturedLogs, error_code: int, reason: str
) -> None:
    bid = an_ended_bid()
    refusal = EmailRejected(
        status=422, error_code=error_code, recipient=error_code in (300, 406)
    )

    result = service(a_profile(), bid, sender=FakeSender(refusal)).notify(ended(bid))

    assert (result.sent, result.reason) == (False, reason)
    (line,) = [line for line in logs.lines() if "refused" in line["message"]]
    assert line["postmarkErrorCode"] == error_code
    assert line["httpStatus"] == 422
    assert ADDRESS not in logs.text


def test_an_unavailable_email_service_raises_for_lambda_to_retry(
    logs: CapturedLogs,
) -> None:
    bid = an_ended_bid()
    outage = EmailUnavailable("Postmark answered HTTP 503: try again later")

    with pytest.raises(EmailUnavailable):
        service(a_profile(), bid, sender=FakeSender(outage)).notify(ended(bid))

    assert "Lambda will retry" in logs.text
    assert ADDRESS not in logs.text
