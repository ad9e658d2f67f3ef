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
from sniper.models.users import UserPreferences
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
TOMBSTONE_SK = "TOMBSTONE"
# Writes conditional on what was read retry this often when a concurrent request of
# the same user changed the profile in between.
ATTEMPTS = 3


def email_guard_key(email: str) -> dict[str, str]:
    return {"userId": f"EMAIL#{email.strip().lower()}", "sk": GUARD_SK}


def tombstone_key(user_id: str) -> dict[str, str]:
    return {"userId": user_id, "sk": TOMBSTONE_SK}


def no_tombstone(table_name: str, user_id: str) -> dict[str, Any]:
    """A transaction item that fails once the user's account was deleted.

    Every write that could bring a deleted account back (its profile, its eBay
    link) carries it, so a request in flight during the deletion, or a token still
    valid after it, cannot resurrect the account.
    """
    return {
        "ConditionCheck": {
            "TableName": table_name,
            "Key": to_attribute_values(tombstone_key(user_id)),
            "ConditionExpression": "attribute_not_exists(userId)",
        }
    }


@dataclass
class StoredProfile:
    """A profile as stored; preferences are kept as a plain map.

    Only a verified email holds the email's guard item. Profiles written before
    the flag existed all claimed their guard, hence the default.
    """

    user_id: str
    email: str
    created_at: int
    updated_at: int
    preferences: dict[str, Any] = field(default_factory=dict)
    is_active: bool = True
    email_verified: bool = True

    def to_item(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "sk": PROFILE_SK,
            "email": self.email,
            "emailVerified": self.email_verified,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "preferences": self.preferences,
            "isActive": self.is_active,
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StoredProfile:
        item = plain(item)
        preferences = item.get("preferences")
        return cls(
            user_id=item["userId"],
            email=item["email"],
            created_at=item["createdAt"],
            updated_at=item["updatedAt"],
            preferences=preferences if isinstance(preferences, dict) else {},
            is_active=item.get("isActive", True) is not False,
            email_verified=item.get("emailVerified", True) is not False,
        )


class ProfileAlreadyExists(Exception):
    """Another request created this profile first."""


class EmailTaken(Exception):
    """The email belongs to another user."""


class ProfileMissing(Exception):
    """The profile to change is not there (deleted meanwhile)."""


class ProfileChanged(Exception):
    """The profile changed between reading and writing it."""


class AccountDeleted(Exception):
    """The account was deleted; its tombstone forbids writing it again."""


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

    def preferences_of(self, user_id: str) -> UserPreferences | None:
        """The user's preferences (read tolerantly), if they have a profile."""
        profile = self.get_profile(user_id)
        return UserPreferences.from_stored(profile.preferences) if profile else None

    def is_deleted(self, user_id: str) -> bool:
        """Whether the account was deleted recently (its tombstone still stands)."""
        item = self.table.get_item(Key=tombstone_key(user_id), ConsistentRead=True).get(
            "Item"
        )
        return item is not None

    def create_profile(self, profile: StoredProfile) -> None:
        """Write the profile, claiming its email in the same transaction if verified."""
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_attribute_values(profile.to_item()),
                    "ConditionExpression": "attribute_not_exists(userId)",
                }
            },
            no_tombstone(self.table_name, profile.user_id),
        ]
        if profile.email_verified:
            items.append(
                guards.claim(
                    self.table_name, email_guard_key(profile.email), profile.user_id
                )
            )
        try:
            aws.dynamodb_client().transact_write_items(TransactItems=items)
        except ClientError as error:
            if not is_transaction_cancelled(error):
                raise
            codes = cancellation_codes(error)
            if codes[1:2] == ["ConditionalCheckFailed"]:
                raise AccountDeleted(profile.user_id) from error
            if codes[0] == "ConditionalCheckFailed":
                raise ProfileAlreadyExists(profile.user_id) from error
            if codes[2:3] == ["ConditionalCheckFailed"]:
                raise EmailTaken(profile.email) from error
            raise

    def change_email(
        self,
        current: StoredProfile,
        new_email: str,
        verified: bool,
        now: int,
        preferences: dict[str, Any] | None = None,
    ) -> StoredProfile:
        """Move the profile to a new email (or mark its email verified).

        One transaction: a verified new email claims its guard, the old email's
        guard (held only if it was verified) is freed, and any preference changes
        come along; or nothing changes. Conditional on the profile read, so a
        concurrent change or deletion is never overwritten.
        """
        user_id = current.user_id
        assignments, names, values = _preference_assignments(preferences or {})
        values.update(
            {
                ":new": new_email,
                ":old": current.email,
                ":verified": verified,
                ":was": current.email_verified,
                ":now": now,
            }
        )
        names["#verified"] = "emailVerified"
        update: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": to_attribute_values({"userId": user_id, "sk": PROFILE_SK}),
            "UpdateExpression": "SET "
            + ", ".join(
                [
                    "email = :new",
                    "#verified = :verified",
                    "updatedAt = :now",
                    *assignments,
                ]
            ),
            # Profiles stored before the flag existed count as verified.
            "ConditionExpression": "email = :old AND "
            + (
                "(#verified = :was OR attribute_not_exists(#verified))"
                if current.email_verified
                else "#verified = :was"
            ),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_attribute_values(values),
        }
        items: list[dict[str, Any]] = [{"Update": update}]
        new_guard, old_guard = (
            email_guard_key(new_email),
            email_guard_key(current.email),
        )
        holds_old = current.email_verified
        if verified and not (holds_old and new_guard == old_guard):
            items.append(guards.claim(self.table_name, new_guard, user_id))
        if holds_old and not (verified and new_guard == old_guard):
            items.append(guards.release(self.table_name, old_guard, user_id))
        try:
            aws.dynamodb_client().transact_write_items(TransactItems=items)
        except ClientError as error:
            if not is_transaction_cancelled(error):
                raise
            codes = cancellation_codes(error)
            if codes[0] == "ConditionalCheckFailed":
                raise ProfileChanged(user_id) from error
            if verified and codes[1:2] == ["ConditionalCheckFailed"]:
                raise EmailTaken(new_email) from error
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

    def write_tombstone(self, user_id: str, now: int, lifetime_s: int) -> None:
        """Mark the account deleted until every token it was issued has expired.

        The table's TTL (`expiresAt`) removes the mark afterwards.
        """
        self.table.put_item(
            Item={
                **tombstone_key(user_id),
                "deletedAt": now,
                "expiresAt": now + lifetime_s,
            }
        )

    def erase(self, user_id: str) -> None:
        """Delete the user's partition, the profile and its email last.

        The tombstone stays: it is what keeps the account deleted.
        """
        keep = (PROFILE_SK, TOMBSTONE_SK)
        for key in partition_keys(self.table, "userId", user_id, ("userId", "sk")):
            if key["sk"] not in keep:
                self.table.delete_item(Key=key)
        for _ in range(ATTEMPTS):
            profile = self.get_profile(user_id)
            if profile is None:
                return
            try:
                self.delete_profile(profile)
            except ProfileChanged:
                continue
            return
        raise ProfileChanged(user_id)

    def delete_profile(self, profile: StoredProfile) -> None:
        """Remove the profile and free its email in one transaction.

        Conditional on the email read: a deletion racing an email change would
        otherwise free the old address and strand the new one's guard.
        """
        items: list[dict[str, Any]] = [
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": to_attribute_values(
                        {"userId": profile.user_id, "sk": PROFILE_SK}
                    ),
                    "ConditionExpression": "email = :email",
                    "ExpressionAttributeValues": to_attribute_values(
                        {":email": profile.email}
                    ),
                }
            }
        ]
        if profile.email_verified:
            items.append(
                guards.release(
                    self.table_name, email_guard_key(profile.email), profile.user_id
                )
            )
        try:
            aws.dynamodb_client().transact_write_items(TransactItems=items)
        except ClientError as error:
            if is_transaction_cancelled(error) and cancellation_codes(error)[:1] == [
                "ConditionalCheckFailed"
            ]:
                raise ProfileChanged(profile.user_id) from error
            raise


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
