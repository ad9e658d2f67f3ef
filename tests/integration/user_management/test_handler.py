"""User Management through real API Gateway events, against moto's DynamoDB."""

from __future__ import annotations

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
    with_origin,
    without_claims,
)


@pytest.fixture
def invoke(mocked_aws: MockedAws, user_pool: str) -> Invoker:
    return Invoker("user_management")


def profile_event(sub: str = ALICE, email: str | None = "alice@example.com") -> Any:
    return as_user(sample_event("user_management/profile_get.json"), sub, email)


def put_profile(
    sub: str, body: Any, email: str | None = None, *, email_verified: bool = True
) -> Any:
    """A PUT whose token carries `email` (the address Cognito holds for the caller)."""
    event = sample_event("user_management/profile_put.json")
    token_email = email or f"{sub}@example.com"
    return with_body(
        as_user(event, sub, token_email, email_verified=email_verified), body
    )


def put_preferences(sub: str, body: Any) -> Any:
    event = sample_event("user_management/preferences_put.json")
    return with_body(as_user(event, sub, f"{sub}@example.com"), body)


def test_health_answers_without_a_token(invoke: Any) -> None:
    response = invoke(sample_event("user_management/health_get.json"))

    assert response["statusCode"] == 200
    assert body_of(response) == {"status": "ok", "stage": "test"}


def test_first_call_creates_the_profile_from_the_token_claims(
    invoke: Any, mocked_aws: MockedAws
) -> None:
    response = invoke(profile_event())

    assert response["statusCode"] == 200
    profile = body_of(response)
    assert profile["userId"] == ALICE
    assert profile["email"] == "alice@example.com"
    assert profile["isActive"] is True
    assert profile["preferences"] == {
        "emailNotifications": True,
        "bidWinNotifications": True,
        "bidLossNotifications": True,
        "timezone": "UTC",
        "defaultSnipeLeadSeconds": 5,
    }
    second = body_of(invoke(profile_event()))
    assert second["createdAt"] == profile["createdAt"]
    stored = mocked_aws.table("UsersTable").get_item(
        Key={"userId": ALICE, "sk": "PROFILE"}
    )
    assert stored["Item"]["email"] == "alice@example.com"


def test_profile_without_email_claim_and_no_profile_is_404(invoke: Any) -> None:
    response = invoke(profile_event(email=None))

    assert response["statusCode"] == 404
    assert "no email" in body_of(response)["message"]


def test_requests_without_claims_are_401(invoke: Any) -> None:
    for name in ("profile_get", "profile_put", "preferences_put", "account_delete"):
        event = without_claims(sample_event(f"user_management/{name}.json"))

        response = invoke(event)

        assert response["statusCode"] == 401, name
        assert body_of(response)["code"] == "UNAUTHORIZED"


def test_email_change_moves_the_uniqueness_guard(
    invoke: Any, mocked_aws: MockedAws
) -> None:
    invoke(profile_event())

    # Alice changed and verified her address in Cognito; the token now vouches.
    response = invoke(
        put_profile(ALICE, {"email": "alice.new@example.com"}, "alice.new@example.com")
    )

    assert response["statusCode"] == 200
    assert body_of(response)["email"] == "alice.new@example.com"
    guards = {
        item["userId"]: item["ownerId"]
        for item in mocked_aws.all_items("UsersTable")
        if item["sk"] == "GUARD"
    }
    assert guards == {"EMAIL#alice.new@example.com": ALICE}


def test_email_held_by_another_user_is_409_and_nothing_changes(
    invoke: Any, mocked_aws: MockedAws
) -> None:
    invoke(profile_event())
    invoke(profile_event(BOB, "bob@example.com"))

    # Only a verified address claims a guard: Bob's token vouches for this one.
    response = invoke(put_profile(BOB, {"email": "ALICE@example.com"}, "ALICE@x.io"))
    assert response["statusCode"] == 200  # not vouched for: kept, claims nothing
    assert body_of(response)["emailVerified"] is False
    invoke(put_profile(BOB, {"email": "bob@example.com"}, "bob@example.com"))

    response = invoke(
        put_profile(BOB, {"email": "ALICE@example.com"}, "alice@example.com")
    )

    assert response["statusCode"] == 409
    assert "already used" in body_of(response)["message"]
    bob = body_of(invoke(profile_event(BOB, "bob@example.com")))
    assert bob["email"] == "bob@example.com"


def test_first_sign_in_with_an_email_another_user_holds_is_409(invoke: Any) -> None:
    invoke(profile_event())

    response = invoke(profile_event(BOB, "alice@example.com"))

    assert response["statusCode"] == 409


def test_changing_email_case_keeps_the_same_guard(
    invoke: Any, mocked_aws: MockedAws
) -> None:
    invoke(profile_event())

    response = invoke(
        put_profile(ALICE, {"email": "Alice@Example.com"}, "Alice@Example.com")
    )

    assert response["statusCode"] == 200
    guards = [i for i in mocked_aws.all_items("UsersTable") if i["sk"] == "GUARD"]
    assert [g["userId"] for g in guards] == ["EMAIL#alice@example.com"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"email": 42}, "email"),
        ({"nickname": "al"}, "nickname"),
        ({"preferences": {"timezone": "Mars/Olympus"}}, "preferences.timezone"),
    ],
)
def test_bad_profile_update_is_400_naming_the_field(
    invoke: Any, body: Any, field: str
) -> None:
    invoke(profile_event())

    response = invoke(put_profile(ALICE, body, "alice@example.com"))

    assert response["statusCode"] == 400
    error = body_of(response)
    assert field in error["message"]
    assert any(field in detail["field"] for detail in error["errors"])


def test_body_that_is_not_json_is_a_clear_4xx(invoke: Any) -> None:
    event = put_profile(ALICE, b"{not json", "alice@example.com")

    response = invoke(event)

    assert 400 <= response["statusCode"] < 500
    assert body_of(response)["message"]


def test_body_that_is_not_utf8_is_400(invoke: Any) -> None:
    event = put_profile(ALICE, b"\xff\xfe\xfa", "alice@example.com")

    response = invoke(event)

    assert response["statusCode"] == 400


def test_preferences_update_changes_only_given_fields(invoke: Any) -> None:
    invoke(profile_event())

    response = invoke(
        put_preferences(
            ALICE, {"bidLossNotifications": False, "timezone": "Europe/Berlin"}
        )
    )

    assert response["statusCode"] == 200
    preferences = body_of(response)["preferences"]
    assert preferences["bidLossNotifications"] is False
    assert preferences["timezone"] == "Europe/Berlin"
    assert preferences["bidWinNotifications"] is True
    assert preferences["defaultSnipeLeadSeconds"] == 5
    reread = body_of(invoke(profile_event()))
    assert reread["preferences"] == preferences


def test_preferences_create_the_profile_when_missing(invoke: Any) -> None:
    response = invoke(put_preferences(BOB, {"defaultSnipeLeadSeconds": 10}))

    assert response["statusCode"] == 200
    assert body_of(response)["preferences"]["defaultSnipeLeadSeconds"] == 10


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"defaultSnipeLeadSeconds": 2}, "defaultSnipeLeadSeconds"),
        ({"defaultSnipeLeadSeconds": 61}, "defaultSnipeLeadSeconds"),
        ({"timezone": "Not/AZone"}, "timezone"),
        ({"emailNotifications": "sometimes"}, "emailNotifications"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_preferences_are_400_naming_the_field(
    invoke: Any, body: Any, field: str
) -> None:
    response = invoke(put_preferences(ALICE, body))

    assert response["statusCode"] == 400
    assert field in body_of(response)["message"]


def test_snipe_lead_bounds_are_accepted(invoke: Any) -> None:
    for seconds in (3, 60):
        response = invoke(put_preferences(ALICE, {"defaultSnipeLeadSeconds": seconds}))

        assert response["statusCode"] == 200
        assert body_of(response)["preferences"]["defaultSnipeLeadSeconds"] == seconds


def test_delete_account_erases_every_item_of_the_user_only(
    invoke: Any, mocked_aws: MockedAws, user_pool: str
) -> None:
    invoke(profile_event())
    invoke(profile_event(BOB, "bob@example.com"))
    for owner in (ALICE, BOB):
        for index in range(30):
            mocked_aws.table("BidsTable").put_item(
                Item={"userId": owner, "sk": f"BID#{index}", "maxBidAmount": 2500}
            )
            mocked_aws.table("BidHistoryTable").put_item(
                Item={
                    "userId": owner,
                    "historyKey": f"1764028800#{index}",
                    "bidTimelineKey": f"bid-{index}#1764028800#{index}",
                }
            )
    mocked_aws.table("UsersTable").put_item(
        Item={"userId": ALICE, "sk": "OAUTH_STATE#abc", "expiresAt": 1}
    )
    event = as_user(
        sample_event("user_management/account_delete.json"), ALICE, "alice@example.com"
    )

    response = invoke(event)

    assert response["statusCode"] == 204
    for logical_id in ("UsersTable", "BidsTable", "BidHistoryTable"):
        items = mocked_aws.all_items(logical_id)
        left = [i for i in items if ALICE in str(i.values())]
        # Only the tombstone stays (TTL removes it once every token has expired).
        assert [i["sk"] for i in left] == (
            ["TOMBSTONE"] if logical_id == "UsersTable" else []
        ), logical_id
        assert [i for i in items if BOB in str(i.values())], logical_id
    assert user_pool_users(user_pool) == {BOB}
    assert invoke(profile_event(BOB, "bob@example.com"))["statusCode"] == 200


def test_deleted_email_can_be_taken_by_another_user(invoke: Any) -> None:
    invoke(profile_event())
    invoke(
        as_user(
            sample_event("user_management/account_delete.json"),
            ALICE,
            "alice@example.com",
        )
    )

    response = invoke(profile_event(BOB, "alice@example.com"))

    assert response["statusCode"] == 200


def test_delete_twice_is_still_204(invoke: Any) -> None:
    event = sample_event("user_management/account_delete.json")

    assert invoke(event)["statusCode"] == 204
    assert (
        invoke(sample_event("user_management/account_delete.json"))["statusCode"] == 204
    )


def test_cors_headers_for_an_allowed_origin_only(invoke: Any) -> None:
    allowed = invoke(with_origin(profile_event(), "https://app.example.com"))
    foreign = invoke(with_origin(profile_event(), "https://evil.example.net"))

    assert allowed["multiValueHeaders"]["Access-Control-Allow-Origin"] == [
        "https://app.example.com"
    ]
    assert "Access-Control-Allow-Origin" not in foreign.get("multiValueHeaders", {})
    assert "Access-Control-Allow-Origin" not in foreign.get("headers", {})


def test_unknown_route_is_404(invoke: Any) -> None:
    event = sample_event("user_management/profile_get.json")
    event["path"] = "/users/nothing-here"

    response = invoke(event)

    assert response["statusCode"] == 404


def test_email_and_preferences_change_together(invoke: Any) -> None:
    invoke(profile_event())

    response = invoke(
        put_profile(
            ALICE,
            {"email": "alice.b@example.com", "preferences": {"timezone": "Asia/Tokyo"}},
            "alice@example.com",
        )
    )

    assert response["statusCode"] == 200
    profile = body_of(response)
    assert profile["email"] == "alice.b@example.com"
    assert profile["preferences"]["timezone"] == "Asia/Tokyo"


def test_a_refused_email_change_changes_no_preference_either(invoke: Any) -> None:
    invoke(profile_event())
    invoke(profile_event(BOB, "bob@example.com"))

    response = invoke(
        put_profile(
            BOB,
            {"email": "alice@example.com", "preferences": {"timezone": "Asia/Tokyo"}},
            "alice@example.com",
        )
    )

    assert response["statusCode"] == 409
    bob = body_of(invoke(profile_event(BOB, "bob@example.com")))
    assert bob["preferences"]["timezone"] == "UTC"
    assert bob["email"] == "bob@example.com"
