"""The Bids table: one active bid per item, conditional transitions, listings."""

from __future__ import annotations

import threading
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from sniper.models.statuses import BidStatus, HistoryAction
from sniper.pagination import InvalidCursor
from sniper.repositories.bid_history import BidHistoryRepository, HistoryEntry
from sniper.repositories.bids import (
    BidAlreadyExists,
    BidNotFound,
    BidRepository,
    BidStateConflict,
    DuplicateBid,
    StoredBid,
    bid_key,
    item_guard_key,
)
from tests.conftest import MockedAws
from tests.support.bids import NOW, a_bid, an_entry
from tests.support.handlers import ALICE, BOB

PENDING, EXECUTING, PLACED = BidStatus.PENDING, BidStatus.EXECUTING, BidStatus.PLACED
WON, LOST, CANCELLED = BidStatus.WON, BidStatus.LOST, BidStatus.CANCELLED


def stored(bids: BidRepository, bid: StoredBid) -> StoredBid:
    return bids.create(bid, an_entry(bid))


def actions(history: BidHistoryRepository, bid: StoredBid) -> list[str]:
    return [entry.action.value for entry in history.timeline(bid.user_id, bid.bid_id)]


def cancel(bids: BidRepository, bid: StoredBid, **kwargs: Any) -> StoredBid:
    return bids.transition(
        bid.user_id,
        bid.bid_id,
        {PENDING},
        CANCELLED,
        history_entry=an_entry(bid, HistoryAction.CANCEL, at=NOW + 1),
        **kwargs,
    )


def every_page(list_page: Any, limit: int) -> list[list[StoredBid]]:
    pages, cursor = [], None
    while True:
        page = list_page(limit=limit, cursor=cursor)
        pages.append(page.items)
        if page.cursor is None:
            return pages
        cursor = page.cursor


# ------------------------------------------------------------------ create
def test_a_new_bid_its_guard_and_its_entry_are_written_together(
    bids: BidRepository, history: BidHistoryRepository, mocked_aws: MockedAws
) -> None:
    bid = a_bid()

    created = bids.create(bid, an_entry(bid))

    assert created == replace(bid, version=1)
    assert bids.get(ALICE, bid.bid_id) == created
    assert bids.holder_of(ALICE, bid.ebay_item_id) == bid.bid_id
    assert actions(history, bid) == ["CREATE"]
    item = mocked_aws.table("BidsTable").get_item(Key=bid_key(ALICE, bid.bid_id))
    assert item["Item"]["sk"] == f"BID#{bid.bid_id}"
    assert item["Item"]["statusBucket"] == "PENDING"
    assert item["Item"]["activeEndKey"] == f"{bid.auction_end_time:012d}#{bid.bid_id}"


def test_a_second_active_bid_on_the_same_item_is_a_duplicate(
    bids: BidRepository, history: BidHistoryRepository
) -> None:
    first = stored(bids, a_bid(ebay_item_id="110000000001"))
    second = a_bid(ebay_item_id="110000000001")

    with pytest.raises(DuplicateBid) as raised:
        bids.create(second, an_entry(second))

    assert raised.value.existing_bid_id == first.bid_id
    assert bids.get(ALICE, second.bid_id) is None
    assert actions(history, second) == []


def test_another_user_may_bid_on_the_same_item(bids: BidRepository) -> None:
    stored(bids, a_bid(ALICE, ebay_item_id="110000000001"))

    bob = stored(bids, a_bid(BOB, ebay_item_id="110000000001"))

    assert bids.holder_of(BOB, "110000000001") == bob.bid_id


def test_an_item_is_free_again_once_its_bid_is_final(bids: BidRepository) -> None:
    first = stored(bids, a_bid(ebay_item_id="110000000001"))
    cancel(bids, first)

    second = stored(bids, a_bid(ebay_item_id="110000000001"))

    assert bids.holder_of(ALICE, "110000000001") == second.bid_id


@pytest.mark.parametrize("stale", ["missing", "cancelled"])
def test_a_guard_whose_bid_is_not_active_is_taken_over(
    bids: BidRepository, mocked_aws: MockedAws, stale: str
) -> None:
    table = mocked_aws.table("BidsTable")
    old = a_bid(ebay_item_id="110000000001", status=CANCELLED)
    if stale == "cancelled":
        table.put_item(Item=old.to_item())
    table.put_item(
        Item={**item_guard_key(ALICE, "110000000001"), "ownerId": old.bid_id}
    )

    new = stored(bids, a_bid(ebay_item_id="110000000001"))

    assert bids.holder_of(ALICE, "110000000001") == new.bid_id


def test_creating_the_same_bid_twice_is_refused(bids: BidRepository) -> None:
    bid = a_bid()
    bids.create(bid, an_entry(bid))
    bids.transition(ALICE, bid.bid_id, {PENDING}, CANCELLED)

    with pytest.raises(BidAlreadyExists):
        bids.create(bid, an_entry(bid, at=NOW + 5))


def test_only_active_bids_are_created(bids: BidRepository) -> None:
    with pytest.raises(ValueError, match="active"):
        bids.create(a_bid(status=WON), None)


# ------------------------------------------------------------------ transitions
def test_a_final_transition_releases_the_guard_and_leaves_the_active_indexes(
    bids: BidRepository, history: BidHistoryRepository, mocked_aws: MockedAws
) -> None:
    bid = stored(bids, a_bid())

    cancelled = cancel(bids, bid, changes={"reason": "changed my mind"})

    assert cancelled.status is CANCELLED
    assert cancelled.version == 2
    assert cancelled.updated_at == NOW + 1
    assert bids.get(ALICE, bid.bid_id) == cancelled
    assert bids.holder_of(ALICE, bid.ebay_item_id) is None
    assert actions(history, bid) == ["CREATE", "CANCEL"]
    item = mocked_aws.table("BidsTable").get_item(Key=bid_key(ALICE, bid.bid_id))
    assert "activeEndKey" not in item["Item"]
    assert "statusBucket" not in item["Item"]
    assert item["Item"]["statusEndKey"].startswith("CANCELLED#")


def test_an_active_transition_keeps_the_guard(bids: BidRepository) -> None:
    bid = stored(bids, a_bid())

    claimed = bids.transition(ALICE, bid.bid_id, {PENDING}, EXECUTING)

    assert claimed.status is EXECUTING
    assert bids.holder_of(ALICE, bid.ebay_item_id) == bid.bid_id
    assert [b.bid_id for b in bids.list_active(ALICE).items] == [bid.bid_id]


def test_a_transition_from_an_unexpected_status_is_a_conflict(
    bids: BidRepository, history: BidHistoryRepository
) -> None:
    bid = stored(bids, a_bid())
    cancel(bids, bid)

    with pytest.raises(BidStateConflict) as raised:
        bids.transition(
            ALICE,
            bid.bid_id,
            {PENDING},
            EXECUTING,
            history_entry=an_entry(bid, HistoryAction.PLACE, at=NOW + 2),
        )

    assert raised.value.current.status is CANCELLED
    assert actions(history, bid) == ["CREATE", "CANCEL"]


def test_a_stale_version_is_a_conflict(bids: BidRepository) -> None:
    bid = stored(bids, a_bid())
    bids.update_fields(ALICE, bid.bid_id, {"max_bid_amount": 3_000}, None)

    with pytest.raises(BidStateConflict) as raised:
        bids.transition(ALICE, bid.bid_id, {PENDING}, EXECUTING, expected_version=1)

    assert raised.value.current.version == 2
    assert raised.value.current.max_bid_amount == 3_000
    claimed = bids.transition(
        ALICE, bid.bid_id, {PENDING}, EXECUTING, expected_version=2
    )
    assert claimed.version == 3


def test_transitions_of_an_unknown_bid(bids: BidRepository) -> None:
    with pytest.raises(BidNotFound):
        bids.transition(ALICE, "no-such-bid", {PENDING}, CANCELLED)
    bob = stored(bids, a_bid(BOB))
    with pytest.raises(BidNotFound):
        bids.transition(ALICE, bob.bid_id, {PENDING}, CANCELLED)


def test_a_final_bid_never_becomes_active_again(bids: BidRepository) -> None:
    with pytest.raises(ValueError, match="never becomes active"):
        bids.transition(ALICE, "any", {LOST}, PLACED)


def test_the_executors_record_and_its_removal(bids: BidRepository) -> None:
    bid = stored(bids, a_bid())
    bids.transition(ALICE, bid.bid_id, {PENDING}, EXECUTING)

    placed = bids.transition(
        ALICE,
        bid.bid_id,
        {EXECUTING},
        PLACED,
        {"sent_at": NOW + 3_595, "ebay_answered_at": NOW + 3_595, "lateness_ms": 42},
    )
    won = bids.transition(
        ALICE,
        bid.bid_id,
        {PLACED},
        WON,
        {"final_price": 2_100, "lateness_ms": None},
    )

    assert placed.lateness_ms == 42
    assert bids.get(ALICE, bid.bid_id) == won
    assert won.final_price == 2_100
    assert won.lateness_ms is None
    assert won.sent_at == NOW + 3_595
    assert won.version == 4


def test_unknown_fields_cannot_be_changed(bids: BidRepository) -> None:
    bid = stored(bids, a_bid())
    for field in ("status", "version", "ebay_item_id", "colour"):
        with pytest.raises(ValueError, match="cannot change"):
            bids.update_fields(ALICE, bid.bid_id, {field: "x"}, None)


def test_edits_only_while_pending(
    bids: BidRepository, history: BidHistoryRepository
) -> None:
    bid = stored(bids, a_bid())
    edited = bids.update_fields(
        ALICE,
        bid.bid_id,
        {"max_bid_amount": 4_000, "snipe_lead_seconds": 8},
        an_entry(bid, HistoryAction.UPDATE, at=NOW + 1),
    )
    bids.transition(ALICE, bid.bid_id, {PENDING}, EXECUTING)

    with pytest.raises(BidStateConflict):
        bids.update_fields(ALICE, bid.bid_id, {"max_bid_amount": 5_000}, None)

    assert edited.max_bid_amount == 4_000
    assert edited.target_time == bid.auction_end_time - 8
    assert bids.get(ALICE, bid.bid_id).max_bid_amount == 4_000  # type: ignore[union-attr]
    assert actions(history, bid) == ["CREATE", "UPDATE"]


def test_attributes_written_by_newer_code_survive_reads_and_writes(
    bids: BidRepository, mocked_aws: MockedAws
) -> None:
    bid = stored(bids, a_bid())
    table = mocked_aws.table("BidsTable")
    table.update_item(
        Key=bid_key(ALICE, bid.bid_id),
        UpdateExpression="SET futureField = :f",
        ExpressionAttributeValues={":f": "kept"},
    )

    assert bids.get(ALICE, bid.bid_id) == replace(bid, version=1)
    cancel(bids, bid)

    item = table.get_item(Key=bid_key(ALICE, bid.bid_id))["Item"]
    assert item["futureField"] == "kept"


def test_a_fractional_amount_in_storage_is_refused_not_rounded(
    bids: BidRepository, mocked_aws: MockedAws
) -> None:
    bid = stored(bids, a_bid())
    mocked_aws.table("BidsTable").update_item(
        Key=bid_key(ALICE, bid.bid_id),
        UpdateExpression="SET maxBidAmount = :m",
        ExpressionAttributeValues={":m": Decimal("25.5")},
    )

    with pytest.raises(ValueError, match="whole"):
        bids.get(ALICE, bid.bid_id)


# ------------------------------------------------------------------ heartbeat
def test_a_heartbeat_answers_the_bid_and_moves_neither_version_nor_updated_at(
    bids: BidRepository, mocked_aws: MockedAws
) -> None:
    bid = stored(bids, a_bid())
    bids.transition(ALICE, bid.bid_id, {PENDING}, EXECUTING)
    # Edited after the claim (an EXECUTING bid may be, until the commit).
    edited = bids.update_fields(
        ALICE,
        bid.bid_id,
        {"max_bid_amount": 4_000},
        None,
        expected_statuses=(EXECUTING,),
    )
    assert bids.get(ALICE, bid.bid_id) == edited  # no heartbeatAt: None

    beaten = bids.heartbeat(ALICE, bid.bid_id, NOW + 3_500)

    assert beaten is not None
    assert beaten == replace(edited, heartbeat_at=NOW + 3_500)
    assert (beaten.version, beaten.updated_at) == (edited.version, edited.updated_at)
    assert bids.get(ALICE, bid.bid_id) == beaten
    item = mocked_aws.table("BidsTable").get_item(Key=bid_key(ALICE, bid.bid_id))
    assert item["Item"]["heartbeatAt"] == NOW + 3_500
    again = bids.heartbeat(ALICE, bid.bid_id, NOW + 3_510)
    assert again == replace(beaten, heartbeat_at=NOW + 3_510)


def test_an_edit_or_cancel_at_the_version_read_before_a_heartbeat_still_wins(
    bids: BidRepository,
) -> None:
    bid = stored(bids, a_bid())
    read = bids.transition(ALICE, bid.bid_id, {PENDING}, EXECUTING)
    bids.heartbeat(ALICE, bid.bid_id, NOW + 3_500)

    edited = bids.update_fields(
        ALICE,
        bid.bid_id,
        {"max_bid_amount": 4_000},
        None,
        expected_statuses=(EXECUTING,),
        expected_version=read.version,
    )
    # The edit's diff-based write leaves the heartbeat as it found it.
    assert (edited.max_bid_amount, edited.heartbeat_at) == (4_000, NOW + 3_500)
    bids.heartbeat(ALICE, bid.bid_id, NOW + 3_510)

    cancelled = bids.transition(
        ALICE,
        bid.bid_id,
        {EXECUTING},
        CANCELLED,
        {"reason": "Cancelled by you."},
        expected_version=edited.version,
    )

    assert cancelled.version == read.version + 2
    assert bids.get(ALICE, bid.bid_id) == cancelled
    assert cancelled.heartbeat_at == NOW + 3_510


def test_a_heartbeat_on_a_bid_not_executing_answers_it_unchanged(
    bids: BidRepository,
) -> None:
    pending = stored(bids, a_bid())
    cancelled = cancel(bids, stored(bids, a_bid()))

    assert bids.heartbeat(ALICE, pending.bid_id, NOW + 3_500) == pending
    assert bids.heartbeat(ALICE, cancelled.bid_id, NOW + 3_500) == cancelled
    assert bids.get(ALICE, pending.bid_id) == pending
    assert bids.get(ALICE, cancelled.bid_id) == cancelled


def test_a_heartbeat_on_a_missing_bid_is_none_and_writes_nothing(
    bids: BidRepository, mocked_aws: MockedAws
) -> None:
    assert bids.heartbeat(ALICE, "no-such-bid", NOW) is None
    assert bids.get(ALICE, "no-such-bid") is None
    item = mocked_aws.table("BidsTable").get_item(Key=bid_key(ALICE, "no-such-bid"))
    assert "Item" not in item


def test_the_heartbeat_is_not_a_field_edits_may_set(bids: BidRepository) -> None:
    bid = stored(bids, a_bid())

    with pytest.raises(ValueError, match="cannot change"):
        bids.update_fields(ALICE, bid.bid_id, {"heartbeat_at": NOW}, None)


# ------------------------------------------------------------------ the race
def race(bids: BidRepository, bid: StoredBid) -> tuple[list[str], dict[str, Any]]:
    """A cancel and the executor's claim of one PENDING bid, released at once;
    returns who won and, for the loser, the status its conflict reported."""
    barrier = threading.Barrier(2)
    won: list[str] = []
    lost: dict[str, BidStatus] = {}

    def attempt(name: str, target: BidStatus, entry: HistoryEntry | None) -> None:
        barrier.wait()
        try:
            bids.transition(ALICE, bid.bid_id, {PENDING}, target, history_entry=entry)
            won.append(name)
        except BidStateConflict as conflict:
            lost[name] = conflict.current.status

    cancel_entry = an_entry(bid, HistoryAction.CANCEL, at=NOW + 1)
    threads = [
        threading.Thread(target=attempt, args=("cancel", CANCELLED, cancel_entry)),
        threading.Thread(target=attempt, args=("claim", EXECUTING, None)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return won, lost


def test_a_cancel_racing_the_executors_claim_has_exactly_one_winner(
    bids: BidRepository, history: BidHistoryRepository
) -> None:
    """Both read PENDING; only one conditional write lands, with its entry only.
    (In-process moto is not atomic on its own: `mocked_aws` serializes requests.)"""
    for round_ in range(50):
        bid = stored(bids, a_bid())

        won, lost = race(bids, bid)

        assert len(won) == 1, f"round {round_}: {won}"
        final = bids.get(ALICE, bid.bid_id)
        assert final is not None
        assert final.version == 2
        loser = "claim" if won == ["cancel"] else "cancel"
        assert lost == {loser: final.status}
        if won == ["cancel"]:
            assert final.status is CANCELLED
            assert actions(history, bid) == ["CREATE", "CANCEL"]
            assert bids.holder_of(ALICE, bid.ebay_item_id) is None
        else:
            assert final.status is EXECUTING
            assert actions(history, bid) == ["CREATE"]
            assert bids.holder_of(ALICE, bid.ebay_item_id) == bid.bid_id


# ------------------------------------------------------------------ listings
def test_active_bids_soonest_ending_first_without_final_bids_or_guards(
    bids: BidRepository,
) -> None:
    later = stored(bids, a_bid(ends_at=NOW + 9_000))
    sooner = stored(bids, a_bid(ends_at=NOW + 1_000))
    middle = stored(bids, a_bid(ends_at=NOW + 5_000))
    gone = stored(bids, a_bid(ends_at=NOW + 2_000))
    cancel(bids, gone)
    stored(bids, a_bid(BOB, ends_at=NOW + 10))

    page = bids.list_active(ALICE)

    assert [b.bid_id for b in page.items] == [
        sooner.bid_id,
        middle.bid_id,
        later.bid_id,
    ]
    assert page.cursor is None


def test_active_bids_page_by_page_each_exactly_once(bids: BidRepository) -> None:
    created = [stored(bids, a_bid(ends_at=NOW + 100 * (i % 7) + i)) for i in range(23)]
    expected = [b.bid_id for b in sorted(created, key=lambda b: b.auction_end_time)]

    pages = every_page(lambda **kw: bids.list_active(ALICE, **kw), limit=5)

    assert [len(page) for page in pages] == [5, 5, 5, 5, 3]
    assert [b.bid_id for page in pages for b in page] == expected


def test_a_page_that_ends_the_listing_has_no_cursor(bids: BidRepository) -> None:
    for i in range(4):
        stored(bids, a_bid(ends_at=NOW + i))

    assert bids.list_active(ALICE, limit=4).cursor is None
    assert bids.list_active(ALICE, limit=3).cursor is not None


def finish(bids: BidRepository, bid: StoredBid, status: BidStatus) -> StoredBid:
    bids.transition(ALICE, bid.bid_id, {PENDING}, EXECUTING)
    bids.transition(ALICE, bid.bid_id, {EXECUTING}, PLACED)
    return bids.transition(ALICE, bid.bid_id, {PLACED}, status, {"final_price": 1})


def test_bids_of_several_statuses_merged_by_end_time(bids: BidRepository) -> None:
    outcomes = [WON, LOST, LOST, WON, LOST, WON, WON, LOST, LOST, LOST, WON]
    finished = [
        finish(bids, stored(bids, a_bid(ends_at=NOW + 37 * i % 11)), status)
        for i, status in enumerate(outcomes)
    ]
    stored(bids, a_bid())  # pending: not asked for
    by_end = sorted(finished, key=lambda b: (b.auction_end_time, b.bid_id))

    pages = every_page(
        lambda **kw: bids.list_by_status(ALICE, [WON, LOST], **kw), limit=3
    )
    latest = every_page(
        lambda **kw: bids.list_by_status(ALICE, {LOST, WON}, latest_first=True, **kw),
        limit=4,
    )

    assert [len(page) for page in pages] == [3, 3, 3, 2]
    assert [b.bid_id for page in pages for b in page] == [b.bid_id for b in by_end]
    assert [b.bid_id for page in latest for b in page] == [
        b.bid_id for b in reversed(by_end)
    ]
    only_won = bids.list_by_status(ALICE, [WON], limit=20).items
    assert {b.status for b in only_won} == {WON}
    assert len(only_won) == outcomes.count(WON)


def test_a_status_cursor_for_other_statuses_is_refused(bids: BidRepository) -> None:
    for _ in range(3):
        finish(bids, stored(bids, a_bid()), LOST)
    cursor = bids.list_by_status(ALICE, [LOST], limit=1).cursor

    with pytest.raises(InvalidCursor):
        bids.list_by_status(ALICE, [WON], limit=1, cursor=cursor)
    with pytest.raises(InvalidCursor):
        bids.list_active(ALICE, cursor=cursor)


def test_sweeps_find_bids_in_flight_by_status_and_end(bids: BidRepository) -> None:
    overdue = stored(bids, a_bid(ends_at=NOW - 60))
    stored(bids, a_bid(ends_at=NOW + 600))  # not yet due
    executing = stored(bids, a_bid(BOB, ends_at=NOW - 30))
    bids.transition(BOB, executing.bid_id, {PENDING}, EXECUTING)
    done = stored(bids, a_bid(ends_at=NOW - 90))
    cancel(bids, done)

    pending = list(bids.in_flight(PENDING, NOW))
    stuck = list(bids.in_flight(EXECUTING, NOW))

    assert [(b.user_id, b.bid_id) for b in pending] == [(ALICE, overdue.bid_id)]
    assert pending[0].auction_end_time == NOW - 60
    assert pending[0].ebay_item_id == overdue.ebay_item_id
    assert [(b.user_id, b.bid_id, b.status) for b in stuck] == [
        (BOB, executing.bid_id, EXECUTING)
    ]
    with pytest.raises(ValueError):
        list(bids.in_flight(WON, NOW))


def test_erase_removes_every_bid_and_guard_of_the_user_only(
    bids: BidRepository, mocked_aws: MockedAws
) -> None:
    for _ in range(3):
        stored(bids, a_bid(ALICE))
    stored(bids, a_bid(BOB))

    assert bids.erase(ALICE) == 6

    owners = {item["userId"] for item in mocked_aws.all_items("BidsTable")}
    assert owners == {BOB}
