"""Commerce Identity getUser. Wire body: tests/fixtures/ebay/identity_get_user.json
(ebay-openapi/identity.yaml UserResponse)."""

from __future__ import annotations

import pytest
import respx
from ebay_test_support import USER_TOKEN, Wire

from sniper.ebay import EbayAuthError, EbayClient, EbayTransientError, EbayUser

USER_URL = "https://apiz.ebay.com/commerce/identity/v1/user/"


def test_get_user_asks_apiz_with_the_user_token(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    route = respx_mock.get(USER_URL).respond(
        200, json=wire.json("identity_get_user.json")
    )
    user = client.get_user(USER_TOKEN)
    assert user == EbayUser(user_id="nY2Li1XH0hV", username="bidder_jane_2019")
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {USER_TOKEN}"
    assert request.url.raw_path == b"/commerce/identity/v1/user/"


def test_a_user_without_username_is_known_by_the_immutable_id(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(USER_URL).respond(200, json={"userId": "nY2Li1XH0hV"})
    assert client.get_user(USER_TOKEN).username == "nY2Li1XH0hV"


def test_an_expired_user_token_is_an_auth_error_without_the_token(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.get(USER_URL).respond(
        401, json=wire.json("rest_error_1001_invalid_token.json")
    )
    with pytest.raises(EbayAuthError) as caught:
        client.get_user(USER_TOKEN)
    assert caught.value.error_id == 1001
    assert str(caught.value) == "Invalid access token (eBay error 1001, HTTP 401)"
    assert USER_TOKEN not in repr(caught.value)


def test_identity_internal_errors_are_transient(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.get(USER_URL).respond(
        500,
        json={
            "errors": [
                {
                    "errorId": 140000,
                    "domain": "API_IDENTITY",
                    "category": "APPLICATION",
                    "message": "There was a problem with an eBay internal system",
                }
            ]
        },
    )
    with pytest.raises(EbayTransientError) as caught:
        client.get_user(USER_TOKEN)
    assert caught.value.error_id == 140000
