"""Money and time as eBay writes them."""

from __future__ import annotations

import pytest

from local.ebay_emulator.money import (
    MoneyError,
    format_amount,
    format_trading_amount,
    parse_decimal_amount,
)
from local.ebay_emulator.timefmt import (
    format_duration,
    format_timestamp,
    parse_timestamp,
)


@pytest.mark.parametrize(
    ("text", "cents"), [("12.50", 1_250), ("4.0", 400), ("7", 700), ("0.05", 5)]
)
def test_any_decimal_form_reads_as_cents(text: str, cents: int) -> None:
    assert parse_decimal_amount(text) == cents


@pytest.mark.parametrize("text", ["12.345", "abc", "", "NaN", "Infinity"])
def test_unreadable_amounts_are_refused(text: str) -> None:
    with pytest.raises(MoneyError):
        parse_decimal_amount(text)


@pytest.mark.parametrize(
    ("cents", "rest", "trading"),
    [
        (2_050, "20.50", "20.5"),
        (400, "4.00", "4.0"),
        (2_099, "20.99", "20.99"),
        (5, "0.05", "0.05"),
    ],
)
def test_amounts_are_written_as_each_api_writes_them(
    cents: int, rest: str, trading: str
) -> None:
    assert (format_amount(cents), format_trading_amount(cents)) == (rest, trading)


@pytest.mark.parametrize(
    ("seconds", "duration"),
    [
        (0, "PT0S"),
        (-5, "PT0S"),
        (59.9, "PT59S"),
        (3_600, "PT1H"),
        (93_784, "P1DT2H3M4S"),
        (86_400, "P1D"),
    ],
)
def test_time_left_is_an_iso_8601_duration(seconds: float, duration: str) -> None:
    assert format_duration(seconds) == duration


def test_timestamps_are_utc_with_milliseconds() -> None:
    assert format_timestamp(1_767_225_600.5) == "2026-01-01T00:00:00.500Z"
    assert parse_timestamp("2026-01-01T00:00:00.500Z") == 1_767_225_600.5
    assert parse_timestamp("2026-01-01T00:00:00") == 1_767_225_600.0
