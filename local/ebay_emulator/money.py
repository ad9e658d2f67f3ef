"""Money conversions: integer cents inside, eBay's string amounts on the wire."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENTS = Decimal(100)


class MoneyError(ValueError):
    """An amount that cannot be read as a positive number of cents."""


def parse_decimal_amount(value: str) -> int:
    """Read an eBay amount string ("12.50", "4.0", "7") as cents.

    Amounts with more than two decimals are refused rather than rounded: a bid
    must mean exactly what its sender wrote.
    """
    try:
        amount = Decimal(value.strip())
    except (InvalidOperation, AttributeError) as error:
        raise MoneyError(f"not an amount: {value!r}") from error
    if not amount.is_finite():
        raise MoneyError(f"not an amount: {value!r}")
    cents = amount * CENTS
    if cents != cents.to_integral_value():
        raise MoneyError(f"more than two decimals: {value!r}")
    return int(cents)


def format_amount(cents: int) -> str:
    """Cents as the REST APIs write them: always two decimals ("20.50")."""
    sign = "-" if cents < 0 else ""
    whole, fraction = divmod(abs(cents), 100)
    return f"{sign}{whole}.{fraction:02d}"


def format_trading_amount(cents: int) -> str:
    """Cents as the Trading API writes them: shortest form, one decimal at least.

    eBay's XML says `4.0` and `12.5`; clients must parse any decimal form, so the
    emulator writes the terse one to keep them honest.
    """
    text = format_amount(cents).rstrip("0")
    return text + "0" if text.endswith(".") else text


def amount(cents: int, currency: str) -> dict[str, str]:
    """The REST `Amount` object: `{"value": "12.50", "currency": "USD"}`."""
    return {"value": format_amount(cents), "currency": currency}
