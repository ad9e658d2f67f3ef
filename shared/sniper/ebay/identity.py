"""Who a user token belongs to: Commerce Identity ``getUser``.

The immutable ``userId`` keys the eBay link (usernames can change, and since
2025-09 some US users get an immutable id in place of a username).
"""

from __future__ import annotations

from sniper.ebay.config import EbayEndpoints
from sniper.ebay.errors import EbayPermanentError
from sniper.ebay.http import EbayTransport, Timeout
from sniper.ebay.models import EbayUser
from sniper.ebay.rest import bearer, json_body, raise_for_rest_status

USER_PATH = "/commerce/identity/v1/user/"


def get_user(
    transport: EbayTransport,
    endpoints: EbayEndpoints,
    access_token: str,
    *,
    timeout: Timeout | None = None,
) -> EbayUser:
    """The eBay account behind ``access_token`` (scope commerce.identity.readonly)."""
    response = transport.send(
        "GET",
        f"{endpoints.identity_base_url}{USER_PATH}",
        headers={**bearer(access_token), "Accept": "application/json"},
        timeout=timeout,
    )
    raise_for_rest_status(response, secrets=(access_token,))
    body = json_body(response, "getUser")
    user_id = body.get("userId")
    if not isinstance(user_id, str) or not user_id:
        raise EbayPermanentError(
            "eBay's getUser answer has no userId", http_status=response.status_code
        )
    username = body.get("username")
    return EbayUser(
        user_id=user_id,
        username=username if isinstance(username, str) and username else user_id,
    )
