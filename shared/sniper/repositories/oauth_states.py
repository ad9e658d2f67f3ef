"""OAuth `state` values: random, single-use, bound to the caller, short-lived.

A state lives in the caller's own partition (`OAUTH_STATE#<state>`), so a state
issued to another user is simply not found. Consuming it is a conditional delete:
of two concurrent callbacks with one state, exactly one succeeds.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from sniper import aws
from sniper.repositories.dynamo import is_condition_failure

STATE_PREFIX = "OAUTH_STATE#"


class OAuthStateRepository:
    def __init__(self, table_name: str) -> None:
        self.table = aws.table(table_name)

    def save(self, user_id: str, state: str, created_at: int, expires_at: int) -> None:
        """Remember a state until `expires_at` (DynamoDB's TTL removes it later)."""
        self.table.put_item(
            Item={
                "userId": user_id,
                "sk": STATE_PREFIX + state,
                "createdAt": created_at,
                "expiresAt": expires_at,
            },
            ConditionExpression="attribute_not_exists(userId)",
        )

    def consume(self, user_id: str, state: str, now: int) -> bool:
        """Delete the state if it is the caller's and unexpired; True if it was."""
        try:
            self.table.delete_item(
                Key={"userId": user_id, "sk": STATE_PREFIX + state},
                ConditionExpression="attribute_exists(userId) AND expiresAt > :now",
                ExpressionAttributeValues={":now": now},
            )
        except ClientError as error:
            if is_condition_failure(error):
                return False
            raise
        return True
