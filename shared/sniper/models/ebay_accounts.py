"""The eBay account-linking contract."""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict, Field

from sniper.models.base import Model


class AuthUrlResponse(Model):
    """Where to send the browser to consent, and the state to expect back."""

    authUrl: str
    state: str
    expiresAt: int = Field(description="Unix seconds after which the state is void")


class OAuthCallbackRequest(Model):
    """What eBay's redirect handed the frontend."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(
        min_length=1, max_length=2048, description="`code` of eBay's redirect"
    )
    state: str = Field(
        min_length=16,
        max_length=128,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="`state` of eBay's redirect, as GET /ebay/auth/url gave it",
    )


class EbayAccountStatus(Model):
    """Whether an eBay account is linked, and until when it works."""

    isLinked: bool
    accountId: str | None = Field(default=None, description="eBay username")
    ebayUserId: str | None = Field(default=None, description="eBay's immutable id")
    linkedAt: int | None = None
    tokenExpiresAt: int | None = Field(
        default=None,
        description=(
            "Unix seconds when the link stops working unless the user re-links "
            "(the refresh token's expiry; access tokens renew themselves)"
        ),
    )
    needsRelink: bool = False


class ChallengeResponse(Model):
    """The answer to eBay's endpoint validation."""

    challengeResponse: str = Field(
        description="hex SHA-256 of challenge code + verification token + endpoint URL"
    )


class NoticeOutcome(StrEnum):
    """What an account deletion notice did: the handler counts each."""

    DELETED = "deleted"
    NOT_LINKED = "not_linked"
    IGNORED = "ignored"
