"""Consent page, token endpoint and token lifetimes, over real HTTP."""

from __future__ import annotations

from urllib.parse import urlsplit

from local.ebay_emulator import BID_SCOPE, IDENTITY_SCOPE, PUBLIC_SCOPE, ManualClock

from .driver import APP, EbayDriver, basic_auth, trading_error_code
from .openapi_schemas import validate, validate_errors


def linked_tokens(ebay: EbayDriver, username: str = "buyer1") -> dict[str, object]:
    query = ebay.consent(username)
    response = ebay.code_grant(query["code"][0])
    assert response.status_code == 200, response.text
    tokens: dict[str, object] = response.json()
    return tokens


def test_code_flow_through_the_consent_form_yields_user_tokens(
    ebay: EbayDriver,
) -> None:
    query = ebay.consent("buyer1", state="opaque-state")

    assert query["state"] == ["opaque-state"]
    assert query["expires_in"] == ["299"]
    response = ebay.code_grant(query["code"][0])
    assert response.status_code == 200
    tokens = response.json()
    assert set(tokens) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "token_type",
    }
    assert tokens["expires_in"] == 7_200
    assert tokens["refresh_token_expires_in"] == 47_304_000
    assert tokens["token_type"] == "User Access Token"
    assert tokens["access_token"].startswith("v^1.1#i^1#")
    assert tokens["refresh_token"] != tokens["access_token"]


def test_the_linked_token_identifies_the_user_who_consented(ebay: EbayDriver) -> None:
    tokens = linked_tokens(ebay, "buyer1")

    response = ebay.identity(str(tokens["access_token"]))

    assert response.status_code == 200
    body = response.json()
    validate(body, "identity", "UserResponse")
    assert body["username"] == "buyer1"
    assert body["accountType"] == "INDIVIDUAL"
    assert body["status"] == "CONFIRMED"
    assert body["userId"]


def test_the_redirect_carries_the_code_url_encoded(ebay: EbayDriver) -> None:
    page_query = ebay.consent_query()
    form = {**page_query, "username": "buyer1", "decision": "agree"}

    location = ebay.http.post("/oauth2/authorize", data=form).headers["location"]

    raw_query = urlsplit(location).query
    assert "code=v%5E1.1%23i%5E1%23" in raw_query


def test_an_authorization_code_works_only_once(ebay: EbayDriver) -> None:
    code = ebay.consent("buyer1")["code"][0]
    assert ebay.code_grant(code).status_code == 200

    again = ebay.code_grant(code)

    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_an_authorization_code_expires_after_299_seconds(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    code = ebay.consent("buyer1")["code"][0]

    clock.advance(299)

    response = ebay.code_grant(code)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_the_code_must_be_redeemed_with_the_same_runame(ebay: EbayDriver) -> None:
    code = ebay.consent("buyer1")["code"][0]

    response = ebay.code_grant(code, redirect_uri="https://example.test/callback")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_declining_redirects_to_the_reject_url_without_a_code(ebay: EbayDriver) -> None:
    query = ebay.consent("buyer1", decision="Decline", state="s-9")

    assert query["state"] == ["s-9"]
    assert query["declined"] == ["true"]
    assert "code" not in query


def test_the_consent_page_refuses_an_unknown_client(ebay: EbayDriver) -> None:
    response = ebay.http.get(
        "/oauth2/authorize",
        params={**ebay.consent_query(), "client_id": "someone-else"},
    )

    assert response.status_code == 401
    assert response.json()["error_id"] == "unauthorized_client"


def test_the_consent_page_refuses_a_url_instead_of_the_runame(ebay: EbayDriver) -> None:
    query = {**ebay.consent_query(), "redirect_uri": APP.accept_url}

    response = ebay.http.get("/oauth2/authorize", params=query)

    assert response.status_code == 400
    assert response.json()["error_id"] == "invalid_request"


def test_the_consent_page_refuses_the_implicit_flow(ebay: EbayDriver) -> None:
    query = {**ebay.consent_query(), "response_type": "token"}

    assert ebay.http.get("/oauth2/authorize", params=query).status_code == 400


def test_the_consent_page_refuses_a_scope_the_keyset_lacks(ebay: EbayDriver) -> None:
    scope = f"{PUBLIC_SCOPE} https://api.ebay.com/oauth/api_scope/sell.inventory"

    response = ebay.http.get(
        "/oauth2/authorize", params=ebay.consent_query(scope=scope)
    )

    assert response.status_code == 400
    assert response.json()["error_id"] == "invalid_scope"


def test_prompt_login_forgets_the_remembered_username(ebay: EbayDriver) -> None:
    ebay.consent("remembered-user")

    remembered = ebay.http.get("/oauth2/authorize", params=ebay.consent_query())
    forced = ebay.http.get(
        "/oauth2/authorize", params={**ebay.consent_query(), "prompt": "login"}
    )

    assert 'value="remembered-user"' in remembered.text
    assert 'value="remembered-user"' not in forced.text


def test_an_empty_username_redisplays_the_form(ebay: EbayDriver) -> None:
    form = {**ebay.consent_query(), "username": "", "decision": "agree"}

    response = ebay.http.post("/oauth2/authorize", data=form)

    assert response.status_code == 400
    assert 'name="username"' in response.text


def test_the_form_needs_a_decision(ebay: EbayDriver) -> None:
    form = {**ebay.consent_query(), "username": "buyer1"}

    response = ebay.http.post("/oauth2/authorize", data=form)

    assert response.status_code == 400
    assert "Agree" in response.text


def test_the_refresh_grant_returns_an_access_token_but_no_new_refresh_token(
    ebay: EbayDriver,
) -> None:
    tokens = linked_tokens(ebay)

    response = ebay.token_request(
        {"grant_type": "refresh_token", "refresh_token": str(tokens["refresh_token"])}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert body["token_type"] == "User Access Token"
    assert body["access_token"] != tokens["access_token"]
    assert ebay.identity(body["access_token"]).status_code == 200


def test_the_refresh_token_keeps_working_after_use(ebay: EbayDriver) -> None:
    refresh = str(linked_tokens(ebay)["refresh_token"])
    form = {"grant_type": "refresh_token", "refresh_token": refresh}

    assert ebay.token_request(form).status_code == 200
    assert ebay.token_request(form).status_code == 200


def test_a_refresh_may_narrow_the_scopes_but_not_widen_them(ebay: EbayDriver) -> None:
    query = ebay.consent("buyer1", scope=f"{PUBLIC_SCOPE} {BID_SCOPE}")
    refresh = ebay.code_grant(query["code"][0]).json()["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh}

    narrowed = ebay.token_request({**form, "scope": BID_SCOPE})
    widened = ebay.token_request({**form, "scope": f"{BID_SCOPE} {IDENTITY_SCOPE}"})

    assert narrowed.status_code == 200
    assert widened.status_code == 400
    assert widened.json()["error"] == "invalid_scope"


def test_a_refresh_token_dies_after_47304000_seconds(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    refresh = str(linked_tokens(ebay)["refresh_token"])
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    clock.advance(47_303_999)
    assert ebay.token_request(form).status_code == 200

    clock.advance(1)

    response = ebay.token_request(form)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_an_access_token_expires_after_7200_seconds_on_every_api(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    token = str(linked_tokens(ebay)["access_token"])
    listing = ebay.listing(startPrice=1_000, endsInSeconds=90_000)
    clock.advance(7_199)
    assert ebay.identity(token).status_code == 200

    clock.advance(1)

    identity = ebay.identity(token)
    assert identity.status_code == 401
    assert identity.json()["errors"][0]["errorId"] == 1001
    validate_errors(identity.json(), "identity")
    assert ebay.browse_legacy(token, listing["itemId"]).status_code == 401
    assert ebay.bid(token, listing["restfulItemId"], "20.00").status_code == 401
    assert trading_error_code(ebay.trading(token)) == "21917053"


def test_the_token_endpoint_wants_the_right_client_secret(ebay: EbayDriver) -> None:
    response = ebay.token_request(
        {"grant_type": "client_credentials", "scope": PUBLIC_SCOPE},
        auth=basic_auth(secret="wrong"),
    )

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response.headers["www-authenticate"].startswith("Basic")


def test_the_token_endpoint_refuses_an_unknown_grant_type(ebay: EbayDriver) -> None:
    response = ebay.token_request({"grant_type": "password", "username": "x"})

    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_the_token_endpoint_wants_a_code_for_the_code_grant(ebay: EbayDriver) -> None:
    response = ebay.token_request(
        {"grant_type": "authorization_code", "redirect_uri": APP.ru_name}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_client_credentials_give_an_application_token(ebay: EbayDriver) -> None:
    response = ebay.token_request(
        {"grant_type": "client_credentials", "scope": PUBLIC_SCOPE}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type"}
    assert (body["expires_in"], body["token_type"]) == (
        7_200,
        "Application Access Token",
    )


def test_client_credentials_cannot_carry_user_scopes(ebay: EbayDriver) -> None:
    response = ebay.token_request(
        {"grant_type": "client_credentials", "scope": BID_SCOPE}
    )

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_an_application_token_reads_items_but_cannot_act_for_a_user(
    ebay: EbayDriver,
) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.app_token()

    assert ebay.browse_legacy(token, listing["itemId"]).status_code == 200
    refused = ebay.bid(token, listing["restfulItemId"], "20.00")
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["errorId"] == 1100
    assert ebay.identity(token).status_code == 403
    assert trading_error_code(ebay.trading(token)) == "21916984"


def test_a_user_token_without_the_bidding_scope_cannot_bid(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.user_tokens("buyer1", scopes=[PUBLIC_SCOPE])["access_token"]

    response = ebay.bid(token, listing["restfulItemId"], "20.00")

    assert response.status_code == 403
    validate_errors(response.json(), "offer")
