"""Request bodies of the admin API, validated by Pydantic (camelCase on the wire)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr
from pydantic.alias_generators import to_camel

from local.ebay_emulator.auction import ListingType
from local.ebay_emulator.faults import FaultKind
from local.ebay_emulator.money import parse_decimal_amount


class AdminModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid"
    )


class AmountIn(AdminModel):
    value: str
    currency: str | None = None


# Integers are cents (2000 = $20.00); strings and Amount objects are decimals.
Money = StrictInt | StrictStr | AmountIn


def to_cents(money: Money) -> int:
    if isinstance(money, int):
        return money
    if isinstance(money, AmountIn):
        return parse_decimal_amount(money.value)
    return parse_decimal_amount(money)


def optional_cents(money: Money | None) -> int | None:
    return None if money is None else to_cents(money)


def stated_currency(*amounts: Money | None) -> str | None:
    """The currency written in any Amount object among `amounts`, if one says it."""
    stated = {a.currency for a in amounts if isinstance(a, AmountIn) and a.currency}
    if len(stated) > 1:
        raise ValueError(f"amounts in different currencies: {sorted(stated)}")
    return stated.pop() if stated else None


class NewListing(AdminModel):
    title: str = Field(default="Emulated auction", min_length=1, max_length=80)
    seller: str = "emulator-seller"
    listing_type: ListingType = ListingType.AUCTION
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    start_price: Money = 999
    reserve: Money | None = None
    buy_it_now: Money | None = None
    ends_in_seconds: float | None = Field(default=None, gt=0)
    end_time: str | None = None
    image_url: str | None = None
    condition: str = "Used"


class ListingChange(AdminModel):
    ends_in_seconds: float | None = None
    end_time: str | None = None


class RivalBid(AdminModel):
    bidder: str = Field(min_length=1)
    max_amount: Money
    currency: str | None = None


class NewScriptedBid(AdminModel):
    """A rival's bid at a moment: `at` (Unix seconds or ISO 8601, emulator time)
    or `secondsBeforeEnd`."""

    bidder: str = Field(min_length=1)
    max_amount: Money
    currency: str | None = None
    at: float | str | None = None
    seconds_before_end: float | None = Field(default=None, ge=0)


class Purchase(AdminModel):
    buyer: str = Field(min_length=1)


class NewUser(AdminModel):
    username: str = Field(min_length=1)
    feedback_score: int | None = None
    feedback_percentage: str | None = None


class UserChange(AdminModel):
    username: str = Field(min_length=1)


class WatchItem(AdminModel):
    item_id: str = Field(min_length=1)


class TokenRequest(AdminModel):
    scopes: list[str] | None = None
    client_id: str | None = None


class NewApp(AdminModel):
    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=1)
    ru_name: str = Field(min_length=1)
    accept_url: str = Field(min_length=1)
    reject_url: str = Field(min_length=1)
    scopes: list[str] | None = None


class NewFault(AdminModel):
    kind: FaultKind
    path_prefix: str = "/"
    method: str | None = None
    count: int | None = Field(default=None, ge=1)
    rate: float | None = Field(default=None, ge=0.0, le=1.0)
    seed: int | None = None
    delay_ms: int = Field(default=1_000, ge=0)
    status: int = 503
    retry_after: int = Field(default=1, ge=0)
    hold_seconds: float = Field(default=120.0, ge=0)
    processed: bool = False
    # The rule's window on the emulator's clock: Unix seconds or ISO 8601.
    active_from: float | str | None = None
    active_until: float | str | None = None


class ClockChange(AdminModel):
    advance_seconds: float = Field(ge=0)


# An http(s) URL: eBay itself insists on https; the emulator also posts to http.
ENDPOINT_URL = r"^https?://[^\s/?#]+[^\s#]*$"


class DeletionNoticeRequest(AdminModel):
    username: str = Field(min_length=1)
    endpoint: str = Field(pattern=ENDPOINT_URL)


class ChallengeRequest(AdminModel):
    endpoint: str = Field(pattern=ENDPOINT_URL)
    # What eBay's developer portal accepts as a verification token.
    verification_token: str = Field(pattern=r"^[A-Za-z0-9_-]{32,80}$")
