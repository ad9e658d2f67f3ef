"""The caller comes from the authorizer's claims, or the request is refused."""

from __future__ import annotations

import pytest

from sniper.auth import user_from_claims
from sniper.errors import UnauthorizedError


def test_the_subject_and_email_identify_the_caller() -> None:
    user = user_from_claims({"sub": "abc-123", "email": "a@example.com"})

    assert (user.user_id, user.email) == ("abc-123", "a@example.com")


@pytest.mark.parametrize("claims", [None, {}, {"email": "a@example.com"}, {"sub": " "}])
def test_no_subject_is_401(claims: dict[str, str] | None) -> None:
    with pytest.raises(UnauthorizedError):
        user_from_claims(claims)
