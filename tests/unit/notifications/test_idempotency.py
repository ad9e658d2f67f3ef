"""One email per bid and outcome, against moto's Idempotency table: a repeat of
Lambda's delivery, or a retry after an outage, sends no second email."""

from __future__ import annotations

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from sniper.email.message import EmailRejected, EmailUnavailable
from sniper.models.statuses import BidStatus
from sniper.repositories.bids import StoredBid
from sniper.services.notifications import (
    IDEMPOTENCY_SECONDS,
    IdempotentNotifier,
    NotificationService,
)
from tests.conftest import MockedAws
from tests.support.handlers import StubContext
from tests.unit.notifications.support import (
    FakeBids,
    FakeProfiles,
    FakeSender,
    a_profile,
    an_ended_bid,
    ended,
    reminder,
)


def notifier(
    mocked_aws: MockedAws, sender: FakeSender, *bids: StoredBid
) -> IdempotentNotifier:
    service = NotificationService(FakeProfiles(a_profile()), FakeBids(*bids), sender)
    persistence = DynamoDBPersistenceLayer(
        table_name=mocked_aws.tables["IdempotencyTable"]
    )
    return IdempotentNotifier(service, persistence)


def test_a_repeated_event_sends_one_email(mocked_aws: MockedAws) -> None:
    bid = an_ended_bid(BidStatus.WON)
    sender = FakeSender()
    notify = notifier(mocked_aws, sender, bid)

    first = notify(ended(bid), StubContext())
    again = notify(ended(bid), StubContext())
    # A retry may carry what the first attempt lacked: still the same outcome.
    later = notify(ended(bid, finalPrice=9_999, reason="late"), StubContext())

    assert len(sender.sent) == 1
    assert (first.sent, first.duplicate) == (True, False)
    assert (again.sent, again.duplicate, again.messageId) == (True, True, "message-1")
    assert later.duplicate is True


def test_the_record_holds_no_address_and_lives_a_month(mocked_aws: MockedAws) -> None:
    bid = an_ended_bid()
    notifier(mocked_aws, FakeSender(), bid)(ended(bid), StubContext())

    (record,) = mocked_aws.all_items("IdempotencyTable")
    assert str(record["id"]).startswith("notification#")
    assert record["status"] == "COMPLETED"
    assert "@" not in str(record)
    assert int(record["expiration"]) - IDEMPOTENCY_SECONDS > 1_700_000_000


def test_each_outcome_of_a_bid_and_each_bid_is_its_own_email(
    mocked_aws: MockedAws,
) -> None:
    first, second = an_ended_bid(BidStatus.LOST), an_ended_bid(BidStatus.LOST)
    sender = FakeSender()
    notify = notifier(mocked_aws, sender, first, second)

    notify(ended(first), StubContext())
    notify(ended(second), StubContext())
    notify(ended(second), StubContext())

    assert len(sender.sent) == 2


def test_reminders_are_once_per_user_and_expiry(mocked_aws: MockedAws) -> None:
    sender = FakeSender()
    notify = notifier(mocked_aws, sender)

    notify(reminder(expires_at=1_800_000_000), StubContext())
    notify(reminder(expires_at=1_800_000_000), StubContext())
    notify(reminder(expires_at=1_900_000_000), StubContext())

    assert len(sender.sent) == 2


def test_after_an_outage_the_retry_sends_exactly_once(mocked_aws: MockedAws) -> None:
    bid = an_ended_bid()
    sender = FakeSender(EmailUnavailable("Postmark answered HTTP 503"))
    notify = notifier(mocked_aws, sender, bid)

    with pytest.raises(EmailUnavailable):
        notify(ended(bid), StubContext())
    retried = notify(ended(bid), StubContext())
    repeated = notify(ended(bid), StubContext())

    assert len(sender.sent) == 1
    assert (retried.sent, retried.duplicate) == (True, False)
    assert repeated.duplicate is True


def test_a_refusal_is_not_retried_either(mocked_aws: MockedAws) -> None:
    bid = an_ended_bid()
    sender = FakeSender(EmailRejected(status=422, error_code=406, recipient=True))
    notify = notifier(mocked_aws, sender, bid)

    first = notify(ended(bid), StubContext())
    again = notify(ended(bid), StubContext())

    assert (first.sent, first.reason) == (False, "RECIPIENT_REJECTED")
    assert (again.reason, again.duplicate) == ("RECIPIENT_REJECTED", True)
    assert sender.sent == [] and sender.errors == []
