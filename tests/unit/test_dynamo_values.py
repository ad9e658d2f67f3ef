"""Numbers read back from DynamoDB stay exact: money never passes through float."""

from __future__ import annotations

from decimal import Decimal

from sniper.repositories.dynamo import from_attribute_values, plain


def test_whole_numbers_become_int() -> None:
    assert plain({"amount": Decimal("2500"), "list": [Decimal("3")]}) == {
        "amount": 2500,
        "list": [3],
    }
    assert type(plain(Decimal("2500"))) is int


def test_a_fraction_stays_an_exact_decimal_never_a_float() -> None:
    value = plain({"amount": Decimal("2500.10")})["amount"]

    assert not isinstance(value, float)
    assert value == Decimal("2500.10")
    assert from_attribute_values({"n": {"N": "0.1"}})["n"] == Decimal("0.1")
