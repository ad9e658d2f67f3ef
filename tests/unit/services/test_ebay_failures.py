"""An eBay failure reaches the caller saying what happened: a timeout, an error
answer, no connection or the rate limit, each with its own status and code.

The timeout and the connection failure come off the real transport (respx plays
the network); the 5xx and 429 answers go through the REST error builder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
import respx

from sniper.ebay import EbayTransientError
from sniper.ebay.http import EbayTransport
from sniper.ebay.rest import raise_for_rest_status
from sniper.ebay.retry import call_with_retries
from sniper.errors import SniperError
from sniper.services.ebay_failures import ebay_failures_as_api_errors
from tests.support.logs import CapturedLogs, capture_logs

URL = "https://api.ebay.com/buy/browse/v1/item/v1%7C1%7C0"


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    with capture_logs() as captured:
        yield captured


def answered(failure: Callable[[], object]) -> SniperError:
    """What the API answers when `failure` raises inside a route's eBay calls."""
    with pytest.raises(SniperError) as caught, ebay_failures_as_api_errors():
        failure()
    return caught.value


def rest_answer(status: int, headers: dict[str, str] | None = None) -> None:
    body = {"errors": [{"errorId": 2003, "message": "Internal error"}]}
    response = httpx.Response(status, json=body, headers=headers)
    raise_for_rest_status(response)


def get_through_transport() -> None:
    with httpx.Client() as http:
        EbayTransport(http).send("GET", URL)


def test_a_timeout_says_ebay_did_not_answer_in_time(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.get(URL).mock(side_effect=httpx.ReadTimeout("read timed out"))

    error = answered(get_through_transport)

    assert (error.status_code, error.code) == (504, "EBAY_TIMEOUT")
    assert error.message == "eBay did not answer in time; try again."


def test_no_time_left_for_a_retry_reads_as_a_timeout() -> None:
    error = answered(lambda: call_with_retries(lambda left: None, deadline=0.0))

    assert (error.status_code, error.code) == (504, "EBAY_TIMEOUT")


def test_a_connection_failure_says_ebay_could_not_be_reached(
    respx_mock: respx.MockRouter,
) -> None:
    respx_mock.get(URL).mock(side_effect=httpx.ConnectError("connection refused"))

    error = answered(get_through_transport)

    assert (error.status_code, error.code) == (502, "EBAY_UNREACHABLE")
    assert error.message == "eBay could not be reached; try again in a moment."
    assert "time" not in error.message


@pytest.mark.parametrize("status", [500, 502, 503])
def test_an_error_answer_names_ebays_status_not_a_timeout(status: int) -> None:
    error = answered(lambda: rest_answer(status))

    assert (error.status_code, error.code) == (502, "EBAY_UNAVAILABLE")
    assert error.message == (
        f"eBay answered with an error ({status}); try again in a moment."
    )
    assert error.headers == {}


def test_an_error_answer_passes_ebays_retry_after_on() -> None:
    error = answered(lambda: rest_answer(503, {"Retry-After": "7"}))

    assert error.headers == {"Retry-After": "7"}


def test_tradings_internal_error_inside_a_200_is_an_error_answer() -> None:
    def trading_internal_error() -> None:
        raise EbayTransientError("Internal error", error_id=10007, http_status=200)

    error = answered(trading_internal_error)

    assert (error.status_code, error.code) == (502, "EBAY_UNAVAILABLE")
    assert error.message == "eBay reported an internal error; try again in a moment."


def test_the_rate_limit_is_503_with_ebays_retry_after() -> None:
    error = answered(lambda: rest_answer(429, {"Retry-After": "30"}))

    assert (error.status_code, error.code) == (503, "EBAY_RATE_LIMITED")
    assert error.headers == {"Retry-After": "30"}
    assert error.message == "eBay's rate limit was reached; try again in 30 seconds."


def test_a_rate_limit_without_a_hint_asks_for_a_minute() -> None:
    error = answered(lambda: rest_answer(429))

    assert error.headers == {"Retry-After": "60"}


def test_the_log_line_names_the_kind_of_failure(
    respx_mock: respx.MockRouter, logs: CapturedLogs
) -> None:
    respx_mock.get(URL).mock(side_effect=httpx.ConnectError("connection refused"))

    answered(get_through_transport)

    (line,) = [line for line in logs.lines() if line["message"] == "eBay unavailable"]
    assert line["ebay_failure"] == "EBAY_UNREACHABLE"
    assert line["level"] == "WARNING"
