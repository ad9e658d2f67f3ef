"""The BidHistory table: append-only entries, one per thing that happened to a bid.

Layout (partition key `userId`, sort key `historyKey` = `<timestamp>#<historyId>`,
timestamps zero-padded to 12 digits so strings sort like numbers):
- the table itself: the caller's history by time (newest first, `from`/`to` as a
  key range);
- LSI `BidTimelineIndex` on `bidTimelineKey` = `<bidId>#<timestamp>#<historyId>`:
  one bid's timeline;
- LSI `ItemHistoryIndex` on `itemHistoryKey` = `<ebayItemId>#<timestamp>#<id>`: the
  history of one eBay item, a time range a key range too;
- LSI `ActionHistoryIndex` on `actionHistoryKey` = `<action>#<timestamp>#<id>`: one
  action's entries.
Every filter is thus a key range inside the caller's own partition; only the action
filter combined with an item filter is a FilterExpression, over that item's few
entries. Local indexes, not global ones, so no query can leave the partition.

Entries are written in the same transaction as the bid change they record
(`put_item`); nothing updates or deletes them except erasing the account.
"""

from __future__ import annotations

import builtins
import secrets
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from sniper import aws
from sniper.models.statuses import HistoryAction
from sniper.pagination import Page
from sniper.repositories.dynamo import plain, to_attribute_values
from sniper.repositories.pages import collect, position_of, start_key
from sniper.repositories.partitions import UserPartition

TIME_DIGITS = 12
MAX_TIMESTAMP = 10**TIME_DIGITS - 1
TIMELINE_INDEX = "BidTimelineIndex"
ITEM_INDEX = "ItemHistoryIndex"
ACTION_INDEX = "ActionHistoryIndex"
# Sorts after '#': `<prefix><t>$` is above every key of second t, below t + 1.
_AFTER_SECOND = "$"


def sortable_time(seconds: int) -> str:
    """Unix seconds as a fixed-width string, so key order is time order."""
    if not 0 <= seconds <= MAX_TIMESTAMP:
        raise ValueError(f"timestamp {seconds} is outside 0..{MAX_TIMESTAMP}")
    return f"{seconds:0{TIME_DIGITS}d}"


def new_history_id(now: float) -> str:
    """Milliseconds first, so entries of one second still sort in time order."""
    return f"{int(now * 1000):013d}-{secrets.token_hex(4)}"


@dataclass(frozen=True)
class HistoryEntry:
    """One entry; `details` holds what changed (strings, ints, bools, maps)."""

    user_id: str
    history_id: str
    bid_id: str
    action: HistoryAction
    timestamp: int
    ebay_item_id: str
    bid_amount: int
    details: dict[str, Any] = field(default_factory=dict)
    final_price: int | None = None

    @classmethod
    def new(
        cls,
        *,
        user_id: str,
        bid_id: str,
        action: HistoryAction,
        ebay_item_id: str,
        bid_amount: int,
        now: float,
        details: dict[str, Any] | None = None,
        final_price: int | None = None,
    ) -> HistoryEntry:
        """An entry of this moment, its id and timestamp from one clock reading."""
        return cls(
            user_id=user_id,
            history_id=new_history_id(now),
            bid_id=bid_id,
            action=action,
            timestamp=int(now),
            ebay_item_id=ebay_item_id,
            bid_amount=bid_amount,
            details=dict(details or {}),
            final_price=final_price,
        )

    @property
    def history_key(self) -> str:
        return f"{sortable_time(self.timestamp)}#{self.history_id}"

    def to_item(self) -> dict[str, Any]:
        key = self.history_key
        item: dict[str, Any] = {
            "userId": self.user_id,
            "historyKey": key,
            "bidTimelineKey": f"{self.bid_id}#{key}",
            "itemHistoryKey": f"{self.ebay_item_id}#{key}",
            "actionHistoryKey": f"{self.action.value}#{key}",
            "historyId": self.history_id,
            "bidId": self.bid_id,
            "action": self.action.value,
            "timestamp": self.timestamp,
            "ebayItemId": self.ebay_item_id,
            "bidAmount": self.bid_amount,
            "details": self.details,
        }
        if self.final_price is not None:
            item["finalPrice"] = self.final_price
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> HistoryEntry:
        """Tolerant: attributes this code does not know are ignored."""
        values = plain(item)
        final_price = values.get("finalPrice")
        return cls(
            user_id=values["userId"],
            history_id=values["historyId"],
            bid_id=values["bidId"],
            action=HistoryAction(values["action"]),
            timestamp=int(values["timestamp"]),
            ebay_item_id=values["ebayItemId"],
            bid_amount=int(values["bidAmount"]),
            details=dict(values.get("details") or {}),
            final_price=int(final_price) if final_price is not None else None,
        )


class BidHistoryRepository:
    """Appends and reads history entries, always inside one user's partition."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @property
    def table(self) -> Any:
        return aws.table(self.table_name)

    def put_item(self, entry: HistoryEntry) -> dict[str, Any]:
        """The transaction item that appends `entry` (never overwrites one)."""
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": to_attribute_values(entry.to_item()),
                "ConditionExpression": "attribute_not_exists(historyKey)",
            }
        }

    def append(self, entry: HistoryEntry) -> None:
        """Append an entry that records no bid change of its own."""
        self.table.put_item(
            Item=entry.to_item(),
            ConditionExpression="attribute_not_exists(historyKey)",
        )

    def list(
        self,
        user_id: str,
        *,
        action: HistoryAction | None = None,
        ebay_item_id: str | None = None,
        from_ts: int | None = None,
        to_ts: int | None = None,
        limit: int = 20,
        cursor: dict[str, Any] | None = None,
    ) -> Page[HistoryEntry]:
        """Entries newest first, filtered, `from_ts` and `to_ts` inclusive.

        Pages are full: `limit` entries unless the range is exhausted, in which
        case the page's cursor is None.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        low = sortable_time(0 if from_ts is None else from_ts)
        high = sortable_time(MAX_TIMESTAMP if to_ts is None else to_ts) + _AFTER_SECOND
        if low > high:
            raise ValueError("from_ts is after to_ts")
        index: str | None = None
        sort_key, prefix = "historyKey", ""
        if ebay_item_id is not None:
            index, sort_key, prefix = ITEM_INDEX, "itemHistoryKey", f"{ebay_item_id}#"
        elif action is not None:
            index, sort_key = ACTION_INDEX, "actionHistoryKey"
            prefix = f"{action.value}#"
        key_names = ("historyKey",) if index is None else ("historyKey", sort_key)
        query: dict[str, Any] = {
            "KeyConditionExpression": Key("userId").eq(user_id)
            & Key(sort_key).between(prefix + low, prefix + high),
            "ScanIndexForward": False,
        }
        if index is not None:
            query["IndexName"] = index
        filtered = ebay_item_id is not None and action is not None
        if ebay_item_id is not None and action is not None:
            query["FilterExpression"] = Attr("action").eq(action.value)
        start = start_key(user_id, cursor, key_names)
        if start is not None:
            query["ExclusiveStartKey"] = start
        items = collect(self.table, query, limit + 1, filtered=filtered)
        entries = [HistoryEntry.from_item(item) for item in items[:limit]]
        following = None
        if len(items) > limit:
            following = position_of(items[limit - 1], key_names)
        return Page(items=entries, cursor=following)

    def timeline(self, user_id: str, bid_id: str) -> builtins.list[HistoryEntry]:
        """Every entry of one bid, oldest first; empty for a bid the user lacks."""
        if not bid_id or "#" in bid_id:
            return []  # no bid id has one; it would widen the prefix
        query: dict[str, Any] = {
            "IndexName": TIMELINE_INDEX,
            "KeyConditionExpression": Key("userId").eq(user_id)
            & Key("bidTimelineKey").begins_with(f"{bid_id}#"),
            "ScanIndexForward": True,
        }
        entries: builtins.list[HistoryEntry] = []
        while True:
            page = self.table.query(**query)
            entries.extend(HistoryEntry.from_item(item) for item in page["Items"])
            if "LastEvaluatedKey" not in page:
                return entries
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def erase(self, user_id: str) -> int:
        """Account deletion: the one way entries ever go."""
        return UserPartition(self.table_name, ("userId", "historyKey")).erase(user_id)
