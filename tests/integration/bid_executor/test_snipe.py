"""A snipe's bid going out, or not: exactly once, at the target, with the amount
the user last asked for. The handler as Scheduler invokes it, moto for AWS, the eBay
emulator over HTTP, auctions a few seconds long.

What a user would notice: whether a bid reached eBay (the emulator's listing keeps
every bid, refused ones too), when, for how much, and what the bid, its history and
the email say afterwards.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import SecretStr

from sniper import composition, composition_bids
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.repositories.bid_history import HistoryEntry
from sniper.repositories.bids import StoredBid
from sniper.token_cipher import TokenCipher
from tests.integration.bid_executor.conftest import (
    LEAD,
    Sniping,
    in_thread,
    iso_seconds,
)
from tests.support.handlers import ALICE, sample_event
from tests.support.logs import capture_logs

PLACE_PATH = "/place_proxy_bid"


def cancel(bid: StoredBid) -> None:
    """What Bid Management does on DELETE /bids/{id} before the executor sends."""
    current = Sniping.stored(bid)
    assert current.sent_at is None
    composition_bids.bid_repository().transition(
        ALICE,
        bid.bid_id,
        (BidStatus.PENDING, BidStatus.EXECUTING),
        BidStatus.CANCELLED,
        {"reason": "Cancelled by you."},
        HistoryEntry.new(
            user_id=ALICE,
            bid_id=bid.bid_id,
            action=HistoryAction.CANCEL,
            ebay_item_id=bid.ebay_item_id,
            bid_amount=current.max_bid_amount,
            now=time.time(),
        ),
        expected_version=current.version,
    )


def edit(bid: StoredBid, amount: int) -> None:
    """What Bid Management does on PUT /bids/{id} before the executor sends."""
    current = Sniping.stored(bid)
    assert current.sent_at is None
    composition_bids.bid_repository().update_fields(
        ALICE,
        bid.bid_id,
        {"max_bid_amount": amount},
        HistoryEntry.new(
            user_id=ALICE,
            bid_id=bid.bid_id,
            action=HistoryAction.UPDATE,
            ebay_item_id=bid.ebay_item_id,
            bid_amount=amount,
            now=time.time(),
        ),
        expected_statuses=(BidStatus.PENDING, BidStatus.EXECUTING),
        expected_version=current.version,
    )


# ---------------------------------------------------------------- one bid, ever
def test_duplicate_deliveries_of_one_schedule_place_one_bid(
    sniping: Sniping, mocked_aws: Any
) -> None:
    sniping.link()
    listing = sniping.auction()
    bid = sniping.bid(listing)
    event = sniping.event(bid)

    runs = [in_thread(sniping.run, event) for _ in range(3)]
    for thread, _ in runs:
        thread.join(timeout=30)
    results = [result for _, results in runs for result in results]
    # Delivered again later, while the idempotency record lasts: the same answer.
    again = sniping.run(event)
    # And once it is gone (a day later): the claim finds the bid no longer PENDING.
    table = mocked_aws.table("IdempotencyTable")
    for record in mocked_aws.all_items("IdempotencyTable"):
        table.delete_item(Key={"id": record["id"]})
    late = sniping.run(event)

    (done,) = [result for result in results if "skipped" not in result]
    assert done["status"] == "WON"
    assert [result["skipped"] for result in results if "skipped" in result] == [
        "another invocation is running this schedule"
    ] * 2
    assert again == done
    assert late["skipped"] == "the bid is WON"
    assert len(sniping.our_bids(listing)) == 1
    assert len(sniping.calls("POST", PLACE_PATH)) == 1
    assert [n.status for n in sniping.notifier.sent] == [BidStatus.WON]


def test_a_timeout_after_ebay_took_the_bid_is_reconciled_not_resent(
    sniping: Sniping,
) -> None:
    sniping.link()
    listing = sniping.auction()
    bid = sniping.bid(listing)
    # eBay places the bid, then holds its answer longer than the executor waits.
    sniping.ebay.fault(
        kind="timeout",
        processed=True,
        holdSeconds=2,
        pathPrefix="/buy/offer/",
        method="POST",
    )

    result = sniping.run(sniping.event(bid))

    assert result["bidPlaced"] is True, result
    assert result["status"] == "WON"
    (ours,) = sniping.our_bids(listing)
    assert ours["accepted"] is True
    place = sniping.entry(bid, HistoryAction.PLACE)
    assert place.details["reconciled"] is True
    assert place.details["proxyBidId"] == ours["proxyBidId"]
    assert HistoryAction.FAIL not in sniping.actions(bid)


def test_ebay_failing_then_answering_within_the_window_places_the_bid(
    sniping: Sniping,
) -> None:
    sniping.link()
    listing = sniping.auction()
    bid = sniping.bid(listing)
    sniping.ebay.fault(
        kind="status", status=503, count=2, pathPrefix="/buy/offer/", method="POST"
    )

    result = sniping.run(sniping.event(bid))

    assert result["status"] == "WON", result
    assert [call["status"] for call in sniping.calls("POST", PLACE_PATH)] == [
        503,
        503,
        200,
    ]
    assert len(sniping.our_bids(listing)) == 1
    assert sniping.entry(bid, HistoryAction.PLACE).details["attempts"] == 3


def test_ebay_failing_until_the_cutoff_fails_the_bid_and_tells_the_user(
    sniping: Sniping,
) -> None:
    sniping.link()
    listing = sniping.auction()
    bid = sniping.bid(listing)
    sniping.ebay.fault(
        kind="status", status=503, count=100, pathPrefix="/buy/offer/", method="POST"
    )

    result = sniping.run(sniping.event(bid))
    returned_at = time.time()

    assert result["status"] == "FAILED", result
    assert result["bidPlaced"] is False
    stored = sniping.stored(bid)
    assert stored.reason is not None
    assert stored.reason.startswith("eBay kept failing until the auction's last second")
    assert "HTTP 503" in stored.reason
    assert len(sniping.calls("POST", PLACE_PATH)) >= 3
    assert sniping.our_bids(listing) == []
    assert returned_at < bid.auction_end_time  # it gave up at the cutoff
    assert sniping.entry(bid, HistoryAction.FAIL).details["reason"] == stored.reason
    (told,) = sniping.notifier.sent
    assert (told.status, told.reason) == (BidStatus.FAILED, stored.reason)


# ---------------------------------------------------------------- during the wait
def wait_until_claimed(sniping: Sniping, bid: StoredBid, within: float = 1.2) -> None:
    """The executor is awake and waiting (a loaded machine may take a moment)."""
    deadline = time.monotonic() + within
    while sniping.stored(bid).status is not BidStatus.EXECUTING:
        assert time.monotonic() < deadline, "the executor never claimed the bid"
        time.sleep(0.02)


def test_a_cancel_during_the_wait_places_no_bid(sniping: Sniping) -> None:
    sniping.link()
    listing = sniping.auction(ends_in=LEAD + 2.0)
    bid = sniping.bid(listing)
    thread, results = in_thread(sniping.run, sniping.event(bid))
    wait_until_claimed(sniping, bid)

    cancel(bid)
    cancelled_at = time.time()
    thread.join(timeout=30)

    assert results[0]["skipped"] == "the bid became CANCELLED meanwhile"
    # It stopped waiting at its next look at the bid (every 0.5 s here), long
    # before the target.
    assert time.time() - cancelled_at < 0.8
    assert time.time() < bid.target_time - 0.5
    assert sniping.stored(bid).status is BidStatus.CANCELLED
    assert sniping.calls("POST", PLACE_PATH) == []
    assert sniping.our_bids(listing) == []
    assert sniping.notifier.sent == []


def test_an_edit_during_the_wait_sends_the_new_amount(sniping: Sniping) -> None:
    sniping.link()
    listing = sniping.auction(ends_in=LEAD + 1.6)
    bid = sniping.bid(listing, max_bid=2500)
    thread, results = in_thread(sniping.run, sniping.event(bid))
    wait_until_claimed(sniping, bid)

    edit(bid, 3100)
    thread.join(timeout=30)

    assert results[0]["status"] == "WON", results
    (ours,) = sniping.our_bids(listing)
    assert ours["maxAmount"] == "31.00"
    assert sniping.stored(bid).max_bid_amount == 3100
    assert sniping.entry(bid, HistoryAction.WIN).bid_amount == 3100


def test_a_schedule_delivered_after_its_target_still_bids_and_says_how_late(
    sniping: Sniping,
) -> None:
    sniping.link()
    # A 4 s lead whose target passed at least 0.8 s ago; the cutoff is still ahead.
    listing = sniping.auction(ends_in=2.2)
    bid = sniping.bid(listing, lead=4)
    assert time.time() > bid.target_time + 0.8

    result = sniping.run(sniping.event(bid))

    assert result["status"] == "WON", result
    (ours,) = sniping.our_bids(listing)
    late_ms = (iso_seconds(ours["placedAt"]) - bid.target_time) * 1000
    stored = sniping.stored(bid)
    assert stored.lateness_ms is not None and stored.lateness_ms >= 300
    # Measured on eBay's clock, as eBay's Date headers tell it (to about 0.5 s).
    assert abs(stored.lateness_ms - late_ms) < 700
    assert result["latenessMs"] == stored.lateness_ms


# ---------------------------------------------------------------- before the bid
def test_a_price_already_above_the_maximum_is_lost_without_a_bid_call(
    sniping: Sniping,
) -> None:
    sniping.link()
    listing = sniping.auction(startPrice=1000)
    bid = sniping.bid(listing, max_bid=2500)
    for rival, amount in (("rival1", 3000), ("rival2", 2800)):
        sniping.ebay.admin(
            "POST",
            f"/listings/{listing['itemId']}/bids",
            json={"bidder": rival, "maxAmount": amount},
        )

    result = sniping.run(sniping.event(bid))

    assert result["status"] == "LOST", result
    stored = sniping.stored(bid)
    assert stored.reason is not None
    assert stored.reason.startswith("Outbid before the snipe")
    assert "30.00 USD" in stored.reason  # eBay's minimum next bid
    assert sniping.calls("POST", PLACE_PATH) == []
    assert sniping.actions(bid)[-1] is HistoryAction.LOSE
    assert [n.status for n in sniping.notifier.sent] == [BidStatus.LOST]


def test_an_expired_access_token_is_refreshed_before_bidding(
    sniping: Sniping,
) -> None:
    link = sniping.link()
    # The stored access token expired an hour ago (and eBay would refuse it).
    dead = TokenCipher(sniping.ebay.key_arn).encrypt(
        ALICE, SecretStr("v^1.1#i^1#p^3#r^0#I^3#t^expired")
    )
    now = int(time.time())
    assert composition.ebay_links().update_access_token(link, dead, now - 3600, now)
    listing = sniping.auction()
    bid = sniping.bid(listing)

    with capture_logs() as logs:
        result = sniping.run(sniping.event(bid))

    assert result["status"] == "WON", result
    (ours,) = sniping.our_bids(listing)
    assert ours["accepted"] is True
    renewed = composition.ebay_links().get(ALICE)
    assert renewed is not None
    assert renewed.access_token_expires_at > time.time() + 3600
    fresh = TokenCipher(sniping.ebay.key_arn).decrypt(
        ALICE, renewed.access_token_ciphertext
    )
    # The snipe's logs carry the bid id, and never a token.
    lines = logs.lines()
    assert lines and {line.get("correlation_id") for line in lines} == {bid.bid_id}
    assert fresh.get_secret_value() not in logs.text


def test_an_unlinked_ebay_account_fails_the_bid_before_the_snipe(
    sniping: Sniping,
) -> None:
    listing = sniping.auction()
    bid = sniping.bid(listing)  # the link was removed after the bid was made

    result = sniping.run(sniping.event(bid))

    assert result["status"] == "FAILED", result
    assert sniping.stored(bid).reason == (
        "Your eBay account was unlinked before the snipe; no bid was placed."
    )
    assert sniping.calls("POST", PLACE_PATH) == []
    assert sniping.actions(bid) == [HistoryAction.CREATE, HistoryAction.FAIL]
    assert [n.status for n in sniping.notifier.sent] == [BidStatus.FAILED]


def test_the_sample_events_run_and_an_orphan_schedule_does_nothing(
    sniping: Sniping,
) -> None:
    # events/bid_executor/*.json name a bid that does not exist (deleted with its
    # account, say): the schedule that still fires changes nothing.
    for name in ("snipe.json", "outcome_check.json"):
        result = sniping.run(sample_event(f"bid_executor/{name}"))

        assert result == {
            "bidId": "3b1f6c2e-8d4a-4e57-9a0b-1c2d3e4f5a6b",
            "bidPlaced": False,
            "skipped": "no such bid",
        }
    assert sniping.calls("POST", PLACE_PATH) == []
    assert sniping.notifier.sent == []
