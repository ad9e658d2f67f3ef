"""eBay's refusals of a snipe, in words the bidder can act on.

eBay answers a refused proxy bid with an Offer error id (mostly HTTP 409); the
client classifies it (`EbayBidRejected.reason`). The bid's `reason` and the email
say what happened and, where there is one, what to do next; eBay's own message is
kept in the history entry for support.
"""

from __future__ import annotations

from sniper.ebay import BidRejection, EbayBidRejected

# Ids whose meaning is finer than their class.
_BY_ID: dict[int, str] = {
    120002: "The auction was ended early by a Buy It Now purchase; no bid was placed.",
    120007: "eBay refused the amount as too high for this auction; no bid was placed.",
    120018: (
        "This auction takes whole amounts only (no cents); no bid was placed. "
        "Use a maximum without cents next time."
    ),
}

_BY_REASON: dict[BidRejection, str] = {
    BidRejection.BELOW_MINIMUM: (
        "Your maximum was below eBay's minimum next bid when the snipe went out: "
        "someone bid higher just before. No bid was placed."
    ),
    BidRejection.AUCTION_ENDED: (
        "The auction had already ended when the bid reached eBay; no bid was placed."
    ),
    BidRejection.OWN_ITEM: "eBay does not let sellers bid on their own items.",
    BidRejection.NOT_ELIGIBLE: (
        "eBay did not let your account bid on this item (the seller's buyer "
        "requirements or an account restriction); no bid was placed."
    ),
    BidRejection.CANNOT_LOWER: (
        "You already have a higher maximum on this auction on eBay; eBay kept it "
        "and refused the lower one."
    ),
    BidRejection.ABOVE_BUY_IT_NOW: (
        "Your maximum is above the item's Buy It Now price, which eBay refuses; "
        "buy it now on eBay instead."
    ),
    BidRejection.CURRENCY_MISMATCH: (
        "eBay refused the bid's currency for this listing; no bid was placed."
    ),
    BidRejection.ADULT_CONSENT_REQUIRED: (
        "This item is for adults only and eBay wants your consent on eBay itself "
        "before you bid; no bid was placed."
    ),
    BidRejection.ITEM_NOT_FOUND: (
        "eBay no longer lists this auction (it ended early or was removed); no bid "
        "was placed."
    ),
    BidRejection.INVALID_AMOUNT: "eBay refused the bid's amount; no bid was placed.",
    BidRejection.MARKETPLACE: (
        "eBay refused the bid on this listing's marketplace; no bid was placed."
    ),
}


def refusal_reason(refusal: EbayBidRejected) -> str:
    """What the bidder reads when eBay refused the snipe."""
    if isinstance(refusal.error_id, int) and refusal.error_id in _BY_ID:
        return _BY_ID[refusal.error_id]
    known = _BY_REASON.get(refusal.reason)
    if known is not None:
        return known
    return f"eBay refused the bid ({refusal.message}); no bid was placed."
