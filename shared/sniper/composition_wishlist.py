"""Wishlist Sync's service, built once per container on first use, from the eBay
client and token provider of `sniper.composition`."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sniper.services.wishlist import WishlistService


@cache
def wishlist_service() -> WishlistService:
    """The service and the eBay client are imported when the first request
    builds it, not at init."""
    from sniper import composition
    from sniper.services.wishlist import WishlistService

    return WishlistService(composition.user_tokens(), composition.ebay_client())


def reset() -> None:
    """Forget the built service; tests rebuild it against a fresh mock."""
    wishlist_service.cache_clear()
