"""The eBay client: OAuth, Identity, Trading (watch list), Browse and Offer.

Importing this package makes no network or AWS call: the HTTP client, the
settings and the app credentials are all created on first use.
"""

from sniper.ebay.client import EbayClient, default_client
from sniper.ebay.config import (
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
from sniper.ebay.oauth import (
    API_SCOPE,
    APPLICATION_SCOPES,
    BUY_OFFER_AUCTION_SCOPE,
    IDENTITY_READONLY_SCOPE,
    USER_SCOPES,
)
from sniper.ebay.retry import EbayDeadlineExceeded, call_with_retries

__all__ = [
    "API_SCOPE",
    "APPLICATION_SCOPES",
    "BUY_OFFER_AUCTION_SCOPE",
    "IDENTITY_READONLY_SCOPE",
    "USER_SCOPES",
    "AccessToken",
    "BidRejection",
    "Bidding",
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
    "EbayRateLimited",
    "EbaySettings",
    "EbayTimeout",
    "EbayTransientError",
    "EbayUser",
    "ItemDetails",
    "ProxyBid",
    "Seller",
    "UserTokens",
    "WatchedItem",
    "call_with_retries",
    "default_client",
    "load_app_credentials",
]
