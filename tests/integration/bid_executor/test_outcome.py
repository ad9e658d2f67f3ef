"""How a snipe ends: WON or LOST at eBay's final price, and an outcome eBay is slow
to tell checked later (never read as LOST). Same setting as test_snipe.py.
"""

from __future__ import annotations

import boto3

from sniper.models.snipe import ExecutionKind
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.snipe.scheduling import outcome_schedule_name
from tests.integration.bid_executor.conftest import (
    LEAD,
    Sniping,
    in_thread,
    iso_seconds,
)


# ---------------------------------------------------------------- winning
def test_a_snipe_bids_at_its_target_and_wins_at_the_second_price(
    sniping: Sniping,
) -> None:
    sniping.link()
    # Time enough to set up before the target, however cold the container.
    listing = sniping.auction(ends_in=LEAD + 1.2, startPrice=1000)
    sniping.ebay.admin(
        "POST",
        f"/listings/{listing['itemId']}/bids",
        json={"bidder": "rival1", "maxAmount": 1500},
    )
    bid = sniping.bid(listing, max_bid=2500)

    result = sniping.run(sniping.event(bid))

    assert result["status"] == "WON", result
    assert result["bidPlaced"] is True
    (ours,) = sniping.our_bids(listing)
    assert ours["accepted"] is True
    assert ours["maxAmount"] == "25.00"
    # It reached eBay at the target, lead seconds before the end (eBay's clock).
    assert abs(iso_seconds(ours["placedAt"]) - bid.target_time) < 0.7
    stored = sniping.stored(bid)
    assert stored.status is BidStatus.WON
    assert stored.final_price == 1550  # the rival's 15.00 plus one 0.50 increment
    assert stored.sent_at is not None and stored.ebay_answered_at is not None
    assert stored.lateness_ms is not None and 0 <= stored.lateness_ms < 500
    assert sniping.actions(bid) == [
        HistoryAction.CREATE,
        HistoryAction.PLACE,
        HistoryAction.WIN,
    ]
    place = sniping.entry(bid, HistoryAction.PLACE)
    assert place.details["proxyBidId"] == ours["proxyBidId"]
    assert result["ebayBidId"] == ours["proxyBidId"]
    assert place.details["attempts"] == 1
    assert place.details["latenessMs"] == stored.lateness_ms
    assert sniping.entry(bid, HistoryAction.WIN).final_price == 1550
    (told,) = sniping.notifier.sent
    assert (told.status, told.finalPrice, told.bidAmount) == (
        BidStatus.WON,
        1550,
        2500,
    )


def test_auctions_end_per_ebays_rules_with_their_final_price(
    sniping: Sniping,
) -> None:
    """Three snipes at once: rivals bidding after us, and an unmet reserve."""
    sniping.link()
    lower, higher = sniping.auction(), sniping.auction()
    reserved = sniping.auction(reserve=5000)
    bids = [sniping.bid(listing, max_bid=2500) for listing in (lower, higher, reserved)]
    # Rivals bid half a second before the end, after our snipe went out.
    for listing, rival_max in ((lower, 2000), (higher, 3000)):
        sniping.ebay.admin(
            "POST",
            f"/listings/{listing['itemId']}/scripted-bids",
            json={"bidder": "rival1", "maxAmount": rival_max, "secondsBeforeEnd": 0.5},
        )

    runs = [in_thread(sniping.run, sniping.event(bid)) for bid in bids]
    for thread, _ in runs:
        thread.join(timeout=30)

    won, lost, unsold = (sniping.stored(bid) for bid in bids)
    # Our 25.00 leads a rival's 20.00: we pay the rival's maximum plus 0.50.
    assert (won.status, won.final_price) == (BidStatus.WON, 2050)
    # A rival's 30.00 leads ours: the price is our maximum plus 1.00.
    assert (lost.status, lost.final_price) == (BidStatus.LOST, 2600)
    assert lost.reason == "Outbid: another bidder's maximum was higher than yours."
    assert sniping.on_ebay(higher)["leader"] == "rival1"
    assert sniping.entry(bids[1], HistoryAction.LOSE).final_price == 2600
    # Below the reserve, the only bid stands at the start price, and nothing sells.
    assert (unsold.status, unsold.final_price) == (BidStatus.LOST, 1000)
    assert unsold.reason == (
        "The seller's reserve price was not met, so the item did not sell."
    )
    assert sniping.on_ebay(reserved)["outcome"]["sold"] is False
    told = {n.bidId: n for n in sniping.notifier.sent}
    assert {bid_id: n.status for bid_id, n in told.items()} == {
        won.bid_id: BidStatus.WON,
        lost.bid_id: BidStatus.LOST,
        unsold.bid_id: BidStatus.LOST,
    }
    assert told[unsold.bid_id].reason == unsold.reason


# ---------------------------------------------------------------- the outcome
def test_an_outcome_ebay_does_not_tell_in_time_is_checked_later_never_lost(
    sniping: Sniping,
) -> None:
    sniping.link()
    listing = sniping.auction()
    bid = sniping.bid(listing)
    sniping.ebay.fault(
        kind="status", status=503, count=1000, pathPrefix="/buy/offer/", method="GET"
    )

    result = sniping.run(sniping.event(bid))

    assert result["status"] == "PLACED", result
    assert result["bidPlaced"] is True
    assert sniping.stored(bid).status is BidStatus.PLACED
    assert sniping.actions(bid) == [HistoryAction.CREATE, HistoryAction.PLACE]
    assert sniping.notifier.sent == []
    schedule = boto3.client("scheduler").get_schedule(
        Name=outcome_schedule_name(bid.bid_id, 1), GroupName=sniping.schedules.group
    )
    check = sniping.schedules.input_of(schedule)
    assert (check["kind"], check["attempt"], check["bidId"]) == (
        "OUTCOME_CHECK",
        1,
        bid.bid_id,
    )
    assert schedule["ScheduleExpression"].startswith("at(")

    # The check, when its schedule fires and eBay answers again:
    sniping.ebay.admin("DELETE", "/faults")
    checked = sniping.run(sniping.event(bid, ExecutionKind.OUTCOME_CHECK, attempt=1))

    assert checked["status"] == "WON", checked
    assert sniping.stored(bid).final_price == 1000
    assert [n.status for n in sniping.notifier.sent] == [BidStatus.WON]
