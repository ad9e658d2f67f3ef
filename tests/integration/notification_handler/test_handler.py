"""The Notification Handler as Lambda runs it: moto's tables, secret and Idempotency
table, and postmarker talking real HTTP to the local Postmark outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import httpx
import pytest

from local.outbox import OutboxServer
from sniper import composition_notifications
from sniper.email.message import EmailUnavailable
from sniper.models.statuses import BidStatus
from sniper.repositories.bids import StoredBid
from sniper.repositories.users import StoredProfile
from tests.conftest import MockedAws
from tests.support.bids import a_bid
from tests.support.handlers import ALICE, EVENTS, Invoker, sample_event
from tests.support.logs import CapturedLogs, capture_logs
from tests.unit.notifications.support import ADDRESS, a_profile

TOKEN = "5c3b2a19-0f8e-4d7c-9b6a-5e4d3c2b1a09"
SAMPLE_BID = "3f2a8c1e-5b7d-4e9a-9c1f-2d4b6a8e0c13"
SENDER = "eBay Sniper <notifications@example.com>"
HOSTILE_TITLE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


@pytest.fixture(scope="module")
def postmark() -> Iterator[OutboxServer]:
    with OutboxServer(token=TOKEN) as server:
        yield server


@pytest.fixture
def outbox(postmark: OutboxServer) -> Iterator[httpx.Client]:
    postmark.outbox.clear()
    with httpx.Client(base_url=postmark.url, timeout=5) as http:
        yield http


@pytest.fixture
def secret_value() -> str:
    return json.dumps({"serverToken": TOKEN})


@pytest.fixture
def invoke(
    mocked_aws: MockedAws,
    postmark: OutboxServer,
    secret_value: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Invoker]:
    arn = boto3.client("secretsmanager").create_secret(
        Name="ebay-sniper/test/postmark", SecretString=secret_value
    )["ARN"]
    monkeypatch.setenv("POSTMARK_SECRET_ARN", arn)
    monkeypatch.setenv("EMAIL_FROM", SENDER)
    monkeypatch.setenv("POSTMARK_API_URL", postmark.api_url)
    composition_notifications.reset()
    yield Invoker("notification_handler")
    composition_notifications.reset()


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    with capture_logs() as captured:
        yield captured


def store(mocked_aws: MockedAws, *items: StoredProfile | StoredBid) -> None:
    for item in items:
        table = "UsersTable" if isinstance(item, StoredProfile) else "BidsTable"
        mocked_aws.table(table).put_item(Item=item.to_item())


def sample_bid(status: BidStatus, **fields: Any) -> StoredBid:
    bid = a_bid(
        ebay_item_id="110000000001",
        status=status,
        item_title="Leica M6",
        item_url="https://www.ebay.com/itm/110000000001",
        final_price=2_350,
        lateness_ms=84,
    )
    return replace(bid, bid_id=SAMPLE_BID, **fields)


def emails(outbox: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = outbox.get("/outbox/emails").json()["emails"]
    return found


@pytest.mark.parametrize(
    ("sample", "status", "subject"),
    [
        ("bid_won.json", BidStatus.WON, "You won: Leica M6"),
        ("bid_lost.json", BidStatus.LOST, "You did not win: Leica M6"),
        ("bid_failed.json", BidStatus.FAILED, "Your bid could not be placed: Leica M6"),
    ],
)
def test_each_sample_outcome_is_emailed_through_postmark(
    mocked_aws: MockedAws,
    invoke: Invoker,
    outbox: httpx.Client,
    sample: str,
    status: BidStatus,
    subject: str,
) -> None:
    store(mocked_aws, a_profile(), sample_bid(status))

    answer = invoke(sample_event(f"notification_handler/{sample}"))

    (email,) = emails(outbox)
    assert answer == {
        "sent": True,
        "reason": "SENT",
        "messageId": email["id"],
        "duplicate": False,
    }
    assert (email["to"], email["from"], email["subject"]) == (ADDRESS, SENDER, subject)
    assert email["tag"] == f"bid-{status.value.lower()}"
    assert email["metadata"] == {
        "kind": "BID_ENDED",
        "bidId": SAMPLE_BID,
        "status": status.value,
    }
    text = outbox.get(email["text"]).text
    assert "Your maximum: 25.00 USD" in text
    assert "On eBay: https://www.ebay.com/itm/110000000001" in text


def test_the_relink_sample_reminds_the_user(
    mocked_aws: MockedAws, invoke: Invoker, outbox: httpx.Client
) -> None:
    store(mocked_aws, a_profile(preferences={"timezone": "Europe/Berlin"}))

    answer = invoke(sample_event("notification_handler/relink_reminder.json"))

    assert answer["sent"] is True
    (email,) = emails(outbox)
    assert email["tag"] == "relink-reminder"
    assert "Tue 02 Dec 2025, 01:00 CET" in outbox.get(email["text"]).text


def test_every_sample_event_is_a_notification() -> None:
    from sniper.models.notifications import parse_notification

    for path in sorted((EVENTS / "notification_handler").glob("*.json")):
        parse_notification(json.loads(path.read_text()))


def test_a_retried_invocation_sends_no_second_email(
    mocked_aws: MockedAws, invoke: Invoker, outbox: httpx.Client
) -> None:
    store(mocked_aws, a_profile(), sample_bid(BidStatus.WON))
    event = sample_event("notification_handler/bid_won.json")

    first = invoke(event)
    composition_notifications.reset()  # another container takes the retry
    second = invoke(event)
    third = invoke(event)

    assert len(emails(outbox)) == 1
    assert first["duplicate"] is False
    assert second == {**first, "duplicate": True}
    assert third["duplicate"] is True


def test_a_postmark_outage_is_raised_and_the_retry_sends_once(
    mocked_aws: MockedAws,
    invoke: Invoker,
    outbox: httpx.Client,
    postmark: OutboxServer,
    logs: CapturedLogs,
) -> None:
    store(mocked_aws, a_profile(), sample_bid(BidStatus.LOST))
    event = sample_event("notification_handler/bid_lost.json")
    postmark.outbox.fail_next(503)

    with pytest.raises(EmailUnavailable, match="HTTP 503"):
        invoke(event)
    retried = invoke(event)

    assert retried["sent"] is True
    assert len(emails(outbox)) == 1
    assert ADDRESS not in logs.text


def test_an_inactive_address_is_answered_not_raised_and_never_logged(
    mocked_aws: MockedAws, invoke: Invoker, outbox: httpx.Client, logs: CapturedLogs
) -> None:
    # The outbox, like Postmark, quotes the address in its 406 message.
    store(
        mocked_aws,
        a_profile(email="alice.gone@bounced.invalid"),
        sample_bid(BidStatus.WON),
    )

    answer = invoke(sample_event("notification_handler/bid_won.json"))

    assert answer == {"sent": False, "reason": "RECIPIENT_REJECTED", "duplicate": False}
    assert emails(outbox) == []
    assert "alice.gone" not in logs.text
    assert "bounced.invalid" not in logs.text
    (line,) = [line for line in logs.lines() if "refused" in line["message"]]
    assert (line["postmarkErrorCode"], line["httpStatus"]) == (406, 422)
    assert line["bidId"] == SAMPLE_BID


def test_the_server_token_never_reaches_a_log_or_an_answer(
    mocked_aws: MockedAws,
    invoke: Invoker,
    outbox: httpx.Client,
    logs: CapturedLogs,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    store(mocked_aws, a_profile(), sample_bid(BidStatus.WON))
    caplog.set_level("DEBUG", logger="Postmarker")

    answer = invoke(sample_event("notification_handler/bid_won.json"))

    assert answer["sent"] is True
    printed = capsys.readouterr()
    for text in (logs.text, printed.out, printed.err, caplog.text, json.dumps(answer)):
        assert TOKEN not in text
        assert ADDRESS not in text
    assert "email sent" in logs.text


@pytest.mark.parametrize("secret_value", [json.dumps({"serverToken": "wrong"})])
def test_a_wrong_token_is_raised_for_the_failure_queue_without_the_token(
    mocked_aws: MockedAws, invoke: Invoker, outbox: httpx.Client, logs: CapturedLogs
) -> None:
    store(mocked_aws, a_profile(), sample_bid(BidStatus.WON))

    with pytest.raises(EmailUnavailable) as raised:
        invoke(sample_event("notification_handler/bid_won.json"))

    assert "ErrorCode 10" in str(raised.value)
    assert "wrong" not in str(raised.value) and "wrong" not in logs.text
    assert emails(outbox) == []


@pytest.mark.parametrize("secret_value", ['{"serverToken": "REPLACE_ME"}'])
def test_the_templates_placeholder_is_a_configuration_error(
    mocked_aws: MockedAws, invoke: Invoker, outbox: httpx.Client
) -> None:
    store(mocked_aws, a_profile(), sample_bid(BidStatus.WON))

    with pytest.raises(EmailUnavailable, match="placeholder"):
        invoke(sample_event("notification_handler/bid_won.json"))


def test_a_deleted_user_is_no_error(
    mocked_aws: MockedAws, invoke: Invoker, outbox: httpx.Client
) -> None:
    answer = invoke(sample_event("notification_handler/bid_won.json"))

    assert answer == {"sent": False, "reason": "USER_NOT_FOUND", "duplicate": False}


def test_preferences_and_verification_are_respected_end_to_end(
    mocked_aws: MockedAws, invoke: Invoker, outbox: httpx.Client
) -> None:
    store(
        mocked_aws,
        a_profile(preferences={"bidLossNotifications": False}),
        sample_bid(BidStatus.LOST),
    )
    lost = invoke(sample_event("notification_handler/bid_lost.json"))
    store(mocked_aws, a_profile(email_verified=False), sample_bid(BidStatus.FAILED))
    failed = invoke(sample_event("notification_handler/bid_failed.json"))

    assert lost["reason"] == "NOTIFICATIONS_OFF"
    assert failed["reason"] == "UNVERIFIED_ADDRESS"
    assert emails(outbox) == []


def test_hostile_titles_reach_the_outbox_escaped(
    mocked_aws: MockedAws, invoke: Invoker, outbox: httpx.Client
) -> None:
    store(
        mocked_aws,
        a_profile(),
        sample_bid(
            BidStatus.WON,
            item_title=HOSTILE_TITLE,
            item_url="javascript:alert(3)",
        ),
    )

    invoke(sample_event("notification_handler/bid_won.json"))

    (email,) = emails(outbox)
    page = outbox.get(email["html"])
    assert "<script" not in page.text and "<img" not in page.text
    assert "javascript:" not in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"kind": "SOMETHING_ELSE", "userId": ALICE},
        {"kind": "BID_ENDED", "userId": ALICE, "bidId": "b", "status": "MAYBE"},
        {"kind": "RELINK_REMINDER", "userId": ALICE},
    ],
)
def test_a_malformed_event_is_answered_not_retried(
    invoke: Invoker, logs: CapturedLogs, event: dict[str, Any]
) -> None:
    answer = invoke(event)

    assert answer == {"sent": False, "reason": "INVALID_EVENT", "duplicate": False}
    assert "not a notification event" in logs.text
