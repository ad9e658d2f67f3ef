"""Concurrent requests through the whole local stack keep DynamoDB's guarantees.

Two users asking for the same new email at the same moment: the gateway runs each
request in its own Lambda worker, both reach moto together, and exactly one
transaction may claim the email's guard. Only an address the token vouches for
claims a guard, so both racers sign in again with the shared address first.
"""

from __future__ import annotations

import threading
import uuid

import httpx
import pytest

from tests.e2e.support import RunningStack

pytestmark = pytest.mark.slow

ROUNDS = 10


def race_for_email(stack: RunningStack, tokens: list[str], email: str) -> list[int]:
    """Every token's PUT /users/profile with `email`, fired together: the statuses."""
    barrier = threading.Barrier(len(tokens))
    statuses = [0] * len(tokens)

    def put(index: int) -> None:
        with httpx.Client(base_url=stack.api, timeout=30) as http:
            headers = {"Authorization": f"Bearer {tokens[index]}"}
            barrier.wait(timeout=30)
            response = http.put(
                "/users/profile", json={"email": email}, headers=headers
            )
            statuses[index] = response.status_code

    threads = [threading.Thread(target=put, args=(i,)) for i in range(len(tokens))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_two_users_racing_for_one_email_get_one_200_and_one_409(
    stack: RunningStack,
) -> None:
    for number in range(ROUNDS):
        run = uuid.uuid4().hex[:8]
        names = [f"racer-{run}-a", f"racer-{run}-b"]
        for name in names:  # the profiles exist, with their own emails
            token = stack.token(name)
            profile = httpx.get(
                f"{stack.api}/users/profile",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            )
            assert profile.status_code == 200, profile.text
        email = f"shared-{run}@example.com"
        tokens = [stack.token(name, email) for name in names]

        statuses = race_for_email(stack, tokens, email)

        assert sorted(statuses) == [200, 409], f"round {number}: {statuses}"
        owners = [
            httpx.get(
                f"{stack.api}/users/profile",
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ).json()["email"]
            == email
            for token in tokens
        ]
        assert owners == [status == 200 for status in statuses]
