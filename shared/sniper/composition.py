"""The eBay side that every eBay-calling function shares, built once per container.

The eBay client, the users' eBay links and the token provider; each function's
services are composed in its own module (`composition_users`, `_ebay_accounts`,
`_wishlist`, `_bids`, `_snipe`, `_notifications`, `_token_refresh`), so a function
imports only what it calls: User Management never loads the eBay client.
Tests can build every service by hand.

Each builder imports its own parts, so importing this module loads none of them:
a container loads the eBay client with its first eBay call, not at init (the
decision log's "2026-12-02: services load with the first call that builds them").
"""

from __future__ import annotations

import sys
from functools import cache
from typing import TYPE_CHECKING

from sniper.settings import table_names, token_key_id

if TYPE_CHECKING:
    from sniper.ebay.client import EbayClient
    from sniper.repositories.ebay_links import EbayLinkRepository
    from sniper.services.ebay_tokens import UserTokenProvider

# Split out of this module; `reset()` still forgets what they built.
_SPLIT_OUT = (
    "sniper.composition_users",
    "sniper.composition_ebay_accounts",
    "sniper.composition_wishlist",
)


@cache
def ebay_client() -> EbayClient:
    """One client per container: one connection pool, one app-token cache."""
    from sniper.ebay.client import EbayClient

    return EbayClient.from_env()


@cache
def ebay_links() -> EbayLinkRepository:
    from sniper.repositories.ebay_links import EbayLinkRepository

    return EbayLinkRepository(table_names().users)


@cache
def user_tokens() -> UserTokenProvider:
    from sniper.services.ebay_tokens import UserTokenProvider
    from sniper.token_cipher import TokenCipher

    return UserTokenProvider(ebay_links(), TokenCipher(token_key_id()), ebay_client())


def reset() -> None:
    """Forget every built service, here and in the function modules split out of
    this one that are loaded; tests rebuild them against a fresh mock."""
    for builder in (ebay_client, ebay_links, user_tokens):
        builder.cache_clear()
    for name in _SPLIT_OUT:
        module = sys.modules.get(name)
        if module is not None:
            module.reset()
