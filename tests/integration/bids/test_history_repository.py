"""The BidHistory table: newest first, filters as key ranges, full pages."""

from __future__ import annotations

from typing import Any

import pytest

from sniper.models.statuses import HistoryAction
from sniper.pagination import InvalidCursor
from sniper.repositories.bid_history import BidHistoryRepository, HistoryEntry
from tests.conftest import MockedAws
from tests.support.bids import NOW, a_bid, an_entry
from tests.support.handlers import ALICE, BOB

CREATE, UPDATE, CANCEL = (
    HistoryAction.CREATE,
    HistoryAction.UPDATE,
    HistoryAction.CANCEL,
)
ITEM_A, ITEM_B = "110000000001", "110000000002"


@pytest.fixture
def entries(history: BidHistoryRepository) -> list[HistoryEntry]:
    """30 entries of Alice over 30 minutes on two items, and Bob's on the same."""
    written = []
    bids = [a_bid(ebay_item_id=ITEM_A), a_bid(ebay_item_id=ITEM_B)]
    for minute in range(30):
        bid = bids[minute % 2]
        action = (CREATE, UPDATE, UPDATE, CANCEL)[minute % 4]
        entry = an_entry(bid, action, at=NOW + 60 * minute)
        history.append(entry)
        written.append(entry)
    bob = a_bid(BOB, ebay_item_id=ITEM_A)
    for minute in range(5):
        history.append(an_entry(bob, CREATE, at=NOW + 60 * minute + 1))
    return written


def all_pages(history: BidHistoryRepository, limit: int, **filters: Any) -> Any:
    pages, cursor = [], None
    while True:
        page = history.list(ALICE, limit=limit, cursor=cursor, **filters)
        pages.append([entry.history_id for entry in page.items])
        if page.cursor is None:
            return pages
        cursor = page.cursor


def newest_first(entries: list[HistoryEntry]) -> list[str]:
    return [e.history_id for e in sorted(entries, key=lambda e: e.history_key)][::-1]


def test_the_whole_history_newest_first(
    history: BidHistoryRepository, entries: list[HistoryEntry]
) -> None:
    page = history.list(ALICE, limit=100)

    assert [e.history_id for e in page.items] == newest_first(entries)
    assert page.cursor is None
    assert {e.user_id for e in page.items} == {ALICE}


@pytest.mark.parametrize(
    "filters",
    [
        {"action": UPDATE},
        {"ebay_item_id": ITEM_B},
        {"ebay_item_id": ITEM_A, "action": CANCEL},
        {"from_ts": NOW + 600, "to_ts": NOW + 1200},
        {"from_ts": NOW + 600, "action": CREATE},
        {"to_ts": NOW + 300, "ebay_item_id": ITEM_A},
        {"ebay_item_id": "999"},
    ],
)
def test_filters_give_full_pages_covering_each_match_once(
    history: BidHistoryRepository, entries: list[HistoryEntry], filters: Any
) -> None:
    matching = [
        e
        for e in entries
        if e.action == filters.get("action", e.action)
        and e.ebay_item_id == filters.get("ebay_item_id", e.ebay_item_id)
        and filters.get("from_ts", 0) <= e.timestamp <= filters.get("to_ts", 10**11)
    ]

    pages = all_pages(history, 2, **filters)

    assert [entry for page in pages for entry in page] == newest_first(matching)
    assert all(len(page) == 2 for page in pages[:-1])
    assert len(pages[-1]) in (1, 2) or matching == []


def test_from_and_to_are_inclusive(
    history: BidHistoryRepository, entries: list[HistoryEntry]
) -> None:
    page = history.list(ALICE, from_ts=NOW + 60, to_ts=NOW + 120)

    assert [e.timestamp for e in page.items] == [NOW + 120, NOW + 60]


def test_a_cursor_of_another_listing_shape_is_refused(
    history: BidHistoryRepository, entries: list[HistoryEntry]
) -> None:
    cursor = history.list(ALICE, limit=1, action=UPDATE).cursor

    with pytest.raises(InvalidCursor):
        history.list(ALICE, limit=1, cursor=cursor)
    with pytest.raises(InvalidCursor):
        history.list(ALICE, limit=1, cursor={"historyKey": 5})


def test_a_timeline_oldest_first_even_within_one_second(
    history: BidHistoryRepository,
) -> None:
    bid = a_bid()
    other = a_bid()
    written = [an_entry(bid, CREATE, at=NOW + 0.001)]
    written += [an_entry(bid, UPDATE, at=NOW + 0.002 + i / 100) for i in range(5)]
    written.append(an_entry(bid, CANCEL, at=NOW + 7))
    for entry in reversed(written):
        history.append(entry)
    history.append(an_entry(other, CREATE, at=NOW))

    timeline = history.timeline(ALICE, bid.bid_id)

    assert [e.history_id for e in timeline] == [e.history_id for e in written]
    assert history.timeline(BOB, bid.bid_id) == []
    assert history.timeline(ALICE, f"{bid.bid_id[:8]}#") == []


def test_entries_are_appended_never_overwritten(
    history: BidHistoryRepository,
) -> None:
    entry = an_entry(a_bid())
    history.append(entry)

    with pytest.raises(Exception, match="ConditionalCheckFailed"):
        history.append(entry)


def test_stored_entries_read_back_tolerantly(
    history: BidHistoryRepository, mocked_aws: MockedAws
) -> None:
    bid = a_bid()
    entry = an_entry(bid, HistoryAction.WIN, final_price=2_100)
    mocked_aws.table("BidHistoryTable").put_item(
        Item={**entry.to_item(), "futureField": {"x": 1}}
    )

    assert history.timeline(ALICE, bid.bid_id) == [entry]


def test_erase_removes_the_users_entries_only(
    history: BidHistoryRepository, entries: list[HistoryEntry], mocked_aws: MockedAws
) -> None:
    assert history.erase(ALICE) == 30

    owners = {item["userId"] for item in mocked_aws.all_items("BidHistoryTable")}
    assert owners == {BOB}
