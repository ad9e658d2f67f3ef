"""The eBay client: OAuth, Identity, Trading (watch list), Browse, Offer and the
Notification API (account deletion notices: challenge, signature, public key).

Importing this package makes no network or AWS call: the HTTP client, the
settings and the app credentials are all created on first use.

Each name is imported from its module on first use (PEP 562), so a function
loads only the eBay APIs it calls: account linking never loads Offer or
Trading, a snipe never loads Trading.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sniper.ebay.client import (
        EbayClient,
    )
    from sniper.ebay.config import (
        DeletionEndpoint,
        EbayAppCredentials,
        EbayEndpoints,
        EbayEnvironment,
        EbaySettings,
        load_app_credentials,
    )
    from sniper.ebay.errors import (
        BidRejection,
        EbayAuthError,
        EbayBidRejected,
        EbayConfigError,
        EbayConnectionError,
        EbayError,
        EbayErrorDetail,
        EbayItemNotFound,
        EbayNoBiddingActivity,
        EbayPermanentError,
        EbayRateLimited,
        EbayTimeout,
        EbayTransientError,
    )
    from sniper.ebay.models import (
        AccessToken,
        Bidding,
        EbayUser,
        ItemDetails,
        ProxyBid,
        Seller,
        UserTokens,
        WatchedItem,
    )
    from sniper.ebay.notification import (
        MARKETPLACE_ACCOUNT_DELETION,
        SIGNATURE_HEADER,
        EbayPublicKeyNotFound,
        NotificationPublicKey,
        NotificationSignatureError,
        SignatureHeader,
        challenge_response,
        parse_signature_header,
        signed_forms,
        verify_signature,
    )
    from sniper.ebay.oauth import (
        API_SCOPE,
        APPLICATION_SCOPES,
        BUY_OFFER_AUCTION_SCOPE,
        IDENTITY_READONLY_SCOPE,
        USER_SCOPES,
    )
    from sniper.ebay.retry import (
        EbayDeadlineExceeded,
        call_with_retries,
    )

_MODULES = {
    "EbayClient": "sniper.ebay.client",
    "DeletionEndpoint": "sniper.ebay.config",
    "EbayAppCredentials": "sniper.ebay.config",
    "EbayEndpoints": "sniper.ebay.config",
    "EbayEnvironment": "sniper.ebay.config",
    "EbaySettings": "sniper.ebay.config",
    "load_app_credentials": "sniper.ebay.config",
    "BidRejection": "sniper.ebay.errors",
    "EbayAuthError": "sniper.ebay.errors",
    "EbayBidRejected": "sniper.ebay.errors",
    "EbayConfigError": "sniper.ebay.errors",
    "EbayConnectionError": "sniper.ebay.errors",
    "EbayError": "sniper.ebay.errors",
    "EbayErrorDetail": "sniper.ebay.errors",
    "EbayItemNotFound": "sniper.ebay.errors",
    "EbayNoBiddingActivity": "sniper.ebay.errors",
    "EbayPermanentError": "sniper.ebay.errors",
    "EbayRateLimited": "sniper.ebay.errors",
    "EbayTimeout": "sniper.ebay.errors",
    "EbayTransientError": "sniper.ebay.errors",
    "AccessToken": "sniper.ebay.models",
    "Bidding": "sniper.ebay.models",
    "EbayUser": "sniper.ebay.models",
    "ItemDetails": "sniper.ebay.models",
    "ProxyBid": "sniper.ebay.models",
    "Seller": "sniper.ebay.models",
    "UserTokens": "sniper.ebay.models",
    "WatchedItem": "sniper.ebay.models",
    "MARKETPLACE_ACCOUNT_DELETION": "sniper.ebay.notification",
    "SIGNATURE_HEADER": "sniper.ebay.notification",
    "EbayPublicKeyNotFound": "sniper.ebay.notification",
    "NotificationPublicKey": "sniper.ebay.notification",
    "NotificationSignatureError": "sniper.ebay.notification",
    "SignatureHeader": "sniper.ebay.notification",
    "challenge_response": "sniper.ebay.notification",
    "parse_signature_header": "sniper.ebay.notification",
    "signed_forms": "sniper.ebay.notification",
    "verify_signature": "sniper.ebay.notification",
    "API_SCOPE": "sniper.ebay.oauth",
    "APPLICATION_SCOPES": "sniper.ebay.oauth",
    "BUY_OFFER_AUCTION_SCOPE": "sniper.ebay.oauth",
    "IDENTITY_READONLY_SCOPE": "sniper.ebay.oauth",
    "USER_SCOPES": "sniper.ebay.oauth",
    "EbayDeadlineExceeded": "sniper.ebay.retry",
    "call_with_retries": "sniper.ebay.retry",
}

__all__ = [
    "API_SCOPE",
    "APPLICATION_SCOPES",
    "BUY_OFFER_AUCTION_SCOPE",
    "IDENTITY_READONLY_SCOPE",
    "MARKETPLACE_ACCOUNT_DELETION",
    "SIGNATURE_HEADER",
    "USER_SCOPES",
    "AccessToken",
    "BidRejection",
    "Bidding",
    "DeletionEndpoint",
    "EbayAppCredentials",
    "EbayAuthError",
    "EbayBidRejected",
    "EbayClient",
    "EbayConfigError",
    "EbayConnectionError",
    "EbayDeadlineExceeded",
    "EbayEndpoints",
    "EbayEnvironment",
    "EbayError",
    "EbayErrorDetail",
    "EbayItemNotFound",
    "EbayNoBiddingActivity",
    "EbayPermanentError",
    "EbayPublicKeyNotFound",
    "EbayRateLimited",
    "EbaySettings",
    "EbayTimeout",
    "EbayTransientError",
    "EbayUser",
    "ItemDetails",
    "NotificationPublicKey",
    "NotificationSignatureError",
    "ProxyBid",
    "Seller",
    "SignatureHeader",
    "UserTokens",
    "WatchedItem",
    "call_with_retries",
    "challenge_response",
    "load_app_credentials",
    "parse_signature_header",
    "signed_forms",
    "verify_signature",
]


def __getattr__(name: str) -> object:
    try:
        module = _MODULES[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULES))
