"""An account deletion racing an email change or an eBay link strands no guard.

A stranded guard blocks its email or eBay account for everybody else, forever. Each
round starts both requests at a barrier; moto dispatches one request at a time
(tests/conftest.py), so what varies between rounds is how the requests interleave.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from sniper.auth import AuthenticatedUser
from sniper.models.users import UpdateUserRequest
from sniper.repositories.ebay_links import EbayLinkRepository, StoredEbayLink
from sniper.repositories.users import UsersRepository
from sniper.services.users import UserService
from tests.conftest import MockedAws

ROUNDS = 50


def race(*requests: Callable[[], Any]) -> list[BaseException]:
    """Run the requests at once; the errors they raised."""
    barrier = threading.Barrier(len(requests))
    errors: list[BaseException] = []

    def run(request: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            request()
        except Exception as error:  # a lost race may legitimately refuse
            errors.append(error)

    threads = [threading.Thread(target=run, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def guards_of(mocked_aws: MockedAws, user_id: str) -> list[str]:
    return [
        item["userId"]
        for item in mocked_aws.all_items("UsersTable")
        if item["sk"] == "GUARD" and item.get("ownerId") == user_id
    ]


@pytest.fixture
def table(mocked_aws: MockedAws) -> str:
    return mocked_aws.tables["UsersTable"]


def service(table: str) -> UserService:
    return UserService(UsersRepository(table), erasers=[EbayLinkRepository(table)])


def test_deletion_racing_an_email_change_strands_no_email_guard(
    table: str, mocked_aws: MockedAws
) -> None:
    users = service(table)
    for round_ in range(ROUNDS):
        user = f"user-{round_}"
        old = AuthenticatedUser(user, f"{user}@example.com", True, user)
        new = AuthenticatedUser(user, f"{user}.new@example.com", True, user)
        users.get_profile(old)

        change = UpdateUserRequest(email=f"{user}.new@example.com")
        race(
            partial(users.delete_account, old),
            partial(users.update_profile, new, change),
        )

        assert guards_of(mocked_aws, user) == [], f"round {round_}"
        assert UsersRepository(table).get_profile(user) is None, f"round {round_}"


def test_deletion_racing_an_ebay_link_strands_no_account_guard(
    table: str, mocked_aws: MockedAws
) -> None:
    users = service(table)
    links = EbayLinkRepository(table)
    for round_ in range(ROUNDS):
        user = f"user-{round_}"
        caller = AuthenticatedUser(user, f"{user}@example.com", True, user)
        users.get_profile(caller)
        link = StoredEbayLink(
            user_id=user,
            ebay_user_id=f"ebay-{round_}",
            ebay_username=f"ebay-{round_}",
            access_token_ciphertext=b"a",
            access_token_expires_at=2_000_000_000,
            refresh_token_ciphertext=b"r",
            refresh_token_expires_at=2_100_000_000,
            linked_at=1_800_000_000,
            updated_at=1_800_000_000,
        )

        race(partial(users.delete_account, caller), partial(links.save, link))

        assert guards_of(mocked_aws, user) == [], f"round {round_}"
        assert links.get(user) is None, f"round {round_}"
