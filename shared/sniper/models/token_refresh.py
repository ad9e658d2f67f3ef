"""What one run of the daily Token Refresh job did (its Lambda result)."""

from __future__ import annotations

from pydantic import Field

from sniper.models.base import Model


class TokenRefreshResult(Model):
    """Counts only, no tokens: the result ends up in Lambda's logs and metrics."""

    usersChecked: int = Field(
        ge=0, description="distinct users with an expiring link or an upcoming bid"
    )
    remindersSent: int = Field(ge=0, description="re-link reminders queued")
    accessTokensRefreshed: int = Field(
        ge=0, description="users whose stored access token was renewed"
    )
    refused: int = Field(
        ge=0,
        description=(
            "users with upcoming bids whose link needs re-linking: eBay refused the "
            "refresh token (now or before) or it expired"
        ),
    )
    failures: int = Field(
        ge=0, description="users whose check failed (logged); tried again next run"
    )
