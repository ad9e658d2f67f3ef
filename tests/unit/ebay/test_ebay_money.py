"""Money: eBay's decimal strings in, integer cents out, and back exactly."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sniper.money import Money, format_cents, parse_cents


@pytest.mark.parametrize(
    ("wire", "cents"),
    [
        ("12.50", 1250),
        ("4.0", 400),  # Trading writes amounts like this
        ("4", 400),
        (4, 400),
        ("0.05", 5),
        ("152.5", 15250),
        ("1000.00", 100000),
        ("12.500", 1250),  # trailing zeros are still exact cents
        (Decimal("19.99"), 1999),
        ("0.1", 10),  # the classic float trap: 0.1 is exact here
    ],
)
def test_parse_reads_every_decimal_form_ebay_writes(
    wire: str | int | Decimal, cents: int
) -> None:
    assert Money.parse(wire, "USD") == Money(cents, "USD")


@pytest.mark.parametrize(
    "wire",
    [
        "1,000.00",
        "12.345",
        "",
        " 12.50",
        "1e3",
        "NaN",
        "Infinity",
        "-1.00",
        "12.",
        "$5",
    ],
)
def test_parse_rejects_what_is_not_a_plain_amount(wire: str) -> None:
    with pytest.raises(ValueError, match=r"amount|decimal"):
        parse_cents(wire)


def test_floats_are_refused_rather_than_rounded() -> None:
    with pytest.raises(TypeError, match="float"):
        Money.parse(12.5, "USD")  # type: ignore[arg-type]


def test_wire_format_always_has_two_decimals() -> None:
    assert Money(1250, "USD").to_wire() == "12.50"
    assert Money(5, "USD").to_wire() == "0.05"
    assert Money(100000, "EUR").to_wire() == "1000.00"
    assert format_cents(0) == "0.00"
    assert str(Money(2500, "GBP")) == "25.00 GBP"


def test_round_trip_is_exact() -> None:
    for cents in (0, 1, 9, 10, 99, 100, 101, 123456789):
        assert parse_cents(format_cents(cents)) == cents


def test_amount_is_an_exact_decimal() -> None:
    assert Money(1999, "USD").amount == Decimal("19.99")


def test_comparison_and_arithmetic_within_a_currency() -> None:
    bid = Money(15500, "USD")
    minimum = Money.parse("155.00", "USD")
    assert bid >= minimum
    assert Money(15250, "USD") < minimum
    assert minimum + Money(250, "USD") == Money(15750, "USD")
    assert minimum - Money(500, "USD") == Money(15000, "USD")


def test_currencies_never_mix() -> None:
    with pytest.raises(ValueError, match="USD with EUR"):
        _ = Money(100, "USD") < Money(100, "EUR")
    with pytest.raises(ValueError, match="USD with EUR"):
        _ = Money(100, "USD") + Money(100, "EUR")


@pytest.mark.parametrize("currency", ["usd", "US", "USDX", ""])
def test_currency_must_be_an_iso_code(currency: str) -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(100, currency)


def test_cents_must_be_a_non_negative_int() -> None:
    with pytest.raises(ValueError, match="negative"):
        Money(-1, "USD")
    with pytest.raises(TypeError):
        Money(12.5, "USD")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(True, "USD")
