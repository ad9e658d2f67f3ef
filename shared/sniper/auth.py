"""Who is calling: the Cognito claims API Gateway put in the request context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sniper.errors import UnauthorizedError


@dataclass(frozen=True)
class AuthenticatedUser:
    """The caller, as the authorizer vouched for them."""

    user_id: str
    email: str | None
    # Only a verified email may claim an address for this user: Cognito lets a user
    # sign up with, or change to, an address they do not own until verified.
    email_verified: bool = False
    # Cognito's user name (with email as the sign-in alias, a uuid); what the
    # admin APIs take. Falls back to the subject.
    username: str = ""

    @property
    def verified_email(self) -> str | None:
        """The email, if the identity provider vouches the caller owns it."""
        return self.email if self.email and self.email_verified else None


def user_from_claims(claims: Mapping[str, Any] | None) -> AuthenticatedUser:
    """Read the caller from `requestContext.authorizer.claims`.

    API Gateway only forwards requests its authorizer accepted, but a route that is
    misconfigured without an authorizer must not serve data to anonymous callers.
    """
    if not claims:
        raise UnauthorizedError("Sign in first: the request carries no identity.")
    user_id = str(claims.get("sub") or "").strip()
    if not user_id:
        raise UnauthorizedError("Sign in first: the token has no subject.")
    email = claims.get("email")
    username = str(claims.get("cognito:username") or "").strip() or user_id
    return AuthenticatedUser(
        user_id=user_id,
        email=str(email) if email else None,
        email_verified=_is_true(claims.get("email_verified")),
        username=username,
    )


def _is_true(claim: Any) -> bool:
    """API Gateway renders every claim as a string: `"true"`, not `True`."""
    return claim is True or str(claim).strip().lower() == "true"
