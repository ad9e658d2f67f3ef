"""The history service with an in-memory store: ranges, scopes, 404s."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from sniper.auth import AuthenticatedUser
from sniper.errors import BadRequestError, NotFoundError
from sniper.models.statuses import HistoryAction
from sniper.pagination import CursorCodec, Page
from sniper.repositories.bid_history import HistoryEntry
from sniper.services.bid_history import BidHistoryService, HistoryQuery
from tests.support.bids import a_bid, an_entry

ALICE = AuthenticatedUser(user_id="alice", email=None)


class FakeHistory:
    """Remembers what it was asked; answers one page with a next position."""

    def __init__(self, entries: builtins.list[HistoryEntry]) -> None:
        self.entries = entries
        self.asked: builtins.list[dict[str, Any]] = []

    def list(self, user_id: str, **query: Any) -> Page[HistoryEntry]:
        self.asked.append({"user_id": user_id, **query})
        return Page(self.entries, {"historyKey": "000000000001#x"})

    def timeline(self, user_id: str, bid_id: str) -> builtins.list[HistoryEntry]:
        return [e for e in self.entries if (e.user_id, e.bid_id) == (user_id, bid_id)]


@pytest.fixture
def store() -> FakeHistory:
    return FakeHistory([an_entry(a_bid("alice"))])


@pytest.fixture
def service(store: FakeHistory) -> BidHistoryService:
    return BidHistoryService(store, CursorCodec(lambda: b"k" * 32))


def test_a_cursor_carries_the_position_to_the_next_page(
    service: BidHistoryService, store: FakeHistory
) -> None:
    query = HistoryQuery(action=HistoryAction.WIN, limit=1)
    first = service.history_of(ALICE, query)

    service.history_of(
        ALICE,
        HistoryQuery(
            action=HistoryAction.WIN, limit=5, cursor=first.pagination.nextCursor
        ),
    )

    assert store.asked[0]["cursor"] is None
    assert store.asked[1]["cursor"] == {"historyKey": "000000000001#x"}
    assert store.asked[1]["limit"] == 5


def test_a_cursor_is_bound_to_the_filters(service: BidHistoryService) -> None:
    cursor = service.history_of(ALICE, HistoryQuery(from_ts=10)).pagination.nextCursor

    with pytest.raises(BadRequestError, match="other filters"):
        service.history_of(ALICE, HistoryQuery(from_ts=11, cursor=cursor))


@pytest.mark.parametrize(
    "query",
    [
        HistoryQuery(from_ts=11, to_ts=10),
        HistoryQuery(limit=0),
        HistoryQuery(limit=101),
    ],
)
def test_bad_ranges_are_400(service: BidHistoryService, query: HistoryQuery) -> None:
    with pytest.raises(BadRequestError):
        service.history_of(ALICE, query)


def test_an_unknown_bids_timeline_is_404(service: BidHistoryService) -> None:
    with pytest.raises(NotFoundError, match="No such bid"):
        service.timeline(ALICE, "nope")
