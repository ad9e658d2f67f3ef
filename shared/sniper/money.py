"""Money as integer cents plus an ISO 4217 currency code.

Floats cannot represent most decimal amounts exactly, so a max bid of 12.10 could
silently become 12.09. Everything outside the wire therefore uses integer cents;
eBay's decimal strings are parsed with ``Decimal`` and formatted back exactly.
All marketplaces the sniper supports (US, CA, GB, AU, DE, FR, IT, ES) use
currencies with two decimal places, so "cents" means hundredths.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import total_ordering

_CURRENCY = re.compile(r"[A-Z]{3}")
# Plain decimal notation only: no thousands separators, exponents, blanks or signs.
_DECIMAL = re.compile(r"\d+(?:\.\d+)?")
_HUNDRED = Decimal(100)


@total_ordering
@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units (cents) of ``currency``; never negative."""

    cents: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.cents, bool) or not isinstance(self.cents, int):
            raise TypeError("Money.cents must be an int")
        if self.cents < 0:
            raise ValueError("Money cannot be negative")
        if not isinstance(self.currency, str) or not _CURRENCY.fullmatch(self.currency):
            raise ValueError(f"not an ISO 4217 currency code: {self.currency!r}")

    @classmethod
    def parse(cls, value: str | int | Decimal, currency: str) -> Money:
        """Read eBay's amount ("12.50", "4.0", 4) exactly; refuse anything else.

        Floats are refused on purpose: by the time an amount is a float it may
        already be wrong.
        """
        return cls(cents=parse_cents(value), currency=currency)

    @property
    def amount(self) -> Decimal:
        """The amount as an exact ``Decimal`` (12.50 for 1250 cents)."""
        return Decimal(self.cents) / _HUNDRED

    def to_wire(self) -> str:
        """The decimal string eBay expects: always two decimals ("12.50")."""
        return format_cents(self.cents)

    def __str__(self) -> str:
        return f"{self.to_wire()} {self.currency}"

    def _same_currency(self, other: Money) -> None:
        if self.currency != other.currency:
            raise ValueError(
                f"cannot combine {self.currency} with {other.currency} amounts"
            )

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other)
        return self.cents < other.cents

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents - other.cents, self.currency)


def parse_cents(value: str | int | Decimal) -> int:
    """Convert an eBay amount to cents, refusing floats and sub-cent precision."""
    if isinstance(value, bool | float):
        raise TypeError("money must not be given as a float (or bool)")
    if isinstance(value, int):
        decimal = Decimal(value)
    elif isinstance(value, Decimal):
        decimal = value
    elif isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise ValueError(f"not a plain decimal amount: {value!r}")
        decimal = Decimal(value)
    else:
        raise TypeError(f"cannot read money from {type(value).__name__}")
    if not decimal.is_finite() or decimal < 0:
        raise ValueError(f"not a non-negative finite amount: {value!r}")
    try:
        scaled = decimal * _HUNDRED
        cents = scaled.to_integral_exact()
    except InvalidOperation as exc:  # pragma: no cover - defensive
        raise ValueError(f"not an amount: {value!r}") from exc
    if cents != scaled:
        raise ValueError(f"amount has more than two decimals: {value!r}")
    return int(cents)


def format_cents(cents: int) -> str:
    """Format cents the way eBay writes amounts: 1250 -> "12.50"."""
    if cents < 0:
        raise ValueError("money cannot be negative")
    return f"{cents // 100}.{cents % 100:02d}"
