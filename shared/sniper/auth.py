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
    return AuthenticatedUser(user_id=user_id, email=str(email) if email else None)
