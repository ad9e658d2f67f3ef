"""The Cognito user pool: removing a user whose account is deleted.

Deleting the profile alone is undone by the next request (the token still names the
user, and the profile is created on first sight); deleting the Cognito user stops new
sign-ins and token refreshes, and the tombstone covers tokens already issued.
"""

from __future__ import annotations

from collections.abc import Callable

from botocore.exceptions import ClientError

from sniper import aws


class CognitoUsers:
    """One user pool, through the admin API (least privilege: AdminDeleteUser)."""

    def __init__(self, user_pool_id: Callable[[], str]) -> None:
        # Read on use: only account deletion needs the pool, so a missing setting
        # must not break the profile routes.
        self.user_pool_id = user_pool_id

    def delete(self, username: str) -> bool:
        """Delete the user; False when it was already gone (a repeated deletion)."""
        try:
            aws.cognito_client().admin_delete_user(
                UserPoolId=self.user_pool_id(), Username=username
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "UserNotFoundException":
                return False
            raise
        return True
