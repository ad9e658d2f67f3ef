"""The eBay client logs through the functions' Logger, so its lines are masked too.

A stdlib ``logging.getLogger(__name__)`` here would reach CloudWatch through
Lambda's root handler, past the redacting formatter; these tests read what the
Logger actually writes (tests/support/logs.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import respx
from ebay_test_support import USER_TOKEN, Wire

from sniper.ebay import EbayClient, EbayTransientError, retry, trading
from sniper.ebay.retry import call_with_retries
from sniper.observability import MASK
from tests.support.logs import CapturedLogs, capture_logs

TRADING_URL = "https://api.ebay.com/ws/api.dll"


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    with capture_logs() as captured:
        yield captured


def test_a_retry_warning_quoting_a_bearer_token_is_written_masked(
    logs: CapturedLogs,
) -> None:
    failures = [EbayTransientError(f"eBay refused Authorization: Bearer {USER_TOKEN}")]

    def call(seconds_left: float) -> str:
        if failures:
            raise failures.pop()
        return "ok"

    answer = call_with_retries(call, 100.0, clock=lambda: 0.0, sleep=lambda _: None)

    assert answer == "ok"
    (line,) = logs.lines()
    assert line["level"] == "WARNING"
    assert line["message"].startswith(
        f"eBay call failed (eBay refused Authorization: Bearer {MASK})"
    )
    assert USER_TOKEN not in logs.text


def test_the_retry_and_trading_loggers_mask_secret_keys(logs: CapturedLogs) -> None:
    for module in (retry, trading):
        module.logger.warning(
            "calling eBay",
            extra={"access_token": USER_TOKEN, "source": module.__name__},
        )

    lines = logs.lines()
    assert [line["source"] for line in lines] == [
        "sniper.ebay.retry",
        "sniper.ebay.trading",
    ]
    assert all(line["access_token"] == MASK for line in lines)
    assert USER_TOKEN not in logs.text


def test_a_trading_warning_reaches_the_functions_log(
    client: EbayClient, respx_mock: respx.MockRouter, wire: Wire, logs: CapturedLogs
) -> None:
    runaway = wire.bytes("trading_watch_list_page1.xml").replace(
        b"<TotalNumberOfPages>2<", b"<TotalNumberOfPages>99<"
    )
    respx_mock.post(TRADING_URL).mock(
        side_effect=[
            httpx.Response(200, content=runaway),
            httpx.Response(200, content=wire.bytes("trading_watch_list_empty.xml")),
        ]
    )

    client.get_watch_list(USER_TOKEN)

    (line,) = logs.lines()
    assert line["message"] == "watch list reports 99 pages; reading the first 25"
    assert USER_TOKEN not in logs.text
