"""Guard items: one item per unique value (an email, an eBay account) naming its owner.

A conditional write on one item cannot see another, so uniqueness across users is
kept by writing a guard in the same transaction as the item that uses the value.
Claiming succeeds when the guard is free or already the caller's; releasing only
removes the caller's own guard.
"""

from __future__ import annotations

from typing import Any

from sniper.repositories.dynamo import to_attribute_values

FREE_OR_MINE = "attribute_not_exists(userId) OR ownerId = :me"


def claim(table_name: str, key: dict[str, str], owner_id: str) -> dict[str, Any]:
    """A transaction item writing the guard for `owner_id` unless another owns it."""
    return {
        "Put": {
            "TableName": table_name,
            "Item": to_attribute_values({**key, "ownerId": owner_id}),
            "ConditionExpression": FREE_OR_MINE,
            "ExpressionAttributeValues": to_attribute_values({":me": owner_id}),
        }
    }


def release(table_name: str, key: dict[str, str], owner_id: str) -> dict[str, Any]:
    """A transaction item that deletes the guard if it is `owner_id`'s (or gone)."""
    return {
        "Delete": {
            "TableName": table_name,
            "Key": to_attribute_values(key),
            "ConditionExpression": FREE_OR_MINE,
            "ExpressionAttributeValues": to_attribute_values({":me": owner_id}),
        }
    }
