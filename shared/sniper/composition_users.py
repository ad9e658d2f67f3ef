"""User Management's service, built once per container on first use.

Apart from `sniper.composition` so the function imports neither the eBay client nor
the bid modules. What only account deletion needs (the eBay link's repository, the
bids and their history, the bid canceller) is imported when an account is first
deleted: every other route reads and writes the profile alone. The service's own
modules are imported when the first request builds it (`GET /health` never does).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sniper.settings import table_names, tombstone_seconds, user_pool_id

if TYPE_CHECKING:
    from sniper.services.users import Erasable, UserService


class OwnedItems:
    """Every item a user owns outside the profile (eBay link and tokens, bids,
    history), erased in that order; the stores are built when first needed."""

    def erase(self, user_id: str) -> int:
        from sniper.repositories.ebay_links import EbayLinkRepository
        from sniper.repositories.partitions import UserPartition

        tables = table_names()
        stores: list[Erasable] = [
            EbayLinkRepository(tables.users),
            UserPartition(tables.bids, ("userId", "sk")),
            UserPartition(tables.bid_history, ("userId", "historyKey")),
        ]
        return sum(store.erase(user_id) for store in stores)


@cache
def user_service() -> UserService:
    from sniper.composition_bids import DeferredBidCanceller
    from sniper.repositories.cognito_users import CognitoUsers
    from sniper.repositories.users import UsersRepository
    from sniper.services.users import UserService

    return UserService(
        users=UsersRepository(table_names().users),
        erasers=[OwnedItems()],
        identities=CognitoUsers(user_pool_id),
        bids=DeferredBidCanceller(),
        tombstone_seconds=tombstone_seconds(),
    )


def reset() -> None:
    """Forget the built service; tests rebuild it against a fresh mock."""
    user_service.cache_clear()
