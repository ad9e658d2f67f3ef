"""Bidding through the Buy Offer API (v1_beta, user token, buy.offer.auction).

``place_proxy_bid`` is the snipe itself: eBay bids for the user up to
``max_amount``. ``get_bidding`` tells afterwards whether the user leads, and,
once the auction has ended, whether they won. eBay's refusals (HTTP 409 and
friends) become ``EbayBidRejected`` with the Offer error id and a reason.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from pydantic import ConfigDict, Field, ValidationError

from sniper.ebay.config import EbayEndpoints
from sniper.ebay.errors import (
    EbayBidRejected,
    EbayError,
    EbayErrorDetail,
    EbayItemNotFound,
    EbayNoBiddingActivity,
    EbayPermanentError,
    invalid_fields,
)
from sniper.ebay.http import EbayTransport, Timeout
from sniper.ebay.models import Bidding, ProxyBid
from sniper.ebay.rest import (
    WireAmount,
    bearer,
    json_body,
    money_or_none,
    raise_for_rest_status,
)
from sniper.ebay.timestamps import unix_seconds_or_none
from sniper.models.base import Model
from sniper.money import Money

BIDDING_PATH = "/buy/offer/v1_beta/bidding"
ITEM_NOT_FOUND = 120001
NO_BIDDING_ACTIVITY = 120033


def bidding_url(endpoints: EbayEndpoints, item_id: str) -> str:
    """The bidding resource of an item; ``|`` in RESTful ids becomes ``%7C``."""
    if not item_id:
        raise ValueError("item_id is empty")
    return f"{endpoints.api_base_url}{BIDDING_PATH}/{quote(item_id, safe='')}"


def place_proxy_bid(
    transport: EbayTransport,
    endpoints: EbayEndpoints,
    access_token: str,
    item_id: str,
    max_amount: Money,
    *,
    marketplace_id: str,
    adult_consent: bool = False,
    timeout: Timeout | None = None,
) -> str:
    """Bid up to ``max_amount`` (the listing's currency) on the auction with
    RESTful id ``item_id``; return eBay's ``proxyBidId``."""
    if max_amount.cents <= 0:
        raise ValueError("a bid must be above zero")
    body: dict[str, Any] = {
        "maxAmount": {"currency": max_amount.currency, "value": max_amount.to_wire()}
    }
    if adult_consent:
        body["userConsent"] = {"adultOnlyItem": True}
    response = transport.send(
        "POST",
        f"{bidding_url(endpoints, item_id)}/place_proxy_bid",
        headers={
            **bearer(access_token),
            "Accept": "application/json",
            "Content-Type": "application/json",
            "X-EBAY-C-MARKETPLACE-ID": marketplace_id,
        },
        content=json.dumps(body).encode(),
        timeout=timeout,
    )
    raise_for_rest_status(response, secrets=(access_token,), classify=_classify_bid)
    proxy_bid_id = json_body(response, "placeProxyBid").get("proxyBidId")
    if not isinstance(proxy_bid_id, str) or not proxy_bid_id:
        raise EbayPermanentError(
            "eBay accepted the bid but sent no proxyBidId",
            http_status=response.status_code,
        )
    return proxy_bid_id


def get_bidding(
    transport: EbayTransport,
    endpoints: EbayEndpoints,
    access_token: str,
    item_id: str,
    *,
    marketplace_id: str,
    timeout: Timeout | None = None,
) -> Bidding:
    """The user's standing on an auction they have bid on."""
    response = transport.send(
        "GET",
        bidding_url(endpoints, item_id),
        headers={
            **bearer(access_token),
            "Accept": "application/json",
            "X-EBAY-C-MARKETPLACE-ID": marketplace_id,
        },
        timeout=timeout,
    )
    raise_for_rest_status(response, secrets=(access_token,), classify=_classify_bidding)
    return bidding(json_body(response, "getBidding"))


def _classify_bid(status: int, detail: EbayErrorDetail) -> type[EbayError] | None:
    # Every Offer-specific 4xx refuses this bid; 120000 is eBay's internal
    # error and arrives as a 500, which is transient and handled before this.
    if isinstance(detail.error_id, int) and 120000 < detail.error_id < 121000:
        return EbayBidRejected
    return None


def _classify_bidding(status: int, detail: EbayErrorDetail) -> type[EbayError] | None:
    if detail.error_id == NO_BIDDING_ACTIVITY:
        return EbayNoBiddingActivity
    if detail.error_id == ITEM_NOT_FOUND:
        return EbayItemNotFound
    return None


class _ProxyBid(Model):
    model_config = ConfigDict(extra="ignore")
    proxy_bid_id: str | None = Field(default=None, alias="proxyBidId")
    max_amount: WireAmount | None = Field(default=None, alias="maxAmount")


class _Bidding(Model):
    """Offer's ``Bidding`` type; ``auctionStatus`` stays a string (eBay may add
    values)."""

    model_config = ConfigDict(extra="ignore")

    item_id: str | None = Field(default=None, alias="itemId")
    auction_status: str = Field(alias="auctionStatus", min_length=1)
    auction_end_date: str | None = Field(default=None, alias="auctionEndDate")
    bid_count: int | None = Field(default=None, alias="bidCount")
    current_price: WireAmount | None = Field(default=None, alias="currentPrice")
    current_proxy_bid: _ProxyBid | None = Field(default=None, alias="currentProxyBid")
    high_bidder: bool | None = Field(default=None, alias="highBidder")
    reserve_price_met: bool | None = Field(default=None, alias="reservePriceMet")
    suggested_bid_amounts: list[WireAmount] = Field(
        default_factory=list, alias="suggestedBidAmounts"
    )


def bidding(body: dict[str, Any]) -> Bidding:
    """Convert Offer's ``Bidding`` JSON to ``Bidding`` (cents, Unix seconds)."""
    try:
        wire = _Bidding.model_validate(body)
        proxy = wire.current_proxy_bid
        return Bidding(
            item_id=wire.item_id,
            auction_status=wire.auction_status,
            auction_end_date=unix_seconds_or_none(wire.auction_end_date),
            bid_count=wire.bid_count or 0,
            current_price=money_or_none(wire.current_price),
            current_proxy_bid=(
                ProxyBid(
                    proxy_bid_id=proxy.proxy_bid_id,
                    max_amount=money_or_none(proxy.max_amount),
                )
                if proxy
                else None
            ),
            high_bidder=bool(wire.high_bidder),
            reserve_price_met=wire.reserve_price_met,
            suggested_bid_amounts=tuple(
                amount.money() for amount in wire.suggested_bid_amounts
            ),
        )
    except ValidationError as exc:
        raise EbayPermanentError(
            "eBay's bidding answer has invalid field(s): "
            + invalid_fields(exc.errors())
        ) from None
    except (ValueError, TypeError) as exc:
        raise EbayPermanentError(f"eBay's bidding answer is malformed: {exc}") from None
