"""Bid History through real API Gateway events, against moto's tables and secret."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from sniper import composition_bids
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.repositories.bid_history import BidHistoryRepository, HistoryEntry
from sniper.repositories.bids import BidRepository, StoredBid
from tests.conftest import MockedAws
from tests.support.bids import NOW, a_bid, an_entry, cursor_secret
from tests.support.handlers import ALICE, BOB, Invoker, as_user, body_of, sample_event

# What a request that fails validation answers (code VALIDATION_ERROR): the one
# place to change should the API's validation status change again (it was 422).
VALIDATION_STATUS = 400
ITEM_A, ITEM_B = "110000000001", "110000000002"


@pytest.fixture
def invoke(mocked_aws: MockedAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[Invoker]:
    cursor_secret(monkeypatch)
    composition_bids.reset()
    yield Invoker("bid_history")
    composition_bids.reset()


@pytest.fixture
def history(mocked_aws: MockedAws) -> BidHistoryRepository:
    return BidHistoryRepository(mocked_aws.tables["BidHistoryTable"])


@pytest.fixture
def seeded(history: BidHistoryRepository) -> list[HistoryEntry]:
    """Alice: 25 entries over 25 minutes on two items; Bob: 5 on one of them."""
    alice = [a_bid(ebay_item_id=ITEM_A), a_bid(ebay_item_id=ITEM_B)]
    actions = (HistoryAction.CREATE, HistoryAction.UPDATE, HistoryAction.CANCEL)
    written = []
    for minute in range(25):
        entry = an_entry(alice[minute % 2], actions[minute % 3], at=NOW + 60 * minute)
        history.append(entry)
        written.append(entry)
    bob = a_bid(BOB, ebay_item_id=ITEM_A)
    for minute in range(5):
        history.append(an_entry(bob, HistoryAction.CREATE, at=NOW + 60 * minute + 1))
    return written


def history_event(user: str = ALICE, **query: Any) -> dict[str, Any]:
    event = as_user(sample_event("bid_history/history_get.json"), user)
    params = {name: str(value) for name, value in query.items()}
    event["queryStringParameters"] = params or None
    event["multiValueQueryStringParameters"] = {
        name: [value] for name, value in params.items()
    } or None
    return event


def timeline_event(bid_id: str, user: str = ALICE) -> dict[str, Any]:
    event = as_user(sample_event("bid_history/timeline_get.json"), user)
    event["path"] = f"/bid-history/{bid_id}"
    event["pathParameters"] = {"bidId": bid_id}
    return event


def ids(response: dict[str, Any]) -> list[str]:
    assert response["statusCode"] == 200, response["body"]
    return [item["historyId"] for item in body_of(response)["items"]]


def newest_first(entries: list[HistoryEntry]) -> list[str]:
    ordered = sorted(entries, key=lambda e: e.history_key, reverse=True)
    return [e.history_id for e in ordered]


def test_the_sample_event_answers(invoke: Invoker, seeded: list[HistoryEntry]) -> None:
    response = invoke(as_user(sample_event("bid_history/history_get.json"), ALICE))

    assert response["statusCode"] == 200, response["body"]
    assert {item["action"] for item in body_of(response)["items"]} == {"CREATE"}


def test_newest_first_in_the_api_shape(
    invoke: Invoker, seeded: list[HistoryEntry]
) -> None:
    response = invoke(history_event(limit=100))

    assert ids(response) == newest_first(seeded)
    body = body_of(response)
    assert body["pagination"] == {"limit": 100, "nextCursor": None}
    newest = body["items"][0]
    entry = seeded[-1]
    assert newest == {
        "historyId": entry.history_id,
        "originalBidId": entry.bid_id,
        "action": entry.action.value,
        "timestamp": entry.timestamp,
        "details": entry.details,
        "ebayItemId": entry.ebay_item_id,
        "bidAmount": entry.bid_amount,
        "finalPrice": None,
    }


def test_the_default_page_is_twenty(
    invoke: Invoker, seeded: list[HistoryEntry]
) -> None:
    body = body_of(invoke(history_event()))

    assert len(body["items"]) == 20
    assert body["pagination"]["limit"] == 20
    assert body["pagination"]["nextCursor"]


@pytest.mark.parametrize(
    ("query", "keep"),
    [
        ({"action": "UPDATE"}, lambda e: e.action == HistoryAction.UPDATE),
        ({"ebayItemId": ITEM_B}, lambda e: e.ebay_item_id == ITEM_B),
        (
            {"from": NOW + 300, "to": NOW + 600},
            lambda e: NOW + 300 <= e.timestamp <= NOW + 600,
        ),
        ({"from": NOW + 1200}, lambda e: e.timestamp >= NOW + 1200),
        ({"to": NOW}, lambda e: e.timestamp <= NOW),
        (
            {"action": "CANCEL", "ebayItemId": ITEM_A},
            lambda e: e.action == HistoryAction.CANCEL and e.ebay_item_id == ITEM_A,
        ),
    ],
)
def test_each_filter(
    invoke: Invoker, seeded: list[HistoryEntry], query: Any, keep: Any
) -> None:
    expected = newest_first([e for e in seeded if keep(e)])

    assert ids(invoke(history_event(limit=100, **query))) == expected
    assert expected


def test_pages_cover_every_entry_exactly_once(
    invoke: Invoker, seeded: list[HistoryEntry]
) -> None:
    pages: list[list[str]] = []
    cursor = None
    while True:
        query: dict[str, Any] = {"limit": 7}
        if cursor:
            query["cursor"] = cursor
        body = body_of(invoke(history_event(**query)))
        pages.append([item["historyId"] for item in body["items"]])
        cursor = body["pagination"]["nextCursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [7, 7, 7, 4]
    assert [entry for page in pages for entry in page] == newest_first(seeded)


def test_filtered_pages_stay_full(invoke: Invoker, seeded: list[HistoryEntry]) -> None:
    first = body_of(invoke(history_event(limit=3, action="CREATE")))
    second = body_of(
        invoke(
            history_event(
                limit=3, action="CREATE", cursor=first["pagination"]["nextCursor"]
            )
        )
    )

    creates = newest_first([e for e in seeded if e.action == HistoryAction.CREATE])
    assert [i["historyId"] for i in first["items"] + second["items"]] == creates[:6]


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": "many"},
        {"action": "BID"},
        {"ebayItemId": "v1|110000000001|0"},
        {"from": -1},
        {"to": "yesterday"},
        {"cursor": "x" * 2049},
    ],
)
def test_invalid_parameters_are_refused(invoke: Invoker, query: Any) -> None:
    response = invoke(history_event(**query))

    assert response["statusCode"] == VALIDATION_STATUS, response["body"]
    assert body_of(response)["code"] == "VALIDATION_ERROR"


def test_limit_bounds_are_accepted(invoke: Invoker, seeded: list[HistoryEntry]) -> None:
    assert len(ids(invoke(history_event(limit=1)))) == 1
    assert len(ids(invoke(history_event(limit=100)))) == 25


def test_from_after_to_is_400(invoke: Invoker) -> None:
    response = invoke(history_event(**{"from": NOW + 10, "to": NOW}))

    assert response["statusCode"] == 400
    assert "'from'" in body_of(response)["message"]


def next_cursor(invoke: Invoker, user: str = ALICE, **query: Any) -> str:
    cursor = body_of(invoke(history_event(user, limit=2, **query)))["pagination"][
        "nextCursor"
    ]
    assert isinstance(cursor, str)
    return cursor


def tampered(cursor: str) -> str:
    payload, signature = cursor.split(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    document["k"]["historyKey"] = "999999999999#z"
    forged = base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=")
    return f"{forged.decode()}.{signature}"


@pytest.mark.parametrize(
    "spoil",
    [
        tampered,
        lambda cursor: cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB"),
        lambda cursor: cursor.split(".")[0],
        lambda cursor: "not-a-cursor",
        lambda cursor: "%%%.%%%",
    ],
    ids=["payload", "signature", "unsigned", "garbage", "not-base64"],
)
def test_a_tampered_cursor_is_400(
    invoke: Invoker, seeded: list[HistoryEntry], spoil: Any
) -> None:
    response = invoke(history_event(limit=2, cursor=spoil(next_cursor(invoke))))

    assert response["statusCode"] == 400, response["body"]
    assert body_of(response)["code"] == "BAD_REQUEST"
    assert "cursor" in body_of(response)["message"]


def test_another_users_cursor_is_400(
    invoke: Invoker, seeded: list[HistoryEntry]
) -> None:
    bobs = next_cursor(invoke, BOB)

    response = invoke(history_event(ALICE, limit=2, cursor=bobs))

    assert response["statusCode"] == 400
    assert "another user" in body_of(response)["message"]


def test_a_cursor_of_other_filters_is_400(
    invoke: Invoker, seeded: list[HistoryEntry]
) -> None:
    cursor = next_cursor(invoke, action="UPDATE")

    response = invoke(history_event(limit=2, action="CREATE", cursor=cursor))

    assert response["statusCode"] == 400
    assert "other filters" in body_of(response)["message"]


def test_no_entry_of_another_user_ever_shows(
    invoke: Invoker, seeded: list[HistoryEntry]
) -> None:
    bobs = ids(invoke(history_event(BOB, limit=100, ebayItemId=ITEM_A)))
    alices = ids(invoke(history_event(ALICE, limit=100)))

    assert len(bobs) == 5
    assert not set(bobs) & set(alices)
    assert set(alices) == {e.history_id for e in seeded}


# ------------------------------------------------------------------ a timeline
@pytest.fixture
def bids(mocked_aws: MockedAws, history: BidHistoryRepository) -> BidRepository:
    return BidRepository(mocked_aws.tables["BidsTable"], history)


@pytest.fixture
def lived(bids: BidRepository) -> StoredBid:
    """A bid created, edited twice and cancelled, beside another bid."""
    bid = a_bid()
    bids.create(bid, an_entry(bid, at=NOW))
    for step, amount in enumerate((3_000, 3_500), start=1):
        entry = an_entry(bid, HistoryAction.UPDATE, at=NOW + step, bid_amount=amount)
        bids.update_fields(ALICE, bid.bid_id, {"max_bid_amount": amount}, entry)
    bids.transition(
        ALICE,
        bid.bid_id,
        {BidStatus.PENDING},
        BidStatus.CANCELLED,
        history_entry=an_entry(bid, HistoryAction.CANCEL, at=NOW + 9),
    )
    other = a_bid()
    bids.create(other, an_entry(other, at=NOW + 5))
    return bid


def test_a_bids_timeline_oldest_first(invoke: Invoker, lived: StoredBid) -> None:
    response = invoke(timeline_event(lived.bid_id))

    assert response["statusCode"] == 200, response["body"]
    body = body_of(response)
    assert [item["action"] for item in body["items"]] == [
        "CREATE",
        "UPDATE",
        "UPDATE",
        "CANCEL",
    ]
    assert [item["bidAmount"] for item in body["items"]][:3] == [2_500, 3_000, 3_500]
    assert {item["originalBidId"] for item in body["items"]} == {lived.bid_id}
    assert body["pagination"] == {"limit": None, "nextCursor": None}


def test_an_unknown_bid_is_404(invoke: Invoker) -> None:
    response = invoke(timeline_event("3f2b8c1e-5d4a-4b6c-9e7f-0a1b2c3d4e5f"))

    assert response["statusCode"] == 404
    assert body_of(response)["message"] == "No such bid."


def test_another_users_bid_is_404_never_403(invoke: Invoker, lived: StoredBid) -> None:
    response = invoke(timeline_event(lived.bid_id, BOB))

    assert response["statusCode"] == 404
    assert body_of(response)["message"] == "No such bid."


@pytest.mark.parametrize("bid_id", ["x" * 65, "a.b", "a:b"])
def test_a_malformed_bid_id_is_refused(invoke: Invoker, bid_id: str) -> None:
    response = invoke(timeline_event(bid_id))

    assert response["statusCode"] == VALIDATION_STATUS, response["body"]


def test_the_timeline_sample_event_answers_404_for_its_unknown_bid(
    invoke: Invoker,
) -> None:
    response = invoke(as_user(sample_event("bid_history/timeline_get.json"), ALICE))

    assert response["statusCode"] == 404
