"""Account deletion through the whole local stack: it stays deleted.

`DELETE /users/account` deletes the Cognito user; the local identity (which stands in
for the pool) then refuses that user's tokens, and signing up again with the same
name is a new user with a new `sub`, as in Cognito.
"""

from __future__ import annotations

import uuid

import httpx
import jwt
import pytest

from tests.e2e.support import RunningStack

pytestmark = pytest.mark.slow


def call(stack: RunningStack, method: str, path: str, token: str) -> httpx.Response:
    return httpx.request(
        method,
        f"{stack.api}{path}",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )


def test_a_deleted_account_refuses_its_tokens_and_a_new_sign_up_is_a_new_user(
    stack: RunningStack,
) -> None:
    name = f"leaver-{uuid.uuid4().hex[:8]}"
    token = stack.token(name)
    first = call(stack, "GET", "/users/profile", token)
    assert first.status_code == 200, first.text

    assert call(stack, "DELETE", "/users/account", token).status_code == 204

    again = call(stack, "GET", "/users/profile", token)
    assert again.status_code == 401
    assert again.json()["message"]
    fresh = stack.token(name)
    old_sub = jwt.decode(token, options={"verify_signature": False})["sub"]
    new_sub = jwt.decode(fresh, options={"verify_signature": False})["sub"]
    assert new_sub != old_sub
    profile = call(stack, "GET", "/users/profile", fresh)
    assert profile.status_code == 200, profile.text
    assert profile.json()["userId"] == new_sub


def test_an_unverified_email_is_stored_unverified_and_claims_nothing(
    stack: RunningStack,
) -> None:
    run = uuid.uuid4().hex[:8]
    email = f"owner-{run}@example.com"
    squatter = stack.token(f"squatter-{run}", email, email_verified=False)
    owner = stack.token(f"owner-{run}", email)

    squatted = call(stack, "GET", "/users/profile", squatter)
    owned = call(stack, "GET", "/users/profile", owner)

    assert squatted.status_code == 200, squatted.text
    assert squatted.json()["emailVerified"] is False
    assert owned.status_code == 200, owned.text
    assert owned.json()["emailVerified"] is True
