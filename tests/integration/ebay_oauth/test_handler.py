"""eBay OAuth through real API Gateway events: moto for AWS, the emulator for eBay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest

from sniper.ebay import BUY_OFFER_AUCTION_SCOPE, IDENTITY_READONLY_SCOPE
from sniper.observability import MASK, logger
from tests.conftest import MockedAws, reset_containers
from tests.support.ebay_world import APP, EbayWorld
from tests.support.handlers import (
    ALICE,
    BOB,
    Invoker,
    as_user,
    body_of,
    sample_event,
    with_body,
    without_claims,
)
from tests.support.logs import CapturedLogs, capture_logs


@pytest.fixture
def invoke(ebay: EbayWorld) -> Invoker:
    return Invoker("ebay_oauth")


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    with capture_logs() as captured:
        yield captured


def event(name: str, user: str = ALICE) -> dict[str, Any]:
    return as_user(sample_event(f"ebay_oauth/{name}.json"), user, f"{user}@x.example")


def start(invoke: Invoker, user: str = ALICE) -> dict[str, Any]:
    response = invoke(event("auth_url_get", user))
    assert response["statusCode"] == 200, response["body"]
    body: dict[str, Any] = body_of(response)
    return body


def callback(invoke: Invoker, code: str, state: str, user: str = ALICE) -> Any:
    return invoke(
        with_body(event("callback_post", user), {"code": code, "state": state})
    )


def link(invoke: Invoker, ebay: EbayWorld, username: str, user: str = ALICE) -> Any:
    started = start(invoke, user)
    redirect = ebay.consent(started["authUrl"], username)
    return callback(invoke, redirect["code"], redirect["state"], user)


def test_auth_url_points_at_consent_with_our_scopes_and_a_fresh_state(
    invoke: Invoker, ebay: EbayWorld, mocked_aws: MockedAws
) -> None:
    first = start(invoke)
    second = start(invoke)

    url = urlsplit(first["authUrl"])
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert first["authUrl"].startswith(f"{ebay.url}/oauth2/authorize?")
    assert query["client_id"] == APP.client_id
    assert query["redirect_uri"] == APP.ru_name
    assert query["response_type"] == "code"
    assert {BUY_OFFER_AUCTION_SCOPE, IDENTITY_READONLY_SCOPE} <= set(
        query["scope"].split()
    )
    assert query["state"] == first["state"]
    assert first["state"] != second["state"]
    assert len(first["state"]) >= 32
    states = [
        item
        for item in mocked_aws.all_items("UsersTable")
        if item["sk"].startswith("OAUTH_STATE#")
    ]
    assert {s["userId"] for s in states} == {ALICE}
    assert all(s["expiresAt"] - s["createdAt"] == 600 for s in states)


def test_linking_through_the_consent_page_stores_ciphertext_only(
    invoke: Invoker, ebay: EbayWorld, mocked_aws: MockedAws
) -> None:
    response = link(invoke, ebay, "ebay-alice")

    assert response["statusCode"] == 200, response["body"]
    status = body_of(response)
    assert status["isLinked"] is True
    assert status["accountId"] == "ebay-alice"
    assert status["tokenExpiresAt"] > status["linkedAt"] + 365 * 86400
    stored = mocked_aws.table("UsersTable").get_item(
        Key={"userId": ALICE, "sk": "EBAY_LINK"}
    )["Item"]
    ciphertext = bytes(stored["accessToken"].value)
    assert b"v^1.1" not in ciphertext
    assert b"v^1.1" not in bytes(stored["refreshToken"].value)
    kms = boto3.client("kms")
    plain = kms.decrypt(
        CiphertextBlob=ciphertext,
        EncryptionContext={"userId": ALICE, "purpose": "ebay-oauth-token"},
    )["Plaintext"].decode()
    assert plain.startswith("v^1.1")
    with pytest.raises(kms.exceptions.InvalidCiphertextException):
        kms.decrypt(
            CiphertextBlob=ciphertext,
            EncryptionContext={"userId": BOB, "purpose": "ebay-oauth-token"},
        )
    assert plain not in response["body"]


def stored_tokens(mocked_aws: MockedAws, user: str = ALICE) -> list[str]:
    """The user's eBay access and refresh tokens, decrypted from the stored link."""
    stored = mocked_aws.table("UsersTable").get_item(
        Key={"userId": user, "sk": "EBAY_LINK"}
    )["Item"]
    kms = boto3.client("kms")
    return [
        kms.decrypt(
            CiphertextBlob=bytes(stored[name].value),
            EncryptionContext={"userId": user, "purpose": "ebay-oauth-token"},
        )["Plaintext"].decode()
        for name in ("accessToken", "refreshToken")
    ]


def test_tokens_never_reach_the_logs(
    invoke: Invoker, ebay: EbayWorld, mocked_aws: MockedAws, logs: CapturedLogs
) -> None:
    started = start(invoke)
    redirect = ebay.consent(started["authUrl"], "ebay-alice")
    assert callback(invoke, redirect["code"], redirect["state"])["statusCode"] == 200
    assert body_of(invoke(event("status_get")))["isLinked"] is True
    secrets = [*stored_tokens(mocked_aws), redirect["code"]]

    assert invoke(event("unlink_delete"))["statusCode"] == 204

    written = logs.text
    assert "eBay account linked" in written  # the capture saw the requests
    assert "eBay account unlinked" in written
    assert all(secret.startswith("v^1.1") for secret in secrets)
    assert [secret for secret in secrets if secret in written] == []


def test_the_log_capture_sees_a_planted_leak(
    invoke: Invoker, ebay: EbayWorld, mocked_aws: MockedAws, logs: CapturedLogs
) -> None:
    # Proves the test above could fail: the masking covers secret-looking keys
    # and Bearer values only, so a token under any other key is written as is.
    link(invoke, ebay, "ebay-alice")
    token = stored_tokens(mocked_aws)[0]
    logs.clear()

    logger.error("planted", extra={"leak": token})
    logger.error("planted", extra={"access_token": token})
    logger.error(f"sent Authorization: Bearer {token}")

    leak, named, bearer = logs.lines()
    assert leak["leak"] == token
    assert named["access_token"] == MASK
    assert bearer["message"] == f"sent Authorization: Bearer {MASK}"
    assert logs.text.count(token) == 1


def test_status_before_and_after_linking(invoke: Invoker, ebay: EbayWorld) -> None:
    before = body_of(invoke(event("status_get")))
    link(invoke, ebay, "ebay-alice")
    after = body_of(invoke(event("status_get")))

    assert before["isLinked"] is False
    assert before["accountId"] is None
    assert after["isLinked"] is True
    assert after["accountId"] == "ebay-alice"
    assert after["ebayUserId"]


def test_a_state_is_single_use(invoke: Invoker, ebay: EbayWorld) -> None:
    started = start(invoke)
    redirect = ebay.consent(started["authUrl"], "ebay-alice")
    assert callback(invoke, redirect["code"], redirect["state"])["statusCode"] == 200

    again = callback(invoke, redirect["code"], redirect["state"])

    assert again["statusCode"] == 400
    assert "already used" in body_of(again)["message"]


def test_a_state_issued_to_another_user_is_refused(
    invoke: Invoker, ebay: EbayWorld
) -> None:
    started = start(invoke, BOB)
    redirect = ebay.consent(started["authUrl"], "ebay-bob")

    response = callback(invoke, redirect["code"], redirect["state"], ALICE)

    assert response["statusCode"] == 400
    assert body_of(invoke(event("status_get", ALICE)))["isLinked"] is False
    # Bob's state was not consumed by Alice's attempt.
    assert (
        callback(invoke, redirect["code"], redirect["state"], BOB)["statusCode"] == 200
    )


def test_an_expired_state_is_refused(
    invoke: Invoker, ebay: EbayWorld, mocked_aws: MockedAws
) -> None:
    started = start(invoke)
    redirect = ebay.consent(started["authUrl"], "ebay-alice")
    mocked_aws.table("UsersTable").update_item(
        Key={"userId": ALICE, "sk": f"OAUTH_STATE#{started['state']}"},
        UpdateExpression="SET expiresAt = :past",
        ExpressionAttributeValues={":past": 1_000_000},
    )

    response = callback(invoke, redirect["code"], redirect["state"])

    assert response["statusCode"] == 400
    assert "expired" in body_of(response)["message"]


def test_an_unknown_state_is_refused(invoke: Invoker, ebay: EbayWorld) -> None:
    response = callback(invoke, "some-code", "x" * 43)

    assert response["statusCode"] == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"state": "x" * 43}, "code"),
        ({"code": "abc"}, "state"),
        ({"code": "abc", "state": "short"}, "state"),
        ({"code": "abc", "state": "has spaces and ; semicolons!"}, "state"),
        ({"code": "", "state": "x" * 43}, "code"),
    ],
)
def test_malformed_callbacks_name_the_field(
    invoke: Invoker, ebay: EbayWorld, body: dict[str, str], field: str
) -> None:
    response = invoke(with_body(event("callback_post"), body))

    assert response["statusCode"] == 400
    assert field in body_of(response)["message"]


def test_a_callback_that_is_not_json_is_415_and_keeps_the_state(
    invoke: Invoker, ebay: EbayWorld
) -> None:
    state = start(invoke)["state"]
    for content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        posted = event("callback_post")
        posted["body"], posted["isBase64Encoded"] = f"code=c&state={state}", False
        posted["headers"]["Content-Type"] = content_type
        posted["multiValueHeaders"]["Content-Type"] = [content_type]

        answer = invoke(posted)

        assert answer["statusCode"] == 415
        assert body_of(answer)["code"] == "UNSUPPORTED_MEDIA_TYPE"
    redirect = ebay.consent(start(invoke)["authUrl"], "ebay-alice")
    linked = callback(invoke, redirect["code"], redirect["state"])
    assert linked["statusCode"] == 200, linked["body"]


def test_a_code_ebay_refuses_is_401(invoke: Invoker, ebay: EbayWorld) -> None:
    started = start(invoke)

    response = callback(invoke, "v^1.1#not-a-code-ebay-issued", started["state"])

    assert response["statusCode"] == 401
    assert "refused the authorization code" in body_of(response)["message"]


def test_an_ebay_account_linked_to_another_user_is_409(
    invoke: Invoker, ebay: EbayWorld
) -> None:
    assert link(invoke, ebay, "ebay-shared", ALICE)["statusCode"] == 200

    response = link(invoke, ebay, "ebay-shared", BOB)

    assert response["statusCode"] == 409
    assert body_of(invoke(event("status_get", BOB)))["isLinked"] is False


def test_relinking_the_same_account_keeps_the_link(
    invoke: Invoker, ebay: EbayWorld
) -> None:
    first = body_of(link(invoke, ebay, "ebay-alice"))

    second = link(invoke, ebay, "ebay-alice")

    assert second["statusCode"] == 200
    assert body_of(second)["linkedAt"] == first["linkedAt"]


def test_unlink_frees_the_ebay_account(invoke: Invoker, ebay: EbayWorld) -> None:
    link(invoke, ebay, "ebay-shared", ALICE)

    response = invoke(event("unlink_delete", ALICE))

    assert response["statusCode"] == 204
    assert body_of(invoke(event("status_get", ALICE)))["isLinked"] is False
    assert link(invoke, ebay, "ebay-shared", BOB)["statusCode"] == 200
    assert invoke(event("unlink_delete", ALICE))["statusCode"] == 204


def test_ebay_token_endpoint_failure_is_502(invoke: Invoker, ebay: EbayWorld) -> None:
    started = start(invoke)
    redirect = ebay.consent(started["authUrl"], "ebay-alice")
    ebay.fault(kind="status", status=503, count=5, pathPrefix="/identity/v1/oauth2")

    response = callback(invoke, redirect["code"], redirect["state"])

    assert response["statusCode"] == 502
    assert body_of(response)["message"]


def test_every_route_needs_a_caller(invoke: Invoker, ebay: EbayWorld) -> None:
    for name in ("auth_url_get", "callback_post", "unlink_delete", "status_get"):
        response = invoke(without_claims(sample_event(f"ebay_oauth/{name}.json")))

        assert response["statusCode"] == 401, name


def test_deleting_the_account_removes_tokens_and_frees_the_ebay_account(
    invoke: Invoker, ebay: EbayWorld, mocked_aws: MockedAws, user_pool: str
) -> None:
    link(invoke, ebay, "ebay-shared", ALICE)
    users = Invoker("user_management")
    profile = as_user(sample_event("user_management/profile_get.json"), ALICE, "a@x.io")
    assert users(profile)["statusCode"] == 200
    delete = as_user(sample_event("user_management/account_delete.json"), ALICE)

    assert users(delete)["statusCode"] == 204

    leftovers = [
        item
        for item in mocked_aws.all_items("UsersTable")
        if ALICE in (item["userId"], item.get("ownerId"))
    ]
    assert [item["sk"] for item in leftovers] == ["TOMBSTONE"]
    assert link(invoke, ebay, "ebay-shared", BOB)["statusCode"] == 200


def test_linking_a_second_ebay_account_is_409_and_keeps_the_first(
    invoke: Invoker, ebay: EbayWorld
) -> None:
    assert link(invoke, ebay, "ebay-alice")["statusCode"] == 200

    second = link(invoke, ebay, "ebay-alice-other")

    assert second["statusCode"] == 409
    message = body_of(second)["message"]
    assert "unlink it first" in message
    assert "ebay-alice" in message
    status = body_of(invoke(event("status_get")))
    assert status["accountId"] == "ebay-alice"
    # Once unlinked, the new account links.
    assert invoke(event("unlink_delete"))["statusCode"] == 204
    assert link(invoke, ebay, "ebay-alice-other")["statusCode"] == 200


def test_a_misconfigured_ebay_integration_is_a_500_with_the_api_body(
    invoke: Invoker, ebay: EbayWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EBAY_ENVIRONMENT", "mars")
    reset_containers()

    response = invoke(event("auth_url_get"))

    assert response["statusCode"] == 500
    body = body_of(response)
    assert body["code"] == "INTERNAL_ERROR"
    assert "mars" not in body["message"]
    assert "Traceback" not in response["body"]
