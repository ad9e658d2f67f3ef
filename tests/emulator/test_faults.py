"""Injected faults: each kind, counts, seeded rates, path prefixes, clearing."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from local.ebay_emulator import ManualClock

from .driver import EbayDriver, trading_error_code, xml_root, xml_text
from .openapi_schemas import validate_errors


def test_a_status_fault_hits_the_next_matching_call_only(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.user_token("sniper")
    ebay.add_fault(kind="status", status=503, pathPrefix="/buy/offer/")

    failed = ebay.bid(token, listing["restfulItemId"], "15.00")
    retried = ebay.bid(token, listing["restfulItemId"], "15.00")

    assert failed.status_code == 503
    validate_errors(failed.json(), "offer")
    assert retried.status_code == 200
    assert ebay.read_listing(listing["itemId"])["bidCount"] == 1


def test_a_500_on_the_offer_api_reads_as_ebays_internal_error(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    ebay.add_fault(kind="status", status=500, pathPrefix="/buy/offer/")

    response = ebay.bid(ebay.user_token("sniper"), listing["restfulItemId"], "15.00")

    assert response.status_code == 500
    error = response.json()["errors"][0]
    assert (error["errorId"], error["domain"], error["category"]) == (
        120000,
        "API_OFFER",
        "APPLICATION",
    )


def test_a_fault_with_a_count_hits_that_many_calls(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.app_token()
    ebay.add_fault(kind="status", status=502, count=2, pathPrefix="/buy/browse/")

    statuses = [
        ebay.browse_legacy(token, listing["itemId"]).status_code for _ in range(3)
    ]

    assert statuses == [502, 502, 200]


def test_a_rate_limit_fault_answers_429_with_retry_after(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    ebay.add_fault(kind="rate_limit", retryAfter=7, pathPrefix="/buy/browse/")

    response = ebay.browse_legacy(ebay.app_token(), listing["itemId"])

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"
    validate_errors(response.json(), "browse")
    assert response.json()["errors"][0]["errorId"] == 2001


def test_a_latency_fault_delays_a_normal_answer(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.app_token()
    ebay.add_fault(kind="latency", delayMs=300, pathPrefix="/buy/browse/")

    started = time.monotonic()
    response = ebay.browse_legacy(token, listing["itemId"])
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert elapsed >= 0.3


def test_a_timeout_fault_outlasts_the_client_and_does_nothing(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.user_token("sniper")
    ebay.add_fault(kind="timeout", holdSeconds=0.6, pathPrefix="/buy/offer/")

    with pytest.raises(httpx.ReadTimeout):
        ebay.http.post(
            f"/buy/offer/v1_beta/bidding/v1%7C{listing['itemId']}%7C0/place_proxy_bid",
            json={"maxAmount": {"currency": "USD", "value": "15.00"}},
            headers=ebay.offer_headers(token),
            timeout=0.2,
        )
    time.sleep(0.6)

    assert ebay.read_listing(listing["itemId"])["bidCount"] == 0
    journal = ebay.admin("GET", "/requests").json()
    assert [(entry["fault"], entry["status"]) for entry in journal][-1] == (
        "timeout",
        504,
    )


def test_a_processed_timeout_places_the_bid_but_loses_the_answer(
    ebay: EbayDriver,
) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.user_token("sniper")
    ebay.add_fault(
        kind="timeout", holdSeconds=0.6, processed=True, pathPrefix="/buy/offer/"
    )

    with pytest.raises(httpx.ReadTimeout):
        ebay.http.post(
            f"/buy/offer/v1_beta/bidding/v1%7C{listing['itemId']}%7C0/place_proxy_bid",
            json={"maxAmount": {"currency": "USD", "value": "15.00"}},
            headers=ebay.offer_headers(token),
            timeout=0.2,
        )

    assert ebay.read_listing(listing["itemId"])["leader"] == "sniper"


def fault_pattern(ebay: EbayDriver, legacy_id: str, token: str) -> list[int]:
    ebay.admin("DELETE", "/faults")
    ebay.add_fault(
        kind="status", status=503, rate=0.5, seed=42, pathPrefix="/buy/browse/"
    )
    return [ebay.browse_legacy(token, legacy_id).status_code for _ in range(20)]


def test_a_seeded_rate_fails_the_same_calls_every_run(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.app_token()

    first = fault_pattern(ebay, listing["itemId"], token)
    second = fault_pattern(ebay, listing["itemId"], token)

    assert first == second
    assert 4 <= first.count(503) <= 16
    assert set(first) == {200, 503}


def test_a_path_prefix_keeps_other_apis_healthy(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    ebay.add_fault(kind="status", status=503, rate=1.0, pathPrefix="/buy/offer/")

    assert ebay.browse_legacy(ebay.app_token(), listing["itemId"]).status_code == 200
    assert (
        ebay.bid(ebay.user_token("s"), listing["restfulItemId"], "15.00").status_code
        == 503
    )


def test_deleting_faults_restores_service(ebay: EbayDriver) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.app_token()
    ebay.add_fault(kind="status", status=503, rate=1.0)
    assert ebay.browse_legacy(token, listing["itemId"]).status_code == 503

    assert ebay.admin("DELETE", "/faults").status_code == 200

    assert ebay.browse_legacy(token, listing["itemId"]).status_code == 200


def test_faults_never_touch_the_admin_api(ebay: EbayDriver) -> None:
    fault = ebay.add_fault(kind="status", status=503, count=3)

    assert ebay.admin("GET", "/clock").status_code == 200
    remaining = ebay.admin("GET", "/faults").json()[0]["remaining"]
    assert (fault["remaining"], remaining) == (3, 3)
    refused = ebay.admin(
        "POST", "/faults", json={"kind": "status", "pathPrefix": "/__admin"}
    )
    assert refused.status_code == 400


def test_a_trading_fault_answers_in_trading_xml(ebay: EbayDriver) -> None:
    token = ebay.user_token("buyer1")
    ebay.add_fault(kind="status", status=500, pathPrefix="/ws/api.dll")
    ebay.add_fault(kind="rate_limit", retryAfter=3, pathPrefix="/ws/api.dll")

    failed = ebay.trading(token)
    limited = ebay.trading(token)

    assert failed.status_code == 500
    assert trading_error_code(failed) == "10007"
    assert xml_text(xml_root(failed), "e:Errors/e:ErrorClassification") == "SystemError"
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")
    assert trading_error_code(limited) == "518"


def test_a_token_endpoint_fault_answers_in_oauth_json(ebay: EbayDriver) -> None:
    ebay.add_fault(kind="status", status=503, pathPrefix="/identity/v1/oauth2/token")

    response = ebay.token_request({"grant_type": "client_credentials", "scope": "x"})

    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "explode"},
        {"kind": "status", "status": 200},
        {"kind": "status", "rate": 1.5},
        {"kind": "latency", "pathPrefix": "buy"},
    ],
)
def test_a_nonsensical_fault_is_refused(
    ebay: EbayDriver, spec: dict[str, object]
) -> None:
    assert ebay.admin("POST", "/faults", json=spec).status_code == 400


def test_a_dropped_connection_fails_the_call_and_places_nothing(
    ebay: EbayDriver,
) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.user_token("sniper")
    ebay.add_fault(kind="drop", pathPrefix="/buy/offer/", method="POST")

    with pytest.raises(httpx.RemoteProtocolError):
        ebay.bid(token, listing["restfulItemId"], "15.00")

    assert ebay.read_listing(listing["itemId"])["bidCount"] == 0
    assert ebay.bid(token, listing["restfulItemId"], "15.00").status_code == 200
    journal = ebay.admin("GET", "/requests").json()
    assert [(e["fault"], e["status"]) for e in journal[-2:]] == [
        ("drop", None),
        (None, 200),
    ]


def test_a_processed_drop_places_the_bid_but_loses_the_answer(
    ebay: EbayDriver,
) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.user_token("sniper")
    ebay.add_fault(kind="drop", processed=True, pathPrefix="/buy/offer/")

    with pytest.raises(httpx.RemoteProtocolError):
        ebay.bid(token, listing["restfulItemId"], "15.00")

    assert ebay.read_listing(listing["itemId"])["leader"] == "sniper"
    assert ebay.bidding(token, listing["restfulItemId"]).status_code == 200


def test_a_dropped_connection_leaves_no_error_in_the_servers_log(
    ebay: EbayDriver, caplog: pytest.LogCaptureFixture
) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.app_token()
    ebay.add_fault(kind="drop", pathPrefix="/buy/browse/")
    server_log = logging.getLogger("uvicorn.error")  # it does not propagate
    server_log.addHandler(caplog.handler)
    try:
        with pytest.raises(httpx.RemoteProtocolError):
            ebay.browse_legacy(token, listing["itemId"])
        time.sleep(0.2)
    finally:
        server_log.removeHandler(caplog.handler)

    assert [r.getMessage() for r in caplog.records if r.levelname == "ERROR"] == []


def test_an_expired_token_is_refused_and_its_refresh_token_still_works(
    ebay: EbayDriver,
) -> None:
    listing = ebay.listing(startPrice=1_000)
    tokens = ebay.user_tokens("sniper")
    token = tokens["access_token"]
    ebay.add_fault(kind="expire_token", pathPrefix="/buy/offer/", method="POST")

    refused = ebay.bid(token, listing["restfulItemId"], "15.00")
    still_refused = ebay.bidding(token, listing["restfulItemId"])
    refreshed = ebay.token_request(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    fresh = refreshed.json()["access_token"]

    assert refused.status_code == 401
    assert refused.json()["errors"][0]["errorId"] == 1001
    assert still_refused.status_code == 401
    assert ebay.read_listing(listing["itemId"])["bidCount"] == 0
    assert ebay.bid(fresh, listing["restfulItemId"], "15.00").status_code == 200


def test_a_fault_window_applies_only_within_it_and_then_goes(
    ebay: EbayDriver, clock: ManualClock
) -> None:
    listing = ebay.listing(startPrice=1_000)
    token = ebay.app_token()
    now = clock.now()
    fault = ebay.add_fault(
        kind="status",
        status=503,
        pathPrefix="/buy/browse/",
        activeFrom=now + 10,
        activeUntil=now + 20,
    )

    def status() -> int:
        return ebay.browse_legacy(token, listing["itemId"]).status_code

    before = status()
    clock.advance(10)
    during = [status(), status()]
    clock.advance(10)
    after = status()

    assert (fault["remaining"], before, during, after) == (None, 200, [503, 503], 200)
    assert ebay.admin("GET", "/faults").json() == []


def test_a_fault_window_takes_iso_instants_and_must_be_a_window(
    ebay: EbayDriver,
) -> None:
    made = ebay.add_fault(
        kind="status",
        count=2,
        activeFrom="2026-01-01T00:00:10Z",
        activeUntil="2026-01-01T00:00:20Z",
    )
    backwards = ebay.admin(
        "POST",
        "/faults",
        json={"kind": "status", "activeFrom": 20.0, "activeUntil": 10.0},
    )

    assert (made["activeFrom"], made["activeUntil"]) == (1767225610.0, 1767225620.0)
    assert made["remaining"] == 2
    assert backwards.status_code == 400
