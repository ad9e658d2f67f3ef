"""Small helpers over boto3's DynamoDB types shared by the repositories."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_attribute_values(item: Mapping[str, Any]) -> dict[str, Any]:
    """A plain item in the low-level shape transactions need."""
    return {name: _serializer.serialize(value) for name, value in item.items()}


def from_attribute_values(item: Mapping[str, Any]) -> dict[str, Any]:
    """A low-level item back to plain Python, numbers as int where whole."""
    values = {name: _deserializer.deserialize(v) for name, v in item.items()}
    return {name: plain(value) for name, value in values.items()}


def plain(value: Any) -> Any:
    """Replace DynamoDB's whole Decimals with int, recursively.

    A fractional number stays a Decimal: money is integer cents and must never pass
    through float, so a fraction in storage is kept exact for the reader to refuse.
    """
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | set):
        return [plain(v) for v in value]
    return value


def cancellation_codes(error: ClientError) -> list[str]:
    """The per-item reasons of a cancelled transaction, 'None' where an item passed."""
    reasons = error.response.get("CancellationReasons", [])
    return [str(reason.get("Code", "None")) for reason in reasons]


def is_condition_failure(error: ClientError) -> bool:
    return bool(
        error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
    )


def is_transaction_cancelled(error: ClientError) -> bool:
    return bool(
        error.response.get("Error", {}).get("Code") == "TransactionCanceledException"
    )


def partition_keys(
    table: Any, partition_key: str, value: str, key_names: tuple[str, ...]
) -> Iterator[dict[str, Any]]:
    """Every primary key in one partition, page by page (a Query, never a Scan)."""
    projection = ", ".join(f"#k{i}" for i in range(len(key_names)))
    names = {f"#k{i}": name for i, name in enumerate(key_names)}
    kwargs: dict[str, Any] = {
        "KeyConditionExpression": Key(partition_key).eq(value),
        "ProjectionExpression": projection,
        "ExpressionAttributeNames": names,
    }
    while True:
        page = table.query(**kwargs)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
