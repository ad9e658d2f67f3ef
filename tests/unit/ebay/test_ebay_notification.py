"""Notification API getPublicKey with the application token, cached per key id.

Wire body: ebay-openapi/notification.yaml `PublicKey` (algorithm, digest, key),
with the key on one line between the PEM markers, as eBay sends it (eBay's event
notification SDKs re-insert the line breaks before loading it). The key is one of
ours; the key id has the shape of eBay's (a UUID). The 404 body is the yaml's
error 195001 in eBay's REST error shape.
"""

from __future__ import annotations

import httpx
import pytest
import respx
from ebay_test_support import FakeClock

from sniper.ebay import (
    EbayClient,
    EbayPermanentError,
    EbayPublicKeyNotFound,
    EbayTransientError,
    NotificationPublicKey,
)
from sniper.ebay.notification import (
    UNKNOWN_KEY_CACHE_SECONDS,
    UNKNOWN_KEY_LOOKUPS_PER_MINUTE,
    load_public_key,
)

TOKEN_URL = "https://api.ebay.com/identity/v1/oauth2/token"
KEY_ID = "3f7c2b1e-9a4d-4c6b-8e2f-5d1a0b9c8e7f"
KEY_URL = f"https://api.ebay.com/commerce/notification/v1/public_key/{KEY_ID}"
APP_TOKEN = "v^1.1#i^1#p^1#r^0#I^3#f^0#t^APP-TOKEN"
PUBLIC_KEY = {
    "algorithm": "ECDSA",
    "digest": "SHA1",
    "key": "-----BEGIN PUBLIC KEY-----"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEtcjuo2kPXqwbquSPG8UmqM9lq7upSxk0Z5jL"
    "AzdRAMtwCsjcsupuYD+bwW1gDuMSEeLP9gGF9OaBjPN5GER43g=="
    "-----END PUBLIC KEY-----",
}
INVALID_KEY_ID = {
    "errors": [
        {
            "errorId": 195001,
            "domain": "API_NOTIFICATION",
            "category": "REQUEST",
            "message": "The specified key id is invalid.",
        }
    ]
}


@pytest.fixture
def app_token(respx_mock: respx.MockRouter) -> respx.Route:
    return respx_mock.post(TOKEN_URL).respond(
        200, json={"access_token": APP_TOKEN, "expires_in": 7200}
    )


def test_get_public_key_asks_with_the_application_token(
    client: EbayClient, respx_mock: respx.MockRouter, app_token: respx.Route
) -> None:
    route = respx_mock.get(KEY_URL).respond(200, json=PUBLIC_KEY)

    key = client.get_public_key(KEY_ID)

    assert key == NotificationPublicKey(
        algorithm="ECDSA", digest="SHA1", key_pem=PUBLIC_KEY["key"]
    )
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    assert (
        request.url.raw_path
        == f"/commerce/notification/v1/public_key/{KEY_ID}".encode()
    )
    assert "client_credentials" in app_token.calls.last.request.content.decode()
    assert load_public_key(key.key_pem).curve.name == "secp256r1"


def test_a_key_is_fetched_once_an_hour_per_key_id(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    app_token: respx.Route,
    clock: FakeClock,
) -> None:
    route = respx_mock.get(KEY_URL).respond(200, json=PUBLIC_KEY)
    other = respx_mock.get(
        "https://api.ebay.com/commerce/notification/v1/public_key/other-key"
    ).respond(200, json=PUBLIC_KEY)

    client.get_public_key(KEY_ID)
    clock.advance(3_599)
    client.get_public_key(KEY_ID)
    client.get_public_key("other-key")
    assert (route.call_count, other.call_count) == (1, 1)

    clock.advance(2)
    client.get_public_key(KEY_ID)
    assert route.call_count == 2
    assert app_token.call_count == 1


def test_an_unknown_key_id_costs_one_call_per_five_minutes(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    app_token: respx.Route,
    clock: FakeClock,
) -> None:
    route = respx_mock.get(KEY_URL).respond(404, json=INVALID_KEY_ID)

    for _ in range(3):
        with pytest.raises(EbayPublicKeyNotFound) as caught:
            client.get_public_key(KEY_ID)
    assert caught.value.http_status == 404
    assert isinstance(caught.value, EbayPermanentError)
    assert route.call_count == 1

    clock.advance(UNKNOWN_KEY_CACHE_SECONDS + 1)
    with pytest.raises(EbayPublicKeyNotFound) as first:
        client.get_public_key(KEY_ID)
    assert first.value.error_id == 195001
    assert route.call_count == 2


def test_forged_key_ids_never_push_the_real_key_out(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    app_token: respx.Route,
    clock: FakeClock,
) -> None:
    real = respx_mock.get(KEY_URL).respond(200, json=PUBLIC_KEY)
    forged = respx_mock.get(
        url__startswith="https://api.ebay.com/commerce/notification/v1/public_key/forged"
    ).respond(404, json=INVALID_KEY_ID)
    client.get_public_key(KEY_ID)

    for index in range(100):
        clock.advance(60 / UNKNOWN_KEY_LOOKUPS_PER_MINUTE)  # within the bound
        with pytest.raises(EbayPublicKeyNotFound):
            client.get_public_key(f"forged-{index}")
    client.get_public_key(KEY_ID)

    assert forged.call_count == 100
    assert real.call_count == 1


def test_a_refused_application_token_is_renewed_once(
    client: EbayClient, respx_mock: respx.MockRouter, app_token: respx.Route
) -> None:
    respx_mock.get(KEY_URL).mock(
        side_effect=[
            httpx.Response(401, json={"errors": [{"errorId": 1001}]}),
            httpx.Response(200, json=PUBLIC_KEY),
        ]
    )

    assert client.get_public_key(KEY_ID).digest == "SHA1"
    assert app_token.call_count == 2


def test_an_answer_without_a_key_is_a_permanent_error(
    client: EbayClient, respx_mock: respx.MockRouter, app_token: respx.Route
) -> None:
    respx_mock.get(KEY_URL).respond(200, json={"algorithm": "ECDSA", "digest": "SHA1"})

    with pytest.raises(EbayPermanentError, match="lacks algorithm, digest or key"):
        client.get_public_key(KEY_ID)


def test_notification_internal_errors_are_transient(
    client: EbayClient, respx_mock: respx.MockRouter, app_token: respx.Route
) -> None:
    respx_mock.get(KEY_URL).respond(
        500, json={"errors": [{"errorId": 195000, "domain": "API_NOTIFICATION"}]}
    )

    with pytest.raises(EbayTransientError) as caught:
        client.get_public_key(KEY_ID)
    assert caught.value.error_id == 195000


@pytest.mark.parametrize("key_id", ["", "../identity", "a b", "x" * 129, "k?x=1"])
def test_a_malformed_key_id_costs_no_call(
    client: EbayClient, respx_mock: respx.MockRouter, key_id: str
) -> None:
    with pytest.raises(ValueError, match="public key id"):
        client.get_public_key(key_id)
    assert not respx_mock.calls
