"""OAuth against eBay's token endpoint: consent URL, code grant, refresh grant,
and the cached application token. Wire bodies: tests/fixtures/ebay/oauth_*.json
(eBay's OAuth guide, see the fixtures README)."""

from __future__ import annotations

import base64
import threading
import time
import traceback
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from ebay_test_support import CLIENT_ID, CLIENT_SECRET, NOW, RU_NAME, FakeClock, Wire

from sniper.ebay import (
    API_SCOPE,
    BUY_OFFER_AUCTION_SCOPE,
    IDENTITY_READONLY_SCOPE,
    USER_SCOPES,
    EbayAuthError,
    EbayClient,
    EbayPermanentError,
    EbayRateLimited,
    EbayTimeout,
    EbayTransientError,
)

TOKEN_URL = "https://api.ebay.com/identity/v1/oauth2/token"
CODE = (
    "v^1.1#i^1#r^1#f^0#I^3#p^3#t^Ul41XzY6QUM1QjVBMUE5MjE1NUUx"
    "MDNBMkFGOTY3NkJGNzkyNTdfMV8xI0VeMjYw"
)
REFRESH_TOKEN = (
    "v^1.1#i^1#p^3#r^1#I^3#f^0#t^Ul4xMF84OjIwNEE0RkM3RjA5QUZE"
    "MzgwNjlBOUMwRjQ2RjI3MzlDXzFfMSNFXjEyODQ="
)


def _form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode(), strict_parsing=True)


def _basic() -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()


def test_consent_url_asks_ebay_for_the_users_consent(client: EbayClient) -> None:
    url = client.consent_url("st-4f9c2a", USER_SCOPES)
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        "https://auth.ebay.com/oauth2/authorize"
    )
    query = parse_qs(parts.query, strict_parsing=True)
    assert query == {
        "client_id": [CLIENT_ID],
        "redirect_uri": [RU_NAME],  # the RuName, not a URL
        "response_type": ["code"],
        "scope": [f"{API_SCOPE} {BUY_OFFER_AUCTION_SCOPE} {IDENTITY_READONLY_SCOPE}"],
        "state": ["st-4f9c2a"],
    }
    assert "%20" in parts.query and "+" not in parts.query  # spaces as eBay shows


def test_consent_url_can_force_a_fresh_login(client: EbayClient) -> None:
    query = parse_qs(urlsplit(client.consent_url("s", prompt_login=True)).query)
    assert query["prompt"] == ["login"]


def test_consent_url_needs_a_state(client: EbayClient) -> None:
    with pytest.raises(ValueError, match="state"):
        client.consent_url("")


def test_exchange_code_posts_the_code_grant_and_reads_both_expiries(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    route = respx_mock.post(TOKEN_URL).respond(
        200, json=wire.json("oauth_token_authorization_code.json")
    )
    tokens = client.exchange_code(CODE)

    request = route.calls.last.request
    assert request.headers["Authorization"] == _basic()
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert _form(request) == {
        "grant_type": ["authorization_code"],
        "code": [CODE],
        "redirect_uri": [RU_NAME],
    }
    expected = wire.json("oauth_token_authorization_code.json")
    assert tokens.access_token.get_secret_value() == expected["access_token"]
    assert tokens.refresh_token.get_secret_value() == expected["refresh_token"]
    assert tokens.access_token_expires_at == int(NOW) + 7200
    assert tokens.refresh_token_expires_at == int(NOW) + 47_304_000
    assert expected["access_token"] not in repr(tokens)
    assert expected["refresh_token"] not in repr(tokens)


def test_refresh_returns_only_a_new_access_token(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    route = respx_mock.post(TOKEN_URL).respond(
        200, json=wire.json("oauth_token_refresh.json")
    )
    token = client.refresh_access_token(REFRESH_TOKEN, [BUY_OFFER_AUCTION_SCOPE])

    assert _form(route.calls.last.request) == {
        "grant_type": ["refresh_token"],
        "refresh_token": [REFRESH_TOKEN],
        "scope": [BUY_OFFER_AUCTION_SCOPE],
    }
    assert route.calls.last.request.headers["Authorization"] == _basic()
    assert token.access_token.get_secret_value().startswith("v^1.1#i^1#f^0#r^0")
    assert token.expires_at == int(NOW) + 7200


def test_a_dead_refresh_token_is_an_auth_error(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.post(TOKEN_URL).respond(
        400, json=wire.json("oauth_error_invalid_grant.json")
    )
    with pytest.raises(EbayAuthError) as caught:
        client.refresh_access_token(REFRESH_TOKEN)
    error = caught.value
    assert error.error_id == "invalid_grant"
    assert error.http_status == 400
    assert "refresh token is invalid" in str(error)
    assert REFRESH_TOKEN not in str(error) + repr(error)


def test_a_bad_keyset_is_not_blamed_on_the_user(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(TOKEN_URL).respond(
        401,
        json={
            "error": "invalid_client",
            "error_description": "client authentication failed",
        },
    )
    with pytest.raises(EbayPermanentError) as caught:
        client.exchange_code(CODE)
    assert not isinstance(caught.value, EbayAuthError)
    assert caught.value.error_id == "invalid_client"


def test_secrets_echoed_by_ebay_are_redacted(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(TOKEN_URL).respond(
        400,
        json={
            "error": "invalid_grant",
            "error_description": f"code {CODE} was already used",
        },
    )
    with pytest.raises(EbayAuthError) as caught:
        client.exchange_code(CODE)
    text = "".join(traceback.format_exception(caught.value))
    assert CODE not in text and CLIENT_SECRET not in text
    assert "[redacted] was already used" in str(caught.value)


def test_token_endpoint_outages_are_transient(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "7"}),
            httpx.Response(
                429,
                json={"error": "rate_limited", "error_description": "slow down"},
                headers={"Retry-After": "30"},
            ),
            httpx.ReadTimeout("timed out"),
        ]
    )
    with pytest.raises(EbayTransientError) as outage:
        client.refresh_access_token(REFRESH_TOKEN)
    assert outage.value.http_status == 503 and outage.value.retry_after == 7
    with pytest.raises(EbayRateLimited) as limited:
        client.refresh_access_token(REFRESH_TOKEN)
    assert limited.value.retry_after == 30
    with pytest.raises(EbayTimeout):
        client.refresh_access_token(REFRESH_TOKEN)


def test_a_token_answer_without_a_token_is_refused_without_echo(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    respx_mock.post(TOKEN_URL).respond(
        200, json={"refresh_token": REFRESH_TOKEN, "expires_in": 7200}
    )
    with pytest.raises(EbayPermanentError, match="access_token") as caught:
        client.exchange_code(CODE)
    assert REFRESH_TOKEN not in "".join(traceback.format_exception(caught.value))


def test_code_grant_answer_must_carry_a_refresh_token(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire
) -> None:
    respx_mock.post(TOKEN_URL).respond(200, json=wire.json("oauth_token_refresh.json"))
    with pytest.raises(EbayPermanentError, match="no refresh token"):
        client.exchange_code(CODE)


def test_application_token_uses_client_credentials_and_is_cached(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire, clock: FakeClock
) -> None:
    answer = wire.json("oauth_token_client_credentials.json")
    route = respx_mock.post(TOKEN_URL).respond(200, json=answer)

    assert client.application_token() == answer["access_token"]
    assert _form(route.calls.last.request) == {
        "grant_type": ["client_credentials"],
        "scope": [API_SCOPE],
    }
    assert route.calls.last.request.headers["Authorization"] == _basic()
    clock.advance(7200 - 301)
    assert client.application_token() == answer["access_token"]
    assert route.call_count == 1


def test_application_token_is_renewed_minutes_before_expiry(
    client: EbayClient, respx_mock: respx.MockRouter, clock: FakeClock
) -> None:
    route = respx_mock.post(TOKEN_URL).mock(
        side_effect=[
            httpx.Response(200, json={"access_token": "first", "expires_in": 7200}),
            httpx.Response(200, json={"access_token": "second", "expires_in": 7200}),
        ]
    )
    assert client.application_token() == "first"
    clock.advance(7200 - 300)  # five minutes left: renew now, not at expiry
    assert client.application_token() == "second"
    assert route.call_count == 2


def test_concurrent_callers_share_one_application_token_request(
    client: EbayClient, respx_mock: respx.MockRouter
) -> None:
    def slow_answer(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)
        return httpx.Response(200, json={"access_token": "shared", "expires_in": 7200})

    route = respx_mock.post(TOKEN_URL).mock(side_effect=slow_answer)
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(client.application_token()))
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["shared"] * 6
    assert route.call_count == 1
