"""Reading eBay's bidding answer: does our bid stand, and how did the auction end.

Two rules keep a bid honest. A bid is ours on eBay when eBay shows a standing
maximum of at least our amount (a timeout after eBay took the bid must never lead
to a second one). And only an auction eBay reports ENDED has an outcome: anything
else is "not known yet", never LOST.
"""

from __future__ import annotations

from dataclasses import dataclass

from sniper.ebay import Bidding
from sniper.models.statuses import BidStatus

RESERVE_NOT_MET = "The seller's reserve price was not met, so the item did not sell."
OUTBID = "Outbid: another bidder's maximum was higher than yours."


@dataclass(frozen=True)
class Verdict:
    """A final outcome: WON or LOST, the price the auction ended at, why."""

    status: BidStatus
    final_price: int | None
    reason: str | None = None


def stands(bidding: Bidding, amount: int) -> bool:
    """Whether eBay holds our proxy bid (or a higher one of the same bidder)."""
    proxy = bidding.current_proxy_bid
    if proxy is None or proxy.max_amount is None:
        return False
    return proxy.max_amount.cents >= amount


def verdict(bidding: Bidding) -> Verdict | None:
    """The outcome once eBay reports the auction ended; None while it does not."""
    if not bidding.is_ended:
        return None
    price = bidding.current_price.cents if bidding.current_price else None
    if bidding.won:
        return Verdict(BidStatus.WON, price)
    if bidding.reserve_price_met is False:
        return Verdict(BidStatus.LOST, price, RESERVE_NOT_MET)
    return Verdict(BidStatus.LOST, price, OUTBID)
