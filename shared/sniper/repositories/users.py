"""The Users table: profiles and the guard items that keep emails unique.

Layout (partition key `userId`, sort key `sk`):
- the profile: (`<sub>`, `PROFILE`);
- an email guard: (`EMAIL#<lower-cased email>`, `GUARD`) with `ownerId`, written in the
  same transaction as the profile, so no two users ever hold one email.
Later capabilities add the eBay link and OAuth states under the user's own partition.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from sniper import aws
from sniper.repositories import guards
from sniper.repositories.dynamo import (
    cancellation_codes,
    is_condition_failure,
    is_transaction_cancelled,
    partition_keys,
    plain,
    to_attribute_values,
)

PROFILE_SK = "PROFILE"
GUARD_SK = "GUARD"


def email_guard_key(email: str) -> dict[str, str]:
    return {"userId": f"EMAIL#{email.strip().lower()}", "sk": GUARD_SK}


@dataclass
class StoredProfile:
    """A profile as stored; preferences are kept as a plain map."""

    user_id: str
    email: str
    created_at: int
    updated_at: int
    preferences: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True

    def to_item(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "sk": PROFILE_SK,
            "email": self.email,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "preferences": self.preferences,
            "isActive": self.is_active,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StoredProfile:
        item = plain(item)
        return cls(
            user_id=item["userId"],
            email=item["email"],
            created_at=item["createdAt"],
            updated_at=item["updatedAt"],
            preferences=item.get("preferences", {}),
            is_active=item.get("isActive", True),
        )


class ProfileAlreadyExists(Exception):
    """Another request created this profile first."""


class EmailTaken(Exception):
    """The email belongs to another user."""


class ProfileMissing(Exception):
    """The profile to change is not there (deleted meanwhile)."""


class ProfileChanged(Exception):
    """The profile changed between reading and writing it."""


class UsersRepository:
    """Reads and writes profiles and email guards, atomically where it matters."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.table = aws.table(table_name)

    def get_profile(self, user_id: str) -> StoredProfile | None:
        response = self.table.get_item(
            Key={"userId": user_id, "sk": PROFILE_SK}, ConsistentRead=True
        )
        item = response.get("Item")
        return StoredProfile.from_item(item) if item else None

    def email_owner(self, email: str) -> str | None:
        item = self.table.get_item(Key=email_guard_key(email)).get("Item")
        return str(item["ownerId"]) if item else None

    def create_profile(self, profile: StoredProfile) -> None:
        """Write the profile and claim its email in one transaction."""
        try:
            aws.dynamodb_client().transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": to_attribute_values(profile.to_item()),
                            "ConditionExpression": "attribute_not_exists(userId)",
                        }
                    },
                    guards.claim(
                        self.table_name, email_guard_key(profile.email), profile.user_id
                    ),
                ]
            )
        except ClientError as error:
            if not is_transaction_cancelled(error):
                raise
            codes = cancellation_codes(error)
            if codes[0] == "ConditionalCheckFailed":
                raise ProfileAlreadyExists(profile.user_id) from error
            if codes[1] == "ConditionalCheckFailed":
                raise EmailTaken(profile.email) from error
            raise

    def change_email(
        self,
        user_id: str,
        old_email: str,
        new_email: str,
        now: int,
        preferences: dict[str, Any] | None = None,
    ) -> StoredProfile:
        """Move the profile to a new email, claiming it and freeing the old one.

        One transaction: either the user holds the new email (with any preference
        changes made along) and the old one is free, or nothing changed.
        """
        assignments, names, values = _preference_assignments(preferences or {})
        values.update({":new": new_email, ":old": old_email, ":now": now})
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": to_attribute_values({"userId": user_id, "sk": PROFILE_SK}),
            "UpdateExpression": "SET "
            + ", ".join(["email = :new", "updatedAt = :now", *assignments]),
            "ConditionExpression": "email = :old",
            "ExpressionAttributeValues": to_attribute_values(values),
        }
        if names:
            update["ExpressionAttributeNames"] = names
        items: list[dict[str, Any]] = [{"Update": update}]
        same_guard = email_guard_key(old_email) == email_guard_key(new_email)
        if not same_guard:
            items.append(
                guards.claim(self.table_name, email_guard_key(new_email), user_id)
            )
            items.append(
                guards.release(self.table_name, email_guard_key(old_email), user_id)
            )
        try:
            aws.dynamodb_client().transact_write_items(TransactItems=items)
        except ClientError as error:
            if not is_transaction_cancelled(error):
                raise
            codes = cancellation_codes(error)
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                raise EmailTaken(new_email) from error
            if codes[0] == "ConditionalCheckFailed":
                raise ProfileChanged(user_id) from error
            raise
        profile = self.get_profile(user_id)
        if profile is None:
            raise ProfileMissing(user_id)
        return profile

    def update_preferences(
        self, user_id: str, changes: dict[str, Any], now: int
    ) -> StoredProfile:
        """Set the given preference fields, leaving the others as they are."""
        assignments, names, values = _preference_assignments(changes)
        values[":now"] = now
        try:
            response = self.table.update_item(
                Key={"userId": user_id, "sk": PROFILE_SK},
                UpdateExpression="SET " + ", ".join(["updatedAt = :now", *assignments]),
                ConditionExpression="attribute_exists(userId)",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except ClientError as error:
            if is_condition_failure(error):
                raise ProfileMissing(user_id) from error
            raise
        return StoredProfile.from_item(response["Attributes"])

    def erase(self, user_id: str) -> None:
        """Delete every item of the user's partition, the profile and its email last."""
        for key in partition_keys(self.table, "userId", user_id, ("userId", "sk")):
            if key["sk"] != PROFILE_SK:
                self.table.delete_item(Key=key)
        profile = self.get_profile(user_id)
        if profile is not None:
            self.delete_profile(profile)

    def delete_profile(self, profile: StoredProfile) -> None:
        """Remove the profile and free its email in one transaction."""
        aws.dynamodb_client().transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": to_attribute_values(
                            {"userId": profile.user_id, "sk": PROFILE_SK}
                        ),
                    }
                },
                guards.release(
                    self.table_name, email_guard_key(profile.email), profile.user_id
                ),
            ]
        )


def _preference_assignments(
    changes: dict[str, Any],
) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """`SET` clauses for single preference fields, with their names and values."""
    if not changes:
        return [], {}, {}
    names = {"#prefs": "preferences"}
    values: dict[str, Any] = {}
    assignments = []
    for index, (name, value) in enumerate(sorted(changes.items())):
        names[f"#p{index}"] = name
        values[f":p{index}"] = value
        assignments.append(f"#prefs.#p{index} = :p{index}")
    return assignments, names, values
