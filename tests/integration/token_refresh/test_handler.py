"""The scheduled handler, composed as in Lambda: reminders go out through an
asynchronous invoke of the Notification Handler (moto's Lambda)."""

from __future__ import annotations

import json
import time

import pytest

from sniper import composition_bids
from tests.integration.token_refresh.conftest import DAY, Accounts, AwsCalls
from tests.support.bids import a_bid
from tests.support.handlers import Invoker, sample_event


def test_the_daily_run_queues_reminders_for_the_notification_handler(
    accounts: Accounts,
    aws_calls: AwsCalls,
    notification_function: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TOKEN_EXPIRY_THRESHOLD", "7")
    link = accounts.link("user-soon", refresh_expires_in=3 * DAY)
    accounts.link("user-later", refresh_expires_in=30 * DAY)

    result = Invoker("token_refresh")(sample_event("token_refresh/scheduled.json"))

    assert result == {
        "usersChecked": 1,
        "remindersSent": 1,
        "accessTokensRefreshed": 0,
        "refused": 0,
        "failures": 0,
    }
    ((request, headers),) = aws_calls.of("Invoke")
    assert headers["X-Amz-Invocation-Type"] == "Event"
    assert json.loads(request["raw"]) == {
        "kind": "RELINK_REMINDER",
        "userId": "user-soon",
        "refreshTokenExpiresAt": link.refresh_token_expires_at,
    }
    assert "Scan" not in aws_calls.operations()


def test_a_missing_notification_function_fails_the_user_not_the_run(
    accounts: Accounts,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NOTIFICATION_FUNCTION_NAME", raising=False)
    accounts.link("user-soon", refresh_expires_in=3 * DAY)

    result = Invoker("token_refresh")(sample_event("token_refresh/scheduled.json"))

    assert (result["failures"], result["remindersSent"]) == (1, 0)
    assert "relinkReminderFor" not in accounts.stored("user-soon")


def test_a_bad_threshold_fails_the_run_loudly(
    accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOKEN_EXPIRY_THRESHOLD", "7 days")

    with pytest.raises(ValueError, match="TOKEN_EXPIRY_THRESHOLD"):
        Invoker("token_refresh")(sample_event("token_refresh/scheduled.json"))


def test_bids_of_users_without_a_link_are_skipped(
    accounts: Accounts, notification_function: str
) -> None:
    composition_bids.bid_repository().create(
        a_bid("user-unlinked", ends_at=int(time.time()) + 3_600), None
    )

    result = Invoker("token_refresh")(sample_event("token_refresh/scheduled.json"))

    assert result["usersChecked"] == 1
    assert (result["failures"], result["accessTokensRefreshed"]) == (0, 0)
