"""A bid goes to its listing's marketplace: `marketplace_id` on the Offer calls
overrides the deployment's (a GB listing sniped by a US deployment), and leaving
it out keeps the deployment's."""

from __future__ import annotations

import pytest
import respx
from ebay_test_support import USER_TOKEN, Wire

from sniper.ebay import EbayClient
from sniper.money import Money

ITEM_ID = "v1|110554436163|0"
BIDDING_URL = "https://api.ebay.com/buy/offer/v1_beta/bidding/v1%7C110554436163%7C0"


@pytest.mark.parametrize(
    ("marketplace_id", "sent"), [(None, "EBAY_US"), ("EBAY_GB", "EBAY_GB")]
)
def test_offer_calls_name_the_listings_marketplace(
    client: EbayClient,
    respx_mock: respx.MockRouter,
    wire: Wire,
    marketplace_id: str | None,
    sent: str,
) -> None:
    bid = respx_mock.post(f"{BIDDING_URL}/place_proxy_bid").respond(
        200, json=wire.json("offer_place_proxy_bid.json")
    )
    bidding = respx_mock.get(BIDDING_URL).respond(
        200, json=wire.json("offer_get_bidding_active.json")
    )

    client.place_proxy_bid(
        USER_TOKEN, ITEM_ID, Money(1800, "GBP"), marketplace_id=marketplace_id
    )
    client.get_bidding(USER_TOKEN, ITEM_ID, marketplace_id=marketplace_id)

    assert bid.calls.last.request.headers["X-EBAY-C-MARKETPLACE-ID"] == sent
    assert bidding.calls.last.request.headers["X-EBAY-C-MARKETPLACE-ID"] == sent
