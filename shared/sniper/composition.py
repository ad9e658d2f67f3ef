"""Services built from the container's settings, once per container.

Handlers call these instead of wiring repositories themselves, so every function
composes a service the same way and tests can build services by hand.
"""

from __future__ import annotations

from functools import cache, partial

from sniper.ebay import EbayClient, load_app_credentials
from sniper.repositories.cognito_users import CognitoUsers
from sniper.repositories.ebay_links import EbayLinkRepository
from sniper.repositories.oauth_states import OAuthStateRepository
from sniper.repositories.partitions import UserPartition
from sniper.repositories.users import UsersRepository
from sniper.services.account_deletion import AccountDeletionService
from sniper.services.bid_cancellation import BidCanceller
from sniper.services.ebay_accounts import EbayAccountService
from sniper.services.ebay_tokens import UserTokenProvider
from sniper.services.users import UserService
from sniper.services.wishlist import WishlistService
from sniper.settings import (
    table_names,
    token_key_id,
    tombstone_seconds,
    user_pool_id,
)
from sniper.token_cipher import TokenCipher


@cache
def ebay_client() -> EbayClient:
    """One client per container: one connection pool, one app-token cache."""
    return EbayClient.from_env()


@cache
def ebay_links() -> EbayLinkRepository:
    return EbayLinkRepository(table_names().users)


@cache
def user_tokens() -> UserTokenProvider:
    return UserTokenProvider(ebay_links(), TokenCipher(token_key_id()), ebay_client())


@cache
def user_service() -> UserService:
    tables = table_names()
    return UserService(
        users=UsersRepository(tables.users),
        erasers=[
            ebay_links(),
            UserPartition(tables.bids, ("userId", "sk")),
            UserPartition(tables.bid_history, ("userId", "historyKey")),
        ],
        identities=CognitoUsers(user_pool_id),
        bids=_bid_canceller(),
        tombstone_seconds=tombstone_seconds(),
    )


@cache
def ebay_account_service() -> EbayAccountService:
    return EbayAccountService(
        links=ebay_links(),
        states=OAuthStateRepository(table_names().users),
        cipher=TokenCipher(token_key_id()),
        ebay=ebay_client(),
        bids=_bid_canceller(),
    )


@cache
def wishlist_service() -> WishlistService:
    return WishlistService(user_tokens(), ebay_client())


@cache
def account_deletion_service() -> AccountDeletionService:
    """eBay's account deletion notices; the keyset secret is read on each use
    (Parameters caches it five minutes), so a rotated token is picked up."""
    client = ebay_client()
    return AccountDeletionService(
        links=ebay_links(),
        ebay=client,
        credentials=partial(load_app_credentials, client.settings.secret_arn),
        bids=_bid_canceller(),
    )


def _bid_canceller() -> BidCanceller:
    from sniper import composition_bids

    return composition_bids.bid_canceller()


def reset() -> None:
    """Forget every built service; tests rebuild them against a fresh mock."""
    for builder in (
        ebay_client,
        ebay_links,
        user_tokens,
        user_service,
        ebay_account_service,
        wishlist_service,
        account_deletion_service,
    ):
        builder.cache_clear()
