"""Access tokens of users with bids ending within a day are refreshed ahead of time;
refused links are found a day early; one user's failure stops nobody else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import SecretStr

from sniper import composition
from sniper.models.statuses import BidStatus
from sniper.repositories.bids import BidRepository
from sniper.token_cipher import TokenCipher
from tests.integration.token_refresh.conftest import (
    Accounts,
    Reminders,
    token_calls,
)
from tests.support.bids import a_bid
from tests.support.ebay_world import EbayWorld
from tests.support.handlers import Invoker, as_user, body_of, sample_event
from tests.support.logs import CapturedLogs, capture_logs

HOUR = 3_600
# A refresh token eBay never issued: what a revoked one looks like to the endpoint.
REVOKED = "v^1.1#i^1#p^3#I^3#r^1#f^0#t^Ul4xMF8vrevokedrevokedrevoked=="


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    with capture_logs() as captured:
        yield captured


def bid(bids: BidRepository, user_id: str, ends_in: float, **fields: Any) -> None:
    bids.create(a_bid(user_id, ends_at=int(time.time() + ends_in), **fields), None)


def stored_access(accounts: Accounts, user_id: str) -> tuple[int, str]:
    item = accounts.stored(user_id)
    token = accounts.cipher.decrypt(user_id, bytes(item["accessToken"]))
    return int(item["accessTokenExpiresAt"]), token.get_secret_value()


def needs_relink(user_id: str) -> bool:
    status = Invoker("ebay_oauth")(
        as_user(sample_event("ebay_oauth/status_get.json"), user_id)
    )
    return bool(body_of(status)["needsRelink"])


def test_users_with_bids_ending_within_a_day_get_refreshed_access_tokens(
    ebay: EbayWorld, accounts: Accounts, bids: BidRepository, job: Any
) -> None:
    for user_id in ("user-a", "user-b", "user-later", "user-executing"):
        accounts.link(user_id, access_expires_in=600)
    accounts.link("user-covered")  # its stored token outlives its bid
    bid(bids, "user-a", 5 * HOUR)
    bid(bids, "user-a", 20 * HOUR)
    bid(bids, "user-b", 10 * HOUR)
    bid(bids, "user-later", 30 * HOUR)
    bid(bids, "user-executing", 5 * HOUR, status=BidStatus.EXECUTING)
    bid(bids, "user-covered", HOUR / 2)
    before = {user: stored_access(accounts, user) for user in accounts.tokens}
    ebay.admin("DELETE", "/requests")

    result = job()

    assert token_calls(ebay) == 2  # once per user, not per bid
    assert (result.accessTokensRefreshed, result.usersChecked) == (2, 3)
    now = time.time()
    for user_id in ("user-a", "user-b"):
        expires_at, token = stored_access(accounts, user_id)
        assert expires_at > now + 7_000 > before[user_id][0]
        assert token != before[user_id][1]
        user = composition.ebay_client().get_user(token)  # eBay takes the new one
        assert user.username == f"ebay-{user_id}"
    for user_id in ("user-later", "user-executing", "user-covered"):
        assert stored_access(accounts, user_id) == before[user_id]


def test_a_refused_refresh_token_marks_the_link_and_stops_no_one_else(
    ebay: EbayWorld,
    accounts: Accounts,
    bids: BidRepository,
    reminders: Reminders,
    job: Any,
    logs: CapturedLogs,
) -> None:
    revoked = accounts.link(
        "user-a-revoked", access_expires_in=600, refresh_token=REVOKED
    )
    accounts.link("user-b", access_expires_in=600)
    bid(bids, "user-a-revoked", 5 * HOUR)
    bid(bids, "user-b", 5 * HOUR)

    first = job()
    second = job()

    assert (first.refused, first.accessTokensRefreshed, first.failures) == (1, 1, 0)
    assert needs_relink("user-a-revoked") is True
    assert needs_relink("user-b") is False
    # Asked once, a day early, with the token's own expiry; not again next run.
    assert reminders.users() == ["user-a-revoked"]
    assert reminders.sent[0].refreshTokenExpiresAt == revoked.refresh_token_expires_at
    assert (second.refused, second.remindersSent) == (1, 0)
    summary = next(
        line for line in logs.lines() if line["message"] == "Token Refresh done"
    )
    assert (summary["refreshed"], summary["refused"]) == (1, 1)  # not masked
    fresh = stored_access(accounts, "user-b")[1]
    for token in [*accounts.all_tokens(), fresh]:
        assert token not in logs.text
        assert token not in first.model_dump_json()


def test_one_users_failure_does_not_stop_the_others(
    ebay: EbayWorld,
    accounts: Accounts,
    bids: BidRepository,
    job: Any,
    logs: CapturedLogs,
) -> None:
    accounts.link("user-a-broken", access_expires_in=600)
    # Its refresh token sealed for another user: KMS refuses to open it here.
    accounts.links.table.update_item(
        Key={"userId": "user-a-broken", "sk": "EBAY_LINK"},
        UpdateExpression="SET refreshToken = :sealed",
        ExpressionAttributeValues={
            ":sealed": TokenCipher(ebay.key_arn).encrypt("someone-else", SecretStr("x"))
        },
    )
    accounts.link("user-b", access_expires_in=600)
    bid(bids, "user-a-broken", 5 * HOUR)
    bid(bids, "user-b", 5 * HOUR)

    result = job()

    assert (result.failures, result.accessTokensRefreshed) == (1, 1)
    (failure,) = [line for line in logs.lines() if line["level"] == "WARNING"]
    assert failure["userId"] == "user-a-broken"
    assert failure["error"] == "InvalidCiphertextException"
    for token in accounts.all_tokens():
        assert token not in logs.text
