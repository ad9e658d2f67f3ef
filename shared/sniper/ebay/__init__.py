"""The eBay client: OAuth, Identity, Trading (watch list), Browse, Offer and the
Notification API (account deletion notices: challenge, signature, public key).

Importing this package makes no network or AWS call: the HTTP client, the
settings and the app credentials are all created on first use.
"""

from sniper.ebay.client import EbayClient
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
from sniper.ebay.retry import EbayDeadlineExceeded, call_with_retries

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
