"""The eBay link and its guard stay in step when requests for one user race.

A guard left behind by a lost race names the user as the eBay account's owner
forever: nobody else can link that account (409) and unlinking does not free it.
Each test replays a race by letting one request act on what it read before the
other request wrote.
"""

from __future__ import annotations

from typing import Any

import pytest

from sniper.repositories.ebay_links import (
    AnotherAccountLinked,
    EbayLinkRepository,
    StoredEbayLink,
)
from sniper.repositories.users import AccountDeleted, UsersRepository
from tests.conftest import MockedAws

USER = "user-1"
OTHER = "user-2"


def link_to(ebay_user_id: str, user_id: str = USER) -> StoredEbayLink:
    return StoredEbayLink(
        user_id=user_id,
        ebay_user_id=ebay_user_id,
        ebay_username=f"name-of-{ebay_user_id}",
        access_token_ciphertext=b"ciphertext-a",
        access_token_expires_at=2_000_000_000,
        refresh_token_ciphertext=b"ciphertext-r",
        refresh_token_expires_at=2_100_000_000,
        linked_at=1_800_000_000,
        updated_at=1_800_000_000,
    )


class StaleFirstRead(EbayLinkRepository):
    """A request whose first read of the link happened before another request's
    write: it sees the link as it was then."""

    def __init__(self, table_name: str, seen: StoredEbayLink | None) -> None:
        super().__init__(table_name)
        self.stale: list[StoredEbayLink | None] = [seen]

    def get(self, user_id: str) -> StoredEbayLink | None:
        if self.stale:
            return self.stale.pop()
        return super().get(user_id)


@pytest.fixture
def table_name(mocked_aws: MockedAws) -> str:
    return mocked_aws.tables["UsersTable"]


def guards_of(mocked_aws: MockedAws, user_id: str) -> set[str]:
    items: list[dict[str, Any]] = mocked_aws.all_items("UsersTable")
    return {
        item["userId"].removeprefix("EBAY#")
        for item in items
        if item["userId"].startswith("EBAY#") and item.get("ownerId") == user_id
    }


def test_linking_a_second_account_is_refused_and_keeps_the_first(
    table_name: str, mocked_aws: MockedAws
) -> None:
    links = EbayLinkRepository(table_name)
    links.save(link_to("ebay-A"))

    with pytest.raises(AnotherAccountLinked):
        links.save(link_to("ebay-B"))

    stored = links.get(USER)
    assert stored is not None and stored.ebay_user_id == "ebay-A"
    assert guards_of(mocked_aws, USER) == {"ebay-A"}
    links.save(link_to("ebay-B", user_id=OTHER))  # account B was never claimed
    assert links.owner_of("ebay-B") == OTHER


def test_relinking_the_same_account_refreshes_it(
    table_name: str, mocked_aws: MockedAws
) -> None:
    links = EbayLinkRepository(table_name)
    links.save(link_to("ebay-A"))
    links.save(link_to("ebay-A"))

    assert guards_of(mocked_aws, USER) == {"ebay-A"}


def test_an_unlink_racing_a_relink_leaves_no_guard_behind(
    table_name: str, mocked_aws: MockedAws
) -> None:
    links = EbayLinkRepository(table_name)
    links.save(link_to("ebay-A"))
    unlink = StaleFirstRead(table_name, seen=links.get(USER))

    links.save(link_to("ebay-A"))  # the relink lands between read and delete
    unlink.delete(USER)

    assert links.get(USER) is None  # the unlink landed last: nothing is linked
    assert guards_of(mocked_aws, USER) == set()
    links.save(link_to("ebay-A", user_id=OTHER))  # account A is free again
    assert links.owner_of("ebay-A") == OTHER


def test_a_link_completing_after_the_account_was_deleted_is_refused(
    table_name: str, mocked_aws: MockedAws
) -> None:
    links = EbayLinkRepository(table_name)
    UsersRepository(table_name).write_tombstone(USER, 1_800_000_000, 3600)

    with pytest.raises(AccountDeleted):
        links.save(link_to("ebay-A"))

    assert links.get(USER) is None
    assert guards_of(mocked_aws, USER) == set()
