"""The bid contract's validation, and stored bids read back exactly."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from sniper.models.bids import CreateBidRequest, UpdateBidRequest
from sniper.models.history import MAX_HISTORY_TIMESTAMP
from sniper.models.statuses import ACTIVE_STATUSES, FINAL_STATUSES, BidStatus
from sniper.repositories.bid_history import new_history_id, sortable_time
from sniper.repositories.bids import StoredBid
from tests.support.bids import a_bid


def test_statuses_are_active_or_final() -> None:
    assert set(BidStatus) == ACTIVE_STATUSES | FINAL_STATUSES
    assert not ACTIVE_STATUSES & FINAL_STATUSES
    assert BidStatus.PLACED in ACTIVE_STATUSES


def test_a_create_request() -> None:
    request = CreateBidRequest.model_validate(
        {"ebayItemId": "110587654321", "maxBidAmount": 2500}
    )

    assert request.snipeLeadSeconds is None


@pytest.mark.parametrize(
    "body",
    [
        {"ebayItemId": "v1|110587654321|0", "maxBidAmount": 2500},
        {"ebayItemId": "1" * 20, "maxBidAmount": 2500},
        {"ebayItemId": "", "maxBidAmount": 2500},
        {"ebayItemId": "110587654321", "maxBidAmount": 99},
        {"ebayItemId": "110587654321", "maxBidAmount": 10_000_001},
        {"ebayItemId": "110587654321", "maxBidAmount": "2500"},
        {"ebayItemId": "110587654321", "maxBidAmount": 2500.0},
        {"ebayItemId": "110587654321", "maxBidAmount": True},
        {"ebayItemId": "110587654321", "maxBidAmount": 2500, "snipeLeadSeconds": 2},
        {"ebayItemId": "110587654321", "maxBidAmount": 2500, "snipeLeadSeconds": 61},
        {"ebayItemId": "110587654321", "maxBidAmount": 2500, "userId": "x"},
        {"maxBidAmount": 2500},
    ],
)
def test_bad_create_requests(body: Any) -> None:
    with pytest.raises(ValidationError):
        CreateBidRequest.model_validate(body)


def test_an_update_changes_something() -> None:
    assert UpdateBidRequest.model_validate({"snipeLeadSeconds": 3}).changes() == {
        "snipeLeadSeconds": 3
    }
    for body in ({}, {"maxBidAmount": None}, {"status": "WON", "maxBidAmount": 200}):
        with pytest.raises(ValidationError):
            UpdateBidRequest.model_validate(body)


def test_a_stored_bid_round_trips_with_whole_numbers() -> None:
    bid = a_bid(final_price=2_100, reason="outbid")
    item = bid.to_item()
    from_dynamo = {k: Decimal(v) if isinstance(v, int) else v for k, v in item.items()}

    read = StoredBid.from_item({**from_dynamo, "somethingNew": "ignored"})

    assert read == bid
    assert type(read.max_bid_amount) is int
    assert "itemUrl" not in item  # absent, not null


def test_keys_sort_as_times() -> None:
    assert sortable_time(5) < sortable_time(40) < sortable_time(1_764_028_800)
    assert new_history_id(100.002) < new_history_id(100.01) < new_history_id(101)
    with pytest.raises(ValueError):
        sortable_time(-1)


def test_every_time_a_history_filter_accepts_has_a_key() -> None:
    """The API's bound on `from` and `to` is the keys' own: a filter at it must
    not fail as a 500 deep in the repository."""
    assert len(sortable_time(MAX_HISTORY_TIMESTAMP)) == 12
    with pytest.raises(ValueError):
        sortable_time(MAX_HISTORY_TIMESTAMP + 1)
