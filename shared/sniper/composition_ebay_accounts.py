"""eBay OAuth's services, built once per container on first use: linking and
unlinking accounts, and eBay's account deletion notices.

Apart from `sniper.composition`, whose eBay client and link repository they share.
The bid canceller (unlinking, a deleted eBay account) is built on its first use;
each builder imports its own parts, so the handler's import loads none of them.
"""

from __future__ import annotations

from functools import cache, partial
from typing import TYPE_CHECKING

from sniper import composition
from sniper.composition_bids import DeferredBidCanceller
from sniper.settings import table_names, token_key_id

if TYPE_CHECKING:
    from sniper.services.account_deletion import AccountDeletionService
    from sniper.services.ebay_accounts import EbayAccountService


@cache
def ebay_account_service() -> EbayAccountService:
    """Linking and unlinking; eBay's deletion notices never build it."""
    from sniper.repositories.oauth_states import OAuthStateRepository
    from sniper.services.ebay_accounts import EbayAccountService
    from sniper.token_cipher import TokenCipher

    return EbayAccountService(
        links=composition.ebay_links(),
        states=OAuthStateRepository(table_names().users),
        cipher=TokenCipher(token_key_id()),
        ebay=composition.ebay_client(),
        bids=DeferredBidCanceller(),
    )


@cache
def account_deletion_service() -> AccountDeletionService:
    """eBay's account deletion notices; the keyset secret is read on each use
    (Parameters caches it five minutes), so a rotated token is picked up."""
    from sniper.ebay.config import load_app_credentials
    from sniper.services.account_deletion import AccountDeletionService

    client = composition.ebay_client()
    return AccountDeletionService(
        links=composition.ebay_links(),
        ebay=client,
        credentials=partial(load_app_credentials, client.settings.secret_arn),
        bids=DeferredBidCanceller(),
    )


def reset() -> None:
    """Forget the built services; tests rebuild them against a fresh mock."""
    ebay_account_service.cache_clear()
    account_deletion_service.cache_clear()
