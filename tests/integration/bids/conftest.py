"""The bid repositories against moto's tables, created from the template."""

from __future__ import annotations

import pytest

from sniper.repositories.bid_history import BidHistoryRepository
from sniper.repositories.bids import BidRepository
from tests.conftest import MockedAws


@pytest.fixture
def history(mocked_aws: MockedAws) -> BidHistoryRepository:
    return BidHistoryRepository(mocked_aws.tables["BidHistoryTable"])


@pytest.fixture
def bids(mocked_aws: MockedAws, history: BidHistoryRepository) -> BidRepository:
    return BidRepository(mocked_aws.tables["BidsTable"], history)
