"""Account integrity: verified emails, deletion that stays deleted, no 502s.

Each test reproduces what a user (or an attacker) saw before the fix: a squatted
email answering the owner 409 forever, a deleted account recreated by the next
request, a stored preference key failing every read of the profile.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import MockedAws, user_pool_users
from tests.support.handlers import (
    ALICE,
    BOB,
    Invoker,
    as_user,
    body_of,
    sample_event,
    with_body,
)


@pytest.fixture
def invoke(mocked_aws: MockedAws, user_pool: str) -> Invoker:
    return Invoker("user_management")


def get_profile(sub: str, email: str | None, *, verified: bool = True) -> Any:
    event = sample_event("user_management/profile_get.json")
    return as_user(event, sub, email, email_verified=verified)


def put_profile(sub: str, body: Any, token_email: str, *, verified: bool = True) -> Any:
    event = sample_event("user_management/profile_put.json")
    return with_body(as_user(event, sub, token_email, email_verified=verified), body)


def delete_account(sub: str, email: str | None = None) -> Any:
    return as_user(sample_event("user_management/account_delete.json"), sub, email)


def guards(mocked_aws: MockedAws) -> dict[str, str]:
    return {
        item["userId"]: item["ownerId"]
        for item in mocked_aws.all_items("UsersTable")
        if item["sk"] == "GUARD"
    }


# ---------------------------------------------------------------- email squatting
def test_an_unverified_email_claims_nothing_and_the_owner_still_signs_up(
    invoke: Invoker, mocked_aws: MockedAws
) -> None:
    squatter = invoke(get_profile(BOB, "alice@example.com", verified=False))

    owner = invoke(get_profile(ALICE, "alice@example.com"))

    assert squatter["statusCode"] == 200
    assert body_of(squatter)["emailVerified"] is False
    assert owner["statusCode"] == 200
    assert body_of(owner)["emailVerified"] is True
    assert guards(mocked_aws) == {"EMAIL#alice@example.com": ALICE}


def test_an_email_verified_later_claims_its_guard_on_the_next_request(
    invoke: Invoker, mocked_aws: MockedAws
) -> None:
    invoke(get_profile(ALICE, "alice@example.com", verified=False))
    assert guards(mocked_aws) == {}

    later = body_of(invoke(get_profile(ALICE, "alice@example.com")))

    assert later["emailVerified"] is True
    assert guards(mocked_aws) == {"EMAIL#alice@example.com": ALICE}


def test_verifying_an_address_another_account_holds_keeps_the_profile_readable(
    invoke: Invoker, mocked_aws: MockedAws
) -> None:
    invoke(get_profile(BOB, "shared@example.com", verified=False))
    invoke(get_profile(ALICE, "shared@example.com"))

    bob = invoke(get_profile(BOB, "shared@example.com"))

    assert bob["statusCode"] == 200
    assert body_of(bob)["emailVerified"] is False
    assert guards(mocked_aws) == {"EMAIL#shared@example.com": ALICE}


def test_changing_to_an_address_the_token_does_not_vouch_for_claims_nothing(
    invoke: Invoker, mocked_aws: MockedAws
) -> None:
    invoke(get_profile(ALICE, "alice@example.com"))
    invoke(get_profile(BOB, "bob@example.com"))

    response = invoke(put_profile(BOB, {"email": "alice@example.com"}, "bob@x.io"))

    assert response["statusCode"] == 200
    assert body_of(response)["emailVerified"] is False
    # Bob's old address is free again; Alice keeps hers.
    assert guards(mocked_aws) == {"EMAIL#alice@example.com": ALICE}


# ---------------------------------------------------------------- deletion sticks
def test_a_deleted_account_is_not_recreated_by_a_token_still_valid(
    invoke: Invoker, mocked_aws: MockedAws, user_pool: str
) -> None:
    assert invoke(get_profile(ALICE, "alice@example.com"))["statusCode"] == 200
    assert invoke(delete_account(ALICE, "alice@example.com"))["statusCode"] == 204

    again = invoke(get_profile(ALICE, "alice@example.com"))

    assert again["statusCode"] == 401
    assert body_of(again)["code"] == "ACCOUNT_DELETED"
    assert "deleted" in body_of(again)["message"]
    profiles = [i for i in mocked_aws.all_items("UsersTable") if i["sk"] == "PROFILE"]
    assert profiles == []
    assert ALICE not in user_pool_users(user_pool)
    # The same address is free for whoever owns it next.
    assert invoke(get_profile(BOB, "alice@example.com"))["statusCode"] == 200


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("profile_put", {"email": "alice.new@example.com"}),
        ("preferences_put", {"timezone": "Asia/Tokyo"}),
    ],
)
def test_writes_of_a_deleted_account_answer_401(
    invoke: Invoker, mocked_aws: MockedAws, name: str, body: dict[str, Any]
) -> None:
    invoke(get_profile(ALICE, "alice@example.com"))
    invoke(delete_account(ALICE, "alice@example.com"))
    event = as_user(sample_event(f"user_management/{name}.json"), ALICE, None)

    response = invoke(with_body(event, body))

    assert response["statusCode"] == 401
    assert body_of(response)["code"] == "ACCOUNT_DELETED"
    assert [i["sk"] for i in mocked_aws.all_items("UsersTable")] == ["TOMBSTONE"]


def test_deleting_twice_is_204_even_after_the_cognito_user_is_gone(
    invoke: Invoker, user_pool: str
) -> None:
    invoke(get_profile(ALICE, "alice@example.com"))

    assert invoke(delete_account(ALICE))["statusCode"] == 204
    assert invoke(delete_account(ALICE))["statusCode"] == 204
    assert user_pool_users(user_pool) == {BOB}


# ---------------------------------------------------------------- no 502s
def test_a_stored_preference_the_model_no_longer_knows_is_ignored(
    invoke: Invoker, mocked_aws: MockedAws
) -> None:
    invoke(get_profile(ALICE, "alice@example.com"))
    mocked_aws.table("UsersTable").update_item(
        Key={"userId": ALICE, "sk": "PROFILE"},
        UpdateExpression="SET preferences.smsAlerts = :on, preferences.#tz = :tz",
        ExpressionAttributeNames={"#tz": "timezone"},
        ExpressionAttributeValues={":on": True, ":tz": "Retired/Zone"},
    )

    response = invoke(get_profile(ALICE, "alice@example.com"))

    assert response["statusCode"] == 200
    preferences = body_of(response)["preferences"]
    assert "smsAlerts" not in preferences
    assert preferences["timezone"] == "UTC"
    # Request bodies stay strict.
    strict = invoke(put_profile(ALICE, {"preferences": {"smsAlerts": True}}, "a@x.io"))
    assert strict["statusCode"] == 400
    assert body_of(strict)["code"] == "VALIDATION_ERROR"


def test_an_unexpected_error_is_a_500_with_the_api_error_body(
    invoke: Invoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> Any:
        raise RuntimeError("internal detail: /var/task/secret.py line 7")

    monkeypatch.setattr(invoke.module, "user_service", broken)
    event = get_profile(ALICE, "alice@example.com")

    response = invoke(event)

    assert response["statusCode"] == 500
    body = body_of(response)
    assert body["code"] == "INTERNAL_ERROR"
    assert body["statusCode"] == 500
    assert event["requestContext"]["requestId"] in body["message"]
    assert "internal detail" not in json.dumps(response)
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
