"""Bid Management through real API Gateway events: moto's tables and Scheduler,
the emulator playing eBay."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from sniper.models.statuses import BidStatus
from sniper.repositories.bid_history import BidHistoryRepository
from sniper.repositories.bids import BidRepository, BidStateConflict
from tests.conftest import MockedAws
from tests.support.bids import cursor_secret
from tests.support.ebay_world import EbayWorld
from tests.support.handlers import (
    ALICE,
    BOB,
    Invoker,
    as_user,
    body_of,
    sample_event,
    with_body,
)
from tests.support.snipes import MARGIN_SECONDS, SnipeWorld, link_ebay, scheduling

VALIDATION_STATUS = 400


@pytest.fixture
def snipes(ebay: EbayWorld, monkeypatch: pytest.MonkeyPatch) -> SnipeWorld:
    cursor_secret(monkeypatch)
    return scheduling(monkeypatch)


@pytest.fixture
def invoke(snipes: SnipeWorld) -> Iterator[Invoker]:
    yield Invoker("bid_management")


@pytest.fixture
def alice(ebay: EbayWorld, snipes: SnipeWorld) -> str:
    link_ebay(ebay, "ebay-alice", ALICE)
    return ALICE


@pytest.fixture
def repository(mocked_aws: MockedAws) -> BidRepository:
    history = BidHistoryRepository(mocked_aws.tables["BidHistoryTable"])
    return BidRepository(mocked_aws.tables["BidsTable"], history)


def create(
    invoke: Invoker, item_id: str, amount: int = 2_500, user: str = ALICE, **extra: Any
) -> dict[str, Any]:
    event = as_user(sample_event("bid_management/create_post.json"), user)
    return invoke(
        with_body(event, {"ebayItemId": item_id, "maxBidAmount": amount, **extra})
    )


def on_bid(name: str, bid_id: str, user: str = ALICE, body: Any = None) -> Any:
    event = as_user(sample_event(f"bid_management/{name}.json"), user)
    event["path"] = f"/bids/{bid_id}"
    event["pathParameters"] = {"bidId": bid_id}
    return with_body(event, body) if body is not None else event


def listing(invoke_ebay: EbayWorld, **spec: Any) -> dict[str, Any]:
    spec.setdefault("startPrice", "10.00")
    spec.setdefault("endsInSeconds", 3_600)
    return invoke_ebay.listing(**spec)


def list_event(user: str = ALICE, **query: Any) -> dict[str, Any]:
    event = as_user(sample_event("bid_management/list_get.json"), user)
    multi = {k: v if isinstance(v, list) else [str(v)] for k, v in query.items()}
    event["queryStringParameters"] = {k: v[-1] for k, v in multi.items()} or None
    event["multiValueQueryStringParameters"] = multi or None
    return event


def history_actions(mocked_aws: MockedAws, bid_id: str) -> list[str]:
    entries = [
        item
        for item in mocked_aws.all_items("BidHistoryTable")
        if item["bidId"] == bid_id
    ]
    return [e["action"] for e in sorted(entries, key=lambda e: e["historyKey"])]


# ---------------------------------------------------------------- create
def test_a_bid_is_stored_with_what_the_snipe_needs_and_owns_one_schedule(
    invoke: Invoker,
    ebay: EbayWorld,
    alice: str,
    snipes: SnipeWorld,
    mocked_aws: MockedAws,
) -> None:
    item = listing(ebay, title="Leica M6", startPrice="120.50")

    response = create(invoke, item["itemId"], 15_000, snipeLeadSeconds=7)

    assert response["statusCode"] == 201, response["body"]
    bid = body_of(response)
    assert response["multiValueHeaders"]["Location"] == [f"/bids/{bid['bidId']}"]
    assert bid["status"] == "PENDING"
    assert bid["restItemId"] == f"v1|{item['itemId']}|0"
    assert (bid["marketplaceId"], bid["currency"]) == ("EBAY_US", "USD")
    assert bid["itemTitle"] == "Leica M6"
    assert bid["currentPrice"] == 12_050
    assert bid["itemUrl"].endswith(f"itm/{item['itemId']}")
    end = bid["auctionEndTime"]
    assert abs(end - (time.time() + 3_600)) < 5
    assert bid["targetTime"] == end - 7
    assert bid["scheduledFor"] == end - 7 - MARGIN_SECONDS
    (schedule,) = snipes.schedules()
    assert schedule["Name"] == f"snipe-{bid['bidId']}"
    fire = datetime.fromtimestamp(bid["scheduledFor"], tz=UTC)
    assert schedule["ScheduleExpression"] == f"at({fire:%Y-%m-%dT%H:%M:%S})"
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["ActionAfterCompletion"] == "DELETE"
    target = schedule["Target"]
    assert target["DeadLetterConfig"] == {"Arn": snipes.dead_letter_arn}
    # Retrying a delivery is pointless once the auction ended (Scheduler's floor
    # for the event age is 60 s).
    retry = target["RetryPolicy"]
    assert retry["MaximumEventAgeInSeconds"] == max(60, 7 + MARGIN_SECONDS)
    assert snipes.input_of(schedule) == {
        "bidId": bid["bidId"],
        "userId": ALICE,
        "kind": "SNIPE",
        "attempt": 1,
        "ebayItemId": item["itemId"],
        "auctionEndTime": end,
        "maxBidAmount": 15_000,
    }
    assert history_actions(mocked_aws, bid["bidId"]) == ["CREATE"]


def test_the_lead_defaults_to_the_users_preference_else_five_seconds(
    invoke: Invoker, ebay: EbayWorld, alice: str
) -> None:
    first = body_of(create(invoke, listing(ebay)["itemId"]))
    users = Invoker("user_management")
    preferences = as_user(
        sample_event("user_management/preferences_put.json"), ALICE, "a@x.io"
    )
    assert (
        users(with_body(preferences, {"defaultSnipeLeadSeconds": 12}))["statusCode"]
        == 200
    )

    second = body_of(create(invoke, listing(ebay)["itemId"]))

    assert first["snipeLeadSeconds"] == 5
    assert second["snipeLeadSeconds"] == 12


def test_a_gbp_listing_keeps_its_currency_and_marketplace(
    invoke: Invoker, ebay: EbayWorld, alice: str
) -> None:
    item = listing(ebay, currency="GBP", startPrice="40.00")

    bid = body_of(create(invoke, item["itemId"], 5_000))

    assert (bid["currency"], bid["marketplaceId"]) == ("GBP", "EBAY_GB")


def test_a_max_below_the_minimum_next_bid_is_refused_naming_the_minimum(
    invoke: Invoker, ebay: EbayWorld, alice: str, snipes: SnipeWorld
) -> None:
    item = listing(ebay, startPrice="12.50", currency="GBP")

    response = create(invoke, item["itemId"], 1_000)

    assert response["statusCode"] == 400
    message = body_of(response)["message"]
    assert "minimum next bid of 12.50 GBP" in message
    assert snipes.schedules() == []


@pytest.mark.parametrize(
    ("spec", "status", "words"),
    [
        ({"listingType": "FIXED_PRICE"}, 400, "not an auction"),
        # eBay's Browse API serves only live listings: an ended one is not found.
        ({"endsInSeconds": 0.2}, 404, "has ended"),
        ({"endsInSeconds": MARGIN_SECONDS}, 400, "ends too soon"),
    ],
)
def test_what_cannot_be_sniped_is_a_400_saying_what_to_do(
    invoke: Invoker,
    ebay: EbayWorld,
    alice: str,
    snipes: SnipeWorld,
    mocked_aws: MockedAws,
    spec: dict[str, Any],
    status: int,
    words: str,
) -> None:
    item = listing(ebay, **spec)
    time.sleep(0.3)

    response = create(invoke, item["itemId"])

    assert response["statusCode"] == status, response["body"]
    assert words in body_of(response)["message"]
    assert snipes.schedules() == []
    assert mocked_aws.all_items("BidsTable") == []


def test_an_unlinked_caller_is_401_with_the_reason(
    invoke: Invoker, ebay: EbayWorld, snipes: SnipeWorld
) -> None:
    response = create(invoke, listing(ebay)["itemId"])

    assert response["statusCode"] == 401
    assert body_of(response)["code"] == "EBAY_NOT_LINKED"


def test_an_unknown_item_is_404(invoke: Invoker, alice: str) -> None:
    response = create(invoke, "999999999999")

    assert response["statusCode"] == 404


@pytest.mark.parametrize(
    "body",
    [
        {"ebayItemId": "v1|1|0", "maxBidAmount": 2_500},
        {"ebayItemId": "110000000001", "maxBidAmount": 99},
        {"ebayItemId": "110000000001", "maxBidAmount": 10_000_001},
        {"ebayItemId": "110000000001", "maxBidAmount": 25.5},
        {"ebayItemId": "110000000001", "maxBidAmount": 2_500, "snipeLeadSeconds": 2},
        {"ebayItemId": "110000000001", "maxBidAmount": 2_500, "colour": "red"},
    ],
)
def test_bad_bodies_are_400_naming_the_field(
    invoke: Invoker, alice: str, body: dict[str, Any]
) -> None:
    event = as_user(sample_event("bid_management/create_post.json"), ALICE)

    response = invoke(with_body(event, body))

    assert response["statusCode"] == VALIDATION_STATUS
    assert body_of(response)["code"] == "VALIDATION_ERROR"
    assert body_of(response)["errors"]


def test_a_second_bid_on_the_same_item_is_409_naming_the_first(
    invoke: Invoker, ebay: EbayWorld, alice: str, snipes: SnipeWorld
) -> None:
    item = listing(ebay)
    first = body_of(create(invoke, item["itemId"]))

    again = create(invoke, item["itemId"], 3_000)

    assert again["statusCode"] == 409
    assert first["bidId"] in body_of(again)["message"]
    assert [s["Name"] for s in snipes.schedules()] == [f"snipe-{first['bidId']}"]


def test_a_bid_whose_schedule_cannot_be_made_is_not_left_behind(
    invoke: Invoker,
    ebay: EbayWorld,
    alice: str,
    snipes: SnipeWorld,
    mocked_aws: MockedAws,
) -> None:
    boto3.client("scheduler").delete_schedule_group(Name=snipes.group)

    response = create(invoke, listing(ebay)["itemId"])

    assert response["statusCode"] >= 500
    assert body_of(response)["code"]
    assert mocked_aws.all_items("BidsTable") == []


# ---------------------------------------------------------------- reads
def test_another_users_bid_is_404_for_every_route(
    invoke: Invoker, ebay: EbayWorld, alice: str, snipes: SnipeWorld
) -> None:
    bid = body_of(create(invoke, listing(ebay)["itemId"]))
    for name, body in (
        ("bid_get", None),
        ("update_put", {"maxBidAmount": 9_000}),
        ("cancel_delete", None),
    ):
        response = invoke(on_bid(name, bid["bidId"], BOB, body))

        assert response["statusCode"] == 404, name
        assert bid["bidId"] not in response["body"]
    mine = body_of(invoke(on_bid("bid_get", bid["bidId"])))
    assert (mine["status"], mine["maxBidAmount"]) == ("PENDING", 2_500)
    assert len(snipes.schedules()) == 1


def test_active_bids_are_listed_soonest_ending_first_page_by_page(
    invoke: Invoker, ebay: EbayWorld, alice: str
) -> None:
    ends = [4_000, 2_000, 3_000, 5_000, 2_500]
    made = [
        body_of(create(invoke, listing(ebay, endsInSeconds=s)["itemId"])) for s in ends
    ]
    cancelled = made[0]["bidId"]
    assert invoke(on_bid("cancel_delete", cancelled))["statusCode"] == 204

    pages, cursor = [], None
    while True:
        query: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = body_of(invoke(list_event(**query)))
        pages.append([b["bidId"] for b in page["items"]])
        cursor = page["pagination"]["nextCursor"]
        if cursor is None:
            break

    listed = [bid for page in pages for bid in page]
    expected = [made[i]["bidId"] for i in (1, 4, 2, 3)]
    assert listed == expected
    assert all(len(page) <= 2 for page in pages)
    finished = body_of(invoke(list_event(status="CANCELLED,WON")))
    assert [b["bidId"] for b in finished["items"]] == [cancelled]
    assert body_of(invoke(list_event(user=BOB)))["items"] == []


@pytest.mark.parametrize("status", ["WINNING", "PENDING,nope"])
def test_an_unknown_status_filter_is_400(invoke: Invoker, status: str) -> None:
    response = invoke(list_event(status=status))

    assert response["statusCode"] == 400
    assert "PENDING, EXECUTING" in body_of(response)["message"]


def test_tampered_and_foreign_cursors_are_400(
    invoke: Invoker, ebay: EbayWorld, alice: str
) -> None:
    for seconds in (2_000, 3_000):
        create(invoke, listing(ebay, endsInSeconds=seconds)["itemId"])
    cursor = body_of(invoke(list_event(limit=1)))["pagination"]["nextCursor"]
    tampered = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")

    assert invoke(list_event(limit=1, cursor=tampered))["statusCode"] == 400
    assert invoke(list_event(BOB, limit=1, cursor=cursor))["statusCode"] == 400
    other_filter = list_event(limit=1, cursor=cursor, status="WON")
    assert invoke(other_filter)["statusCode"] == 400


# ---------------------------------------------------------------- edits
def test_a_new_amount_is_checked_against_the_live_item_and_recorded(
    invoke: Invoker, ebay: EbayWorld, alice: str, mocked_aws: MockedAws
) -> None:
    item = listing(ebay, startPrice="20.00")
    bid = body_of(create(invoke, item["itemId"], 2_500))

    raised = invoke(on_bid("update_put", bid["bidId"], body={"maxBidAmount": 4_000}))
    too_low = invoke(on_bid("update_put", bid["bidId"], body={"maxBidAmount": 1_500}))

    assert raised["statusCode"] == 200, raised["body"]
    assert body_of(raised)["maxBidAmount"] == 4_000
    assert too_low["statusCode"] == 400
    assert "20.00 USD" in body_of(too_low)["message"]
    assert history_actions(mocked_aws, bid["bidId"]) == ["CREATE", "UPDATE"]
    stored = body_of(invoke(on_bid("bid_get", bid["bidId"])))
    assert stored["maxBidAmount"] == 4_000


def test_a_new_lead_moves_the_schedule_with_every_field_kept(
    invoke: Invoker, ebay: EbayWorld, alice: str, snipes: SnipeWorld
) -> None:
    bid = body_of(create(invoke, listing(ebay)["itemId"], snipeLeadSeconds=5))

    moved = invoke(on_bid("update_put", bid["bidId"], body={"snipeLeadSeconds": 20}))

    assert moved["statusCode"] == 200, moved["body"]
    after = body_of(moved)
    assert after["scheduledFor"] == bid["auctionEndTime"] - 20 - MARGIN_SECONDS
    assert after["targetTime"] == bid["auctionEndTime"] - 20
    (schedule,) = snipes.schedules()
    fire = datetime.fromtimestamp(after["scheduledFor"], tz=UTC)
    assert schedule["ScheduleExpression"] == f"at({fire:%Y-%m-%dT%H:%M:%S})"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    assert schedule["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert schedule["Target"]["DeadLetterConfig"] == {"Arn": snipes.dead_letter_arn}


def test_cancelling_removes_the_schedule_and_a_finished_bid_is_409(
    invoke: Invoker,
    ebay: EbayWorld,
    alice: str,
    snipes: SnipeWorld,
    mocked_aws: MockedAws,
) -> None:
    bid = body_of(create(invoke, listing(ebay)["itemId"]))

    cancelled = invoke(on_bid("cancel_delete", bid["bidId"]))
    again = invoke(on_bid("cancel_delete", bid["bidId"]))
    edit = invoke(on_bid("update_put", bid["bidId"], body={"maxBidAmount": 9_000}))

    assert cancelled["statusCode"] == 204
    assert snipes.schedules() == []
    assert again["statusCode"] == 409
    assert "CANCELLED" in body_of(again)["message"]
    assert edit["statusCode"] == 409
    assert history_actions(mocked_aws, bid["bidId"]) == ["CREATE", "CANCEL"]


def test_a_placed_bid_can_neither_change_nor_be_cancelled(
    invoke: Invoker, ebay: EbayWorld, alice: str, repository: BidRepository
) -> None:
    bid = body_of(create(invoke, listing(ebay)["itemId"]))
    sent_at = int(time.time())
    repository.transition(ALICE, bid["bidId"], {BidStatus.PENDING}, BidStatus.EXECUTING)
    repository.transition(
        ALICE,
        bid["bidId"],
        {BidStatus.EXECUTING},
        BidStatus.PLACED,
        {"sent_at": sent_at},
    )

    edit = invoke(on_bid("update_put", bid["bidId"], body={"maxBidAmount": 9_000}))
    cancel = invoke(on_bid("cancel_delete", bid["bidId"]))

    for response in (edit, cancel):
        assert response["statusCode"] == 409
        message = body_of(response)["message"]
        assert "PLACED" in message
        assert str(sent_at) in message


def test_an_executing_bid_not_yet_sent_can_still_be_edited_and_cancelled(
    invoke: Invoker, ebay: EbayWorld, alice: str, repository: BidRepository
) -> None:
    first = body_of(create(invoke, listing(ebay)["itemId"]))
    second = body_of(create(invoke, listing(ebay)["itemId"]))
    for bid in (first, second):
        repository.transition(
            ALICE, bid["bidId"], {BidStatus.PENDING}, BidStatus.EXECUTING
        )

    edit = invoke(on_bid("update_put", first["bidId"], body={"maxBidAmount": 7_000}))
    cancel = invoke(on_bid("cancel_delete", second["bidId"]))

    assert edit["statusCode"] == 200, edit["body"]
    assert body_of(edit)["maxBidAmount"] == 7_000
    assert cancel["statusCode"] == 204
    stored = repository.get(ALICE, second["bidId"])
    assert stored is not None and stored.status is BidStatus.CANCELLED


ROUNDS = 50


def race_cancel_and_commit(
    invoke: Invoker, repository: BidRepository, bid_id: str, claimed: Any
) -> dict[str, Any]:
    """A user's DELETE and the executor's commit to send, fired together."""
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def cancel() -> None:
        barrier.wait()
        results["cancel"] = invoke(on_bid("cancel_delete", bid_id))["statusCode"]

    def commit() -> None:
        barrier.wait()
        try:
            repository.update_fields(
                ALICE,
                bid_id,
                {"sent_at": int(time.time())},
                None,
                expected_statuses={BidStatus.EXECUTING},
                expected_version=claimed.version,
            )
            results["commit"] = True
        except BidStateConflict:
            results["commit"] = False

    threads = [threading.Thread(target=cancel), threading.Thread(target=commit)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_cancel_racing_the_executors_commit_has_exactly_one_winner(
    invoke: Invoker, ebay: EbayWorld, alice: str, repository: BidRepository
) -> None:
    """The executor commits to send by a change conditional on the version it read;
    the cancel is conditional on the version it read: never both."""
    item = listing(ebay)
    outcomes: dict[str, int] = {"cancel": 0, "commit": 0}
    for round_ in range(ROUNDS):
        bid = body_of(create(invoke, item["itemId"]))
        claimed = repository.transition(
            ALICE, bid["bidId"], {BidStatus.PENDING}, BidStatus.EXECUTING
        )
        results = race_cancel_and_commit(invoke, repository, bid["bidId"], claimed)

        stored = repository.get(ALICE, bid["bidId"])
        assert stored is not None
        cancel_won = results["cancel"] == 204
        assert cancel_won != results["commit"], f"round {round_}: {results}"
        if cancel_won:
            assert (stored.status, stored.sent_at) == (BidStatus.CANCELLED, None)
            outcomes["cancel"] += 1
        else:
            assert results["cancel"] == 409, f"round {round_}: {results}"
            assert stored.status is BidStatus.EXECUTING and stored.sent_at
            outcomes["commit"] += 1
            # the next round's bid needs the item free again
            repository.transition(
                ALICE, bid["bidId"], {BidStatus.EXECUTING}, BidStatus.FAILED
            )
    assert sum(outcomes.values()) == ROUNDS


# ---------------------------------------------------------------- system cancels
def test_unlinking_ebay_cancels_every_pending_bid_and_removes_its_schedule(
    invoke: Invoker,
    ebay: EbayWorld,
    alice: str,
    snipes: SnipeWorld,
    mocked_aws: MockedAws,
    repository: BidRepository,
) -> None:
    made = [body_of(create(invoke, listing(ebay)["itemId"])) for _ in range(3)]
    placed = made[2]["bidId"]
    repository.transition(ALICE, placed, {BidStatus.PENDING}, BidStatus.EXECUTING)
    repository.transition(
        ALICE, placed, {BidStatus.EXECUTING}, BidStatus.PLACED, {"sent_at": 1}
    )
    # Its schedule fired (ActionAfterCompletion DELETE removed it).
    boto3.client("scheduler").delete_schedule(
        Name=f"snipe-{placed}", GroupName=snipes.group
    )
    link_ebay(ebay, "ebay-bob", BOB)
    bobs = body_of(create(invoke, listing(ebay)["itemId"], user=BOB))
    oauth = Invoker("ebay_oauth")

    unlinked = oauth(as_user(sample_event("ebay_oauth/unlink_delete.json"), ALICE))

    assert unlinked["statusCode"] == 204
    statuses = {
        b["bidId"]: b["status"]
        for b in body_of(invoke(list_event(status="CANCELLED")))["items"]
    }
    assert statuses == {made[0]["bidId"]: "CANCELLED", made[1]["bidId"]: "CANCELLED"}
    stored = repository.get(ALICE, made[0]["bidId"])
    assert stored is not None and "unlinked" in (stored.reason or "")
    assert history_actions(mocked_aws, made[0]["bidId"]) == ["CREATE", "CANCEL"]
    # The placed bid stands on eBay; Bob's bid and schedule are untouched.
    assert repository.get(ALICE, placed).status is BidStatus.PLACED  # type: ignore[union-attr]
    assert [s["Name"] for s in snipes.schedules()] == [f"snipe-{bobs['bidId']}"]


def test_deleting_the_account_cancels_bids_and_erases_them(
    invoke: Invoker,
    ebay: EbayWorld,
    alice: str,
    snipes: SnipeWorld,
    mocked_aws: MockedAws,
    user_pool: str,
) -> None:
    for _ in range(2):
        create(invoke, listing(ebay)["itemId"])
    users = Invoker("user_management")

    deleted = users(as_user(sample_event("user_management/account_delete.json"), ALICE))

    assert deleted["statusCode"] == 204
    assert snipes.schedules() == []
    assert mocked_aws.all_items("BidsTable") == []
    assert mocked_aws.all_items("BidHistoryTable") == []


def test_bid_ids_in_paths_are_checked(invoke: Invoker) -> None:
    response = invoke(on_bid("bid_get", "not a bid id!"))

    assert response["statusCode"] == VALIDATION_STATUS
    assert re.search("bidId", response["body"])
