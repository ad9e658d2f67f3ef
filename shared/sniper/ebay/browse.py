"""Live item details from the Browse API (application token).

A bid is checked against what eBay says now: that the listing is an auction,
its minimum next bid, its end. ``get_item_by_legacy_id`` also yields the RESTful
item id (``v1|123|0``) that the Offer API needs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from pydantic import ConfigDict, Field, ValidationError

from sniper.ebay.config import EbayEndpoints
from sniper.ebay.errors import (
    EbayError,
    EbayErrorDetail,
    EbayItemNotFound,
    EbayPermanentError,
    invalid_fields,
)
from sniper.ebay.http import EbayTransport, Timeout
from sniper.ebay.models import ItemDetails, Seller
from sniper.ebay.rest import (
    WireAmount,
    bearer,
    json_body,
    money_or_none,
    raise_for_rest_status,
)
from sniper.ebay.timestamps import unix_seconds_or_none
from sniper.models.base import Model

ITEM_PATH = "/buy/browse/v1/item"
# 11001: getItem's id not found; 11003: getItemByLegacyId's id not found. The
# spec lists them under 400, live eBay answers 404: the id decides, not the status.
NOT_FOUND_IDS = frozenset({11001, 11003})
MULTI_VARIATION_LISTING = 11006


def get_item_by_legacy_id(
    transport: EbayTransport,
    endpoints: EbayEndpoints,
    app_token: str,
    legacy_id: str,
    *,
    marketplace_id: str,
    timeout: Timeout | None = None,
) -> ItemDetails:
    """The listing whose classic numeric id (as in its web URL) is ``legacy_id``."""
    check_legacy_id(legacy_id)
    return _get(
        transport,
        f"{endpoints.api_base_url}{ITEM_PATH}/get_item_by_legacy_id",
        app_token,
        params={"legacy_item_id": legacy_id},
        marketplace_id=marketplace_id,
        timeout=timeout,
    )


def check_legacy_id(legacy_id: str) -> None:
    """Refuse what cannot be a classic item id before spending a call on it."""
    if not legacy_id.isdigit():
        raise ValueError(f"a legacy item id is numeric, got {legacy_id!r}")


def get_item(
    transport: EbayTransport,
    endpoints: EbayEndpoints,
    app_token: str,
    item_id: str,
    *,
    marketplace_id: str,
    timeout: Timeout | None = None,
) -> ItemDetails:
    """The listing with RESTful id ``item_id`` (``v1|123456789012|0``)."""
    if not item_id:
        raise ValueError("item_id is empty")
    return _get(
        transport,
        f"{endpoints.api_base_url}{ITEM_PATH}/{quote(item_id, safe='')}",
        app_token,
        params=None,
        marketplace_id=marketplace_id,
        timeout=timeout,
    )


def _get(
    transport: EbayTransport,
    url: str,
    app_token: str,
    *,
    params: dict[str, str] | None,
    marketplace_id: str,
    timeout: Timeout | None,
) -> ItemDetails:
    response = transport.send(
        "GET",
        url,
        headers={
            **bearer(app_token),
            "Accept": "application/json",
            "X-EBAY-C-MARKETPLACE-ID": marketplace_id,
        },
        params=params,
        timeout=timeout,
    )
    raise_for_rest_status(response, secrets=(app_token,), classify=_classify)
    return item_details(json_body(response, "getItem"))


def _classify(status: int, detail: EbayErrorDetail) -> type[EbayError] | None:
    if detail.error_id in NOT_FOUND_IDS:
        return EbayItemNotFound
    return None


class _Image(Model):
    model_config = ConfigDict(extra="ignore")
    image_url: str | None = Field(default=None, alias="imageUrl")


class _Seller(Model):
    model_config = ConfigDict(extra="ignore")
    username: str | None = None
    feedback_percentage: str | None = Field(default=None, alias="feedbackPercentage")
    feedback_score: int | None = Field(default=None, alias="feedbackScore")


class _Item(Model):
    """The subset of Browse's ``Item`` the sniper reads; all else is ignored,
    and enumerations stay strings so new eBay values cannot break parsing."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    item_id: str = Field(alias="itemId", min_length=1)
    legacy_item_id: str | None = Field(default=None, alias="legacyItemId")
    title: str = ""
    buying_options: list[str] = Field(default_factory=list, alias="buyingOptions")
    current_bid_price: WireAmount | None = Field(default=None, alias="currentBidPrice")
    minimum_price_to_bid: WireAmount | None = Field(
        default=None, alias="minimumPriceToBid"
    )
    bid_count: int | None = Field(default=None, alias="bidCount")
    unique_bidder_count: int | None = Field(default=None, alias="uniqueBidderCount")
    reserve_price_met: bool | None = Field(default=None, alias="reservePriceMet")
    item_end_date: str | None = Field(default=None, alias="itemEndDate")
    price: WireAmount | None = None
    image: _Image | None = None
    condition: str | None = None
    seller: _Seller | None = None
    item_web_url: str | None = Field(default=None, alias="itemWebUrl")
    adult_only: bool | None = Field(default=None, alias="adultOnly")
    listing_marketplace_id: str | None = Field(
        default=None, alias="listingMarketplaceId"
    )


def item_details(body: dict[str, Any]) -> ItemDetails:
    """Convert Browse's ``Item`` JSON to ``ItemDetails`` (cents, Unix seconds)."""
    try:
        item = _Item.model_validate(body)
        return ItemDetails(
            item_id=item.item_id,
            legacy_item_id=item.legacy_item_id,
            title=item.title,
            buying_options=tuple(item.buying_options),
            current_bid_price=money_or_none(item.current_bid_price),
            minimum_price_to_bid=money_or_none(item.minimum_price_to_bid),
            bid_count=item.bid_count or 0,
            unique_bidder_count=item.unique_bidder_count,
            reserve_price_met=item.reserve_price_met,
            item_end_date=_unix(item.item_end_date),
            price=money_or_none(item.price),
            image_url=item.image.image_url if item.image else None,
            condition=item.condition,
            seller=(
                Seller(
                    username=item.seller.username,
                    feedback_percentage=item.seller.feedback_percentage,
                    feedback_score=item.seller.feedback_score,
                )
                if item.seller
                else None
            ),
            item_web_url=item.item_web_url,
            adult_only=bool(item.adult_only),
            marketplace_id=item.listing_marketplace_id,
        )
    except ValidationError as exc:
        raise EbayPermanentError(
            f"eBay's item answer has invalid field(s): {invalid_fields(exc.errors())}"
        ) from None
    except (ValueError, TypeError) as exc:  # amounts or dates eBay never writes
        raise EbayPermanentError(f"eBay's item answer is malformed: {exc}") from None


def _unix(value: str | None) -> int | None:
    return unix_seconds_or_none(value)
