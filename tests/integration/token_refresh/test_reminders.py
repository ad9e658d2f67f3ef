"""Users whose refresh token expires soon are asked to re-link, once per token."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.token_refresh.conftest import (
    DAY,
    Accounts,
    AwsCalls,
    FixedClock,
    Reminders,
)


def test_a_link_expiring_in_three_days_gets_one_reminder_across_two_runs(
    accounts: Accounts, reminders: Reminders, job: Any
) -> None:
    link = accounts.link("user-soon", refresh_expires_in=3 * DAY)

    first = job()
    second = job(FixedClock(time.time() + DAY))

    assert reminders.users() == ["user-soon"]
    assert reminders.sent[0].refreshTokenExpiresAt == link.refresh_token_expires_at
    assert (first.remindersSent, second.remindersSent) == (1, 0)
    assert (first.usersChecked, second.usersChecked) == (1, 1)
    assert accounts.stored("user-soon")["relinkReminderFor"] == (
        link.refresh_token_expires_at
    )


def test_a_link_expiring_in_thirty_days_gets_none(
    accounts: Accounts, reminders: Reminders, job: Any
) -> None:
    accounts.link("user-later", refresh_expires_in=30 * DAY)

    result = job()

    assert reminders.sent == []
    assert (result.usersChecked, result.remindersSent) == (0, 0)


def test_the_threshold_decides_how_early_users_are_asked(
    accounts: Accounts, reminders: Reminders, job: Any
) -> None:
    accounts.link("user-in-ten-days", refresh_expires_in=10 * DAY)

    job(threshold_days=7)
    job(threshold_days=14)

    assert reminders.users() == ["user-in-ten-days"]


def test_an_expired_link_is_not_asked_again_and_again(
    accounts: Accounts, reminders: Reminders, job: Any
) -> None:
    accounts.link("user-gone", refresh_expires_in=-DAY)

    job()

    assert reminders.sent == []


def test_a_relink_resets_the_reminder(
    accounts: Accounts, reminders: Reminders, job: Any
) -> None:
    accounts.link("user-relinks", refresh_expires_in=3 * DAY)
    job()
    assert reminders.users() == ["user-relinks"]

    fresh = accounts.link("user-relinks")  # the same eBay account, new consent
    assert "relinkReminderFor" not in accounts.stored("user-relinks")
    job()
    eighteen_months_later = fresh.refresh_token_expires_at - 3 * DAY
    job(FixedClock(eighteen_months_later))
    job(FixedClock(eighteen_months_later + DAY))

    assert "relinkReminderFor" in accounts.stored("user-relinks")
    assert reminders.users() == ["user-relinks", "user-relinks"]
    assert reminders.sent[1].refreshTokenExpiresAt == fresh.refresh_token_expires_at


def test_a_reminder_that_could_not_be_sent_is_sent_by_the_next_run(
    accounts: Accounts, reminders: Reminders, job: Any
) -> None:
    accounts.link("user-a", refresh_expires_in=2 * DAY)
    accounts.link("user-b", refresh_expires_in=3 * DAY)
    reminders.failures_left = 1  # the first send (user-a, soonest) fails

    first = job()
    second = job()

    assert (first.remindersSent, first.failures) == (1, 1)
    assert (second.remindersSent, second.failures) == (1, 0)
    assert reminders.users() == ["user-b", "user-a"]


def test_expiring_links_are_found_through_the_index_never_a_scan(
    accounts: Accounts, job: Any, aws_calls: AwsCalls
) -> None:
    accounts.link("user-soon", refresh_expires_in=3 * DAY)
    accounts.link("user-later", refresh_expires_in=300 * DAY)

    job()

    assert "Scan" not in aws_calls.operations()
    indexes = {body.get("IndexName") for body, _ in aws_calls.of("Query")}
    assert indexes == {"RefreshTokenExpiryIndex", "StatusEndTimeIndex"}
    (expiry,) = [
        body
        for body, _ in aws_calls.of("Query")
        if body["IndexName"] == "RefreshTokenExpiryIndex"
    ]
    assert set(expiry["ExpressionAttributeNames"].values()) == {
        "refreshBucket",
        "refreshTokenExpiresAt",
    }
    assert "BETWEEN" in expiry["KeyConditionExpression"]
    assert "FilterExpression" not in expiry
