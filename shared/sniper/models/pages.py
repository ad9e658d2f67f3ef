"""What the bid and history lists share: their page sizes, where a page ends,
and the eBay item id they filter by. Apart from the bid models so that Bid
History loads none of those."""

from __future__ import annotations

from pydantic import Field

from sniper.models.base import Model

# A list's page: `limit` bids or entries, 20 unless the caller asks, at most 100.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

EBAY_ITEM_ID_PATTERN = r"^[0-9]{1,19}$"


class Pagination(Model):
    """Where a page ends: pass `nextCursor` back as `cursor` for the next one."""

    limit: int | None = Field(
        default=None, description="the page size asked for; null for a whole answer"
    )
    nextCursor: str | None = Field(
        default=None, description="opaque; null on the last page"
    )
