"""The link between a user and their eBay account, with encrypted tokens.

Layout in the Users table:
- the link: (`<userId>`, `EBAY_LINK`), token ciphertexts and expiries; it carries
  `refreshBucket` so the sparse `RefreshTokenExpiryIndex` lists links by refresh-token
  expiry for the daily token job, which sets `relinkReminderFor` (the expiry of the
  refresh token the user was asked to replace) so it asks once per token;
- a guard: (`EBAY#<eBay user id>`, `GUARD`) with `ownerId`, written in the same
  transaction, so one eBay account is never linked to two users.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from boto3.dynamodb.conditions import Key
from boto3.dynamodb.types import Binary
from botocore.exceptions import ClientError

from sniper import aws
from sniper.repositories import guards
from sniper.repositories.dynamo import (
    cancellation_codes,
    is_condition_failure,
    is_transaction_cancelled,
    plain,
    to_attribute_values,
)
from sniper.repositories.users import AccountDeleted, no_tombstone

LINK_SK = "EBAY_LINK"
GUARD_SK = "GUARD"
REFRESH_BUCKET = "EBAY"
REFRESH_INDEX = "RefreshTokenExpiryIndex"
# Writes conditional on what was read retry this often when another request of
# the same user changed the link in between.
ATTEMPTS = 3


def ebay_guard_key(ebay_user_id: str) -> dict[str, str]:
    return {"userId": f"EBAY#{ebay_user_id}", "sk": GUARD_SK}


@dataclass(frozen=True)
class StoredEbayLink:
    """A linked eBay account; tokens stay ciphertext until the moment of use."""

    user_id: str
    ebay_user_id: str
    ebay_username: str
    access_token_ciphertext: bytes
    access_token_expires_at: int
    refresh_token_ciphertext: bytes
    refresh_token_expires_at: int
    linked_at: int
    updated_at: int
    refused_at: int | None = None

    def to_item(self) -> dict[str, Any]:
        return {
            "userId": self.user_id,
            "sk": LINK_SK,
            "ebayUserId": self.ebay_user_id,
            "ebayUsername": self.ebay_username,
            "accessToken": Binary(self.access_token_ciphertext),
            "accessTokenExpiresAt": self.access_token_expires_at,
            "refreshToken": Binary(self.refresh_token_ciphertext),
            "refreshTokenExpiresAt": self.refresh_token_expires_at,
            "refreshBucket": REFRESH_BUCKET,
            "linkedAt": self.linked_at,
            "updatedAt": self.updated_at,
            **({"refusedAt": self.refused_at} if self.refused_at else {}),
        }

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> StoredEbayLink:
        values = plain(
            {k: v for k, v in item.items() if k not in ("accessToken", "refreshToken")}
        )
        return cls(
            user_id=values["userId"],
            ebay_user_id=values["ebayUserId"],
            ebay_username=values["ebayUsername"],
            access_token_ciphertext=bytes(item["accessToken"]),
            access_token_expires_at=values["accessTokenExpiresAt"],
            refresh_token_ciphertext=bytes(item["refreshToken"]),
            refresh_token_expires_at=values["refreshTokenExpiresAt"],
            linked_at=values["linkedAt"],
            updated_at=values["updatedAt"],
            refused_at=values.get("refusedAt"),
        )

    def __repr__(self) -> str:
        return (
            f"StoredEbayLink(user_id={self.user_id!r}, "
            f"ebay_user_id={self.ebay_user_id!r})"
        )


@dataclass(frozen=True)
class ExpiringLink:
    """What the refresh-expiry index holds of a link: its keys, nothing secret."""

    user_id: str
    refresh_token_expires_at: int


def expiry_query(since: int, until: int, page_size: int) -> dict[str, Any]:
    """The index Query for links whose refresh token expires in [since, until]."""
    return {
        "IndexName": REFRESH_INDEX,
        "KeyConditionExpression": Key("refreshBucket").eq(REFRESH_BUCKET)
        & Key("refreshTokenExpiresAt").between(since, until),
        "Limit": page_size,
    }


class EbayAccountTaken(Exception):
    """The eBay account is linked to another user."""


class AnotherAccountLinked(Exception):
    """The user already links a different eBay account; it must be unlinked first."""


class LinkChanged(Exception):
    """The link kept changing under a write; concurrent requests of one user."""


class EbayLinkRepository:
    """Reads and writes links and their guards, atomically."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name
        self.table = aws.table(table_name)

    def get(self, user_id: str) -> StoredEbayLink | None:
        item = self.table.get_item(
            Key={"userId": user_id, "sk": LINK_SK}, ConsistentRead=True
        ).get("Item")
        return StoredEbayLink.from_item(item) if item else None

    def save(self, link: StoredEbayLink) -> None:
        """Write the link and claim its eBay account, in one transaction.

        Re-linking the same eBay account refreshes the tokens. Linking another
        one while an account is linked is refused (`AnotherAccountLinked`): bids
        must never go out through an account the user did not expect. The write
        also fails once the user's account is deleted (`AccountDeleted`), so a
        link completing during the deletion is not left behind with its guard.
        """
        put_link: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": to_attribute_values(link.to_item()),
            "ConditionExpression": "attribute_not_exists(userId) OR ebayUserId = :ebay",
            "ExpressionAttributeValues": to_attribute_values(
                {":ebay": link.ebay_user_id}
            ),
        }
        items: list[dict[str, Any]] = [
            {"Put": put_link},
            guards.claim(
                self.table_name, ebay_guard_key(link.ebay_user_id), link.user_id
            ),
            no_tombstone(self.table_name, link.user_id),
        ]
        try:
            aws.dynamodb_client().transact_write_items(TransactItems=items)
        except ClientError as error:
            if not is_transaction_cancelled(error):
                raise
            codes = cancellation_codes(error)
            if codes[2:3] == ["ConditionalCheckFailed"]:
                raise AccountDeleted(link.user_id) from error
            if codes[1:2] == ["ConditionalCheckFailed"]:
                raise EbayAccountTaken(link.ebay_user_id) from error
            if codes[:1] == ["ConditionalCheckFailed"]:
                raise AnotherAccountLinked(link.user_id) from error
            raise

    def update_access_token(
        self, link: StoredEbayLink, ciphertext: bytes, expires_at: int, now: int
    ) -> bool:
        """Store a refreshed access token if the same eBay account is still linked."""
        try:
            self.table.update_item(
                Key={"userId": link.user_id, "sk": LINK_SK},
                UpdateExpression=(
                    "SET accessToken = :token, accessTokenExpiresAt = :expires, "
                    "updatedAt = :now"
                ),
                ConditionExpression="ebayUserId = :ebay",
                ExpressionAttributeValues={
                    ":token": Binary(ciphertext),
                    ":expires": expires_at,
                    ":now": now,
                    ":ebay": link.ebay_user_id,
                },
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def mark_refused(self, link: StoredEbayLink, now: int) -> bool:
        """Remember that eBay refused the link's refresh token: only a re-link helps.

        Saving a new link replaces the item, which clears the mark.
        """
        try:
            self.table.update_item(
                Key={"userId": link.user_id, "sk": LINK_SK},
                UpdateExpression="SET refusedAt = :now, updatedAt = :now",
                ConditionExpression="ebayUserId = :ebay",
                ExpressionAttributeValues={":now": now, ":ebay": link.ebay_user_id},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def expiring(
        self, since: int, until: int, *, page_size: int = 500
    ) -> Iterator[ExpiringLink]:
        """Links whose refresh token expires in [since, until], soonest first.

        A Query of the sparse index, never a Scan: only links carry
        `refreshBucket`. The index is eventually consistent, so writes made from
        what it lists are conditional on the link's refresh-token expiry.
        """
        query = expiry_query(since, until, page_size)
        while True:
            page = self.table.query(**query)
            for item in page.get("Items", []):
                yield ExpiringLink(
                    user_id=str(item["userId"]),
                    refresh_token_expires_at=int(item["refreshTokenExpiresAt"]),
                )
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def mark_relink_reminded(
        self, user_id: str, refresh_token_expires_at: int, now: int
    ) -> bool:
        """Claim the one reminder for this refresh token; False when it was sent
        already or the link holds another token by now.

        A re-link saves a new item without the mark, so its token gets its own.
        """
        try:
            self.table.update_item(
                Key={"userId": user_id, "sk": LINK_SK},
                UpdateExpression=(
                    "SET relinkReminderFor = :expires, relinkRemindedAt = :now"
                ),
                ConditionExpression=(
                    "refreshTokenExpiresAt = :expires AND "
                    "(attribute_not_exists(relinkReminderFor) "
                    "OR relinkReminderFor <> :expires)"
                ),
                ExpressionAttributeValues={
                    ":expires": refresh_token_expires_at,
                    ":now": now,
                },
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def clear_relink_reminder(
        self, user_id: str, refresh_token_expires_at: int
    ) -> bool:
        """Give the claim back (the reminder could not be sent): the next run asks."""
        try:
            self.table.update_item(
                Key={"userId": user_id, "sk": LINK_SK},
                UpdateExpression="REMOVE relinkReminderFor, relinkRemindedAt",
                ConditionExpression="relinkReminderFor = :expires",
                ExpressionAttributeValues={":expires": refresh_token_expires_at},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def owner_of(self, ebay_user_id: str) -> str | None:
        """The user the eBay account is linked to (its guard's owner), if any."""
        item = self.table.get_item(
            Key=ebay_guard_key(ebay_user_id), ConsistentRead=True
        ).get("Item")
        owner = item.get("ownerId") if item else None
        return owner if isinstance(owner, str) and owner else None

    def delete(self, user_id: str, *, ebay_user_id: str | None = None) -> bool:
        """Forget the link and free its eBay account; False when none existed.

        With ``ebay_user_id``, only a link to that eBay account goes: one the user
        has meanwhile replaced with another account stays (False). Without it,
        whatever account is linked when the delete lands goes, with its guard.
        """
        for _ in range(ATTEMPTS):
            link = self.get(user_id)
            if link is None or ebay_user_id not in (None, link.ebay_user_id):
                return False
            remove_link: dict[str, Any] = {
                "TableName": self.table_name,
                "Key": to_attribute_values({"userId": user_id, "sk": LINK_SK}),
                # The guard released is the one of the link read: the same link.
                "ConditionExpression": "ebayUserId = :ebay",
                "ExpressionAttributeValues": to_attribute_values(
                    {":ebay": link.ebay_user_id}
                ),
            }
            try:
                aws.dynamodb_client().transact_write_items(
                    TransactItems=[{"Delete": remove_link}, self._release(link)]
                )
            except ClientError as error:
                if not (
                    is_transaction_cancelled(error)
                    and cancellation_codes(error)[:1] == ["ConditionalCheckFailed"]
                ):
                    raise
                if ebay_user_id is not None:
                    return False  # the user linked another eBay account meanwhile
                continue  # the link changed since it was read: read it again
            return True
        raise LinkChanged(user_id)

    def release_guard(self, ebay_user_id: str, owner_id: str) -> bool:
        """Free an eBay account whose guard has no link behind it; False when the
        guard is gone or belongs to someone else by now."""
        try:
            self.table.delete_item(
                Key=ebay_guard_key(ebay_user_id),
                ConditionExpression="ownerId = :owner",
                ExpressionAttributeValues={":owner": owner_id},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True

    def erase(self, user_id: str) -> int:
        """Account deletion: the link, its tokens and its guard go."""
        return int(self.delete(user_id))

    def _release(self, link: StoredEbayLink) -> dict[str, Any]:
        return guards.release(
            self.table_name, ebay_guard_key(link.ebay_user_id), link.user_id
        )
