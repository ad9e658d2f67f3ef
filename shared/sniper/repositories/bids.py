"""The Bids table: bids, and the guard that keeps one active bid per user and item.

Layout (partition key `userId`, sort key `sk`):
- a bid: (`<userId>`, `BID#<bidId>`), with `version`, incremented by every write
  but the executor's heartbeat (`heartbeatAt`, see `BidRepository.heartbeat`);
- an item guard: (`<userId>`, `ITEM#<ebayItemId>`) whose `ownerId` is the bid that
  holds the item. It is written in the transaction that creates the bid and
  deleted in the one that makes the bid final, so it exists exactly while the
  user has an active bid on that item.
Indexes, every one inside the caller's partition except the sweeps' GSI:
- LSI `ActiveBidsIndex` on `activeEndKey` = `<end>#<bidId>` (end time zero-padded
  to 12 digits), present only while the bid is PENDING, EXECUTING or PLACED: the
  active bids, soonest-ending first;
- LSI `BidStatusIndex` on `statusEndKey` = `<STATUS>#<end>#<bidId>`: bids of one
  status by end time; several statuses are one Query each, merged;
- GSI `StatusEndTimeIndex` on `statusBucket` (the status, only while in flight) and
  `auctionEndTime`: sweeps find bids whose schedule never fired or whose executor
  died. Guards carry none of these attributes, so no index lists them.

Status changes read the bid, then write conditional on the `version` read, so two
writers racing on one bid (a cancel and the executor's claim) cannot both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from sniper import aws
from sniper.clock import Clock, SystemClock
from sniper.models.statuses import ACTIVE_STATUSES, FINAL_STATUSES, BidStatus
from sniper.observability import logger
from sniper.pagination import InvalidCursor, Page
from sniper.repositories import guards
from sniper.repositories.bid_history import (
    BidHistoryRepository,
    HistoryEntry,
    sortable_time,
)
from sniper.repositories.dynamo import (
    cancellation_codes,
    from_attribute_values,
    is_condition_failure,
    is_transaction_cancelled,
    to_attribute_values,
)
from sniper.repositories.pages import collect, position_of, start_key
from sniper.repositories.partitions import UserPartition

BID_PREFIX = "BID#"
ITEM_PREFIX = "ITEM#"
ACTIVE_INDEX = "ActiveBidsIndex"
STATUS_INDEX = "BidStatusIndex"
SWEEP_INDEX = "StatusEndTimeIndex"
# Writes conditional on what was read retry this often when another writer
# changed the bid in between (and the change still allows this one).
ATTEMPTS = 5
_FAILED = "ConditionalCheckFailed"
_CONFLICT = "TransactionConflict"
_ACTIVE_KEYS = ("sk", "activeEndKey")
_STATUS_KEYS = ("sk", "statusEndKey")


def new_bid_id() -> str:
    return str(uuid.uuid4())


def bid_key(user_id: str, bid_id: str) -> dict[str, str]:
    return {"userId": user_id, "sk": f"{BID_PREFIX}{bid_id}"}


def item_guard_key(user_id: str, ebay_item_id: str) -> dict[str, str]:
    return {"userId": user_id, "sk": f"{ITEM_PREFIX}{ebay_item_id}"}


@dataclass(frozen=True)
class StoredBid:
    """A bid as stored: the snipe, the item's snapshot and what the executor saw."""

    user_id: str
    bid_id: str
    ebay_item_id: str
    rest_item_id: str
    marketplace_id: str
    currency: str
    max_bid_amount: int
    status: BidStatus
    auction_end_time: int
    snipe_lead_seconds: int
    created_at: int
    updated_at: int
    item_title: str | None = None
    item_image_url: str | None = None
    item_url: str | None = None
    current_price: int | None = None
    schedule_name: str | None = None
    scheduled_for: int | None = None
    sent_at: int | None = None
    ebay_answered_at: int | None = None
    lateness_ms: int | None = None
    final_price: int | None = None
    reason: str | None = None
    # The executor's last sign of life while it waits (our clock): written by
    # `heartbeat` alone, without a version bump, so it never fails an edit.
    heartbeat_at: int | None = None
    version: int = 0

    @property
    def target_time(self) -> int:
        """When the bid is meant to reach eBay: the lead before the end."""
        return self.auction_end_time - self.snipe_lead_seconds

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    def to_item(self) -> dict[str, Any]:
        """The stored item; absent values are left out, never stored as null."""
        item: dict[str, Any] = {"sk": f"{BID_PREFIX}{self.bid_id}"}
        for name, attribute in _ATTRIBUTES.items():
            value = getattr(self, name)
            if value is not None:
                item[attribute] = value.value if name == "status" else value
        end = f"{sortable_time(self.auction_end_time)}#{self.bid_id}"
        item["statusEndKey"] = f"{self.status.value}#{end}"
        if self.is_active:
            item["activeEndKey"] = end
            item["statusBucket"] = self.status.value
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> StoredBid:
        """Tolerant: attributes this code does not know are ignored."""
        values: dict[str, Any] = {}
        for name, attribute in _ATTRIBUTES.items():
            value = item.get(attribute)
            if value is None:
                continue
            if name == "status":
                values[name] = BidStatus(value)
            elif name in _WHOLE_NUMBERS:
                values[name] = _whole(value, attribute)
            else:
                values[name] = str(value)
        return cls(**values)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


_ATTRIBUTES = {f.name: _camel(f.name) for f in fields(StoredBid)}
_WHOLE_NUMBERS = frozenset(
    f.name for f in fields(StoredBid) if f.type in ("int", "int | None")
)
# What an edit or a transition may change; the rest is the bid's identity, or
# kept by the repository itself (status, version, the executor's heartbeat).
CHANGEABLE = frozenset(_ATTRIBUTES) - {
    "user_id",
    "bid_id",
    "ebay_item_id",
    "status",
    "created_at",
    "version",
    "heartbeat_at",
}


def _whole(value: Any, attribute: str) -> int:
    """DynamoDB numbers come back as Decimal; ours are whole (cents, seconds)."""
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise ValueError(f"stored {attribute} {value} is not a whole number")
    return int(value)


@dataclass(frozen=True)
class InFlightBid:
    """What the sweeps' index holds of a bid still in flight."""

    user_id: str
    bid_id: str
    status: BidStatus
    auction_end_time: int
    ebay_item_id: str | None = None
    scheduled_for: int | None = None
    updated_at: int | None = None

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> InFlightBid:
        def number(attribute: str) -> int | None:
            value = item.get(attribute)
            return None if value is None else _whole(value, attribute)

        ebay_item_id = item.get("ebayItemId")
        return cls(
            user_id=str(item["userId"]),
            bid_id=str(item["sk"]).removeprefix(BID_PREFIX),
            status=BidStatus(item["statusBucket"]),
            auction_end_time=_whole(item["auctionEndTime"], "auctionEndTime"),
            ebay_item_id=None if ebay_item_id is None else str(ebay_item_id),
            scheduled_for=number("scheduledFor"),
            updated_at=number("updatedAt"),
        )


class DuplicateBid(Exception):
    """The user already has an active bid on this item."""

    def __init__(self, existing_bid_id: str) -> None:
        super().__init__(existing_bid_id)
        self.existing_bid_id = existing_bid_id


class BidAlreadyExists(Exception):
    """A bid with this id is stored already (a repeated create)."""


class BidNotFound(Exception):
    """The user has no bid with this id."""


class BidStateConflict(Exception):
    """The bid is not in a state the write expected; `current` is what is stored."""

    def __init__(self, current: StoredBid) -> None:
        super().__init__(f"bid {current.bid_id} is {current.status.value}")
        self.current = current


class BidRepository:
    """Bids, their item guards and their history entries, changed atomically."""

    def __init__(
        self,
        table_name: str,
        history: BidHistoryRepository,
        clock: Clock | None = None,
    ) -> None:
        self.table_name = table_name
        self.history = history
        self.clock = clock or SystemClock()

    @property
    def table(self) -> Any:
        return aws.table(self.table_name)

    # ------------------------------------------------------------ reads
    def get(self, user_id: str, bid_id: str) -> StoredBid | None:
        item = self.table.get_item(
            Key=bid_key(user_id, bid_id), ConsistentRead=True
        ).get("Item")
        return StoredBid.from_item(item) if item else None

    def holder_of(self, user_id: str, ebay_item_id: str) -> str | None:
        """The id of the user's active bid on the item (its guard's owner), if any."""
        item = self.table.get_item(
            Key=item_guard_key(user_id, ebay_item_id), ConsistentRead=True
        ).get("Item")
        owner = item.get("ownerId") if item else None
        return owner if isinstance(owner, str) and owner else None

    def list_active(
        self, user_id: str, limit: int = 20, cursor: dict[str, Any] | None = None
    ) -> Page[StoredBid]:
        """PENDING, EXECUTING and PLACED bids, soonest-ending first."""
        query: dict[str, Any] = {
            "IndexName": ACTIVE_INDEX,
            "KeyConditionExpression": Key("userId").eq(user_id),
            "ScanIndexForward": True,
            "ConsistentRead": True,
        }
        start = start_key(user_id, cursor, _ACTIVE_KEYS)
        if start is not None:
            query["ExclusiveStartKey"] = start
        items = collect(self.table, query, limit + 1)
        following = None
        if len(items) > limit:
            following = position_of(items[limit - 1], _ACTIVE_KEYS)
        return Page([StoredBid.from_item(item) for item in items[:limit]], following)

    def list_by_status(
        self,
        user_id: str,
        statuses: Collection[BidStatus],
        limit: int = 20,
        cursor: dict[str, Any] | None = None,
        *,
        latest_first: bool = False,
    ) -> Page[StoredBid]:
        """Bids in any of `statuses`, soonest-ending first (or latest first).

        One Query per status, each for a page and one more, merged by end time.
        The cursor keeps, per status not yet exhausted, where its last bid shown
        was, so no bid is skipped or shown twice.
        """
        wanted = sorted({BidStatus(status) for status in statuses})
        if not wanted:
            raise ValueError("give at least one status")
        requested = {status.value for status in wanted}
        positions: dict[str, Any] = dict.fromkeys(requested)
        if cursor is not None:
            carried = cursor.get("statuses")
            if not isinstance(carried, dict) or not set(carried) <= requested:
                raise InvalidCursor()
            positions = carried
        fetched: dict[str, list[dict[str, Any]]] = {}
        for status, position in positions.items():
            query: dict[str, Any] = {
                "IndexName": STATUS_INDEX,
                "KeyConditionExpression": Key("userId").eq(user_id)
                & Key("statusEndKey").begins_with(f"{status}#"),
                "ScanIndexForward": not latest_first,
                "ConsistentRead": True,
            }
            start = start_key(user_id, position, _STATUS_KEYS)
            if start is not None:
                query["ExclusiveStartKey"] = start
            fetched[status] = collect(self.table, query, limit + 1)
        merged = sorted(
            (item for items in fetched.values() for item in items),
            key=lambda item: str(item["statusEndKey"]).split("#", 1)[1],
            reverse=latest_first,
        )[:limit]
        following: dict[str, Any] = {}
        for status, items in fetched.items():
            shown = [item for item in merged if item["status"] == status]
            if len(shown) == len(items):
                continue  # every bid of this status has been shown
            following[status] = (
                position_of(shown[-1], _STATUS_KEYS) if shown else positions[status]
            )
        return Page(
            [StoredBid.from_item(item) for item in merged],
            {"statuses": following} if following else None,
        )

    def in_flight(
        self, bucket: BidStatus, ends_before: int, *, page_size: int = 100
    ) -> Iterator[InFlightBid]:
        """Bids in `bucket` (an active status) whose auction ends before the time.

        The index is eventually consistent: a sweep acts through `transition`,
        which re-reads and writes conditionally.
        """
        if bucket not in ACTIVE_STATUSES:
            raise ValueError(f"{bucket} bids are not in flight")
        query: dict[str, Any] = {
            "IndexName": SWEEP_INDEX,
            "KeyConditionExpression": Key("statusBucket").eq(bucket.value)
            & Key("auctionEndTime").lt(ends_before),
            "Limit": page_size,
        }
        while True:
            page = self.table.query(**query)
            for item in page.get("Items", []):
                yield InFlightBid.from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ------------------------------------------------------------ writes
    def create(self, bid: StoredBid, history_entry: HistoryEntry | None) -> StoredBid:
        """Store a new active bid, claim its item and append its history entry.

        One transaction. A guard left by a bid that is no longer active (which
        the transactions below never leave, but a restore or a hand edit might)
        is taken over rather than blocking the item forever.
        """
        if not bid.is_active:
            raise ValueError(f"a new bid is active, not {bid.status}")
        stored = replace(bid, version=1)
        guard_key = item_guard_key(bid.user_id, bid.ebay_item_id)
        stale: str | None = None
        holder: str | None = None
        for _ in range(ATTEMPTS):
            guard = (
                guards.claim(self.table_name, guard_key, bid.bid_id)
                if stale is None
                else self._take_over(guard_key, stale, bid.bid_id)
            )
            items = [
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": to_attribute_values(stored.to_item()),
                        "ConditionExpression": "attribute_not_exists(sk)",
                    }
                },
                guard,
            ]
            if history_entry is not None:
                items.append(self.history.put_item(history_entry))
            codes = self._transact(items)
            if not codes:
                return stored
            if _CONFLICT in codes:
                continue
            if codes[0] == _FAILED:
                raise BidAlreadyExists(bid.bid_id)
            if codes[1] != _FAILED:
                raise RuntimeError(f"creating bid {bid.bid_id} failed: {codes}")
            holder = self.holder_of(bid.user_id, bid.ebay_item_id)
            if holder is None:
                stale = None  # released meanwhile: claim it afresh
                continue
            holding = self.get(bid.user_id, holder)
            if holding is not None and holding.is_active:
                raise DuplicateBid(holder)
            logger.warning(
                "Taking over an item guard whose bid is no longer active",
                extra={"bid_id": bid.bid_id, "stale_bid_id": holder},
            )
            stale = holder
        if holder is not None:
            raise DuplicateBid(holder)
        raise RuntimeError(f"creating bid {bid.bid_id} kept conflicting")

    def transition(
        self,
        user_id: str,
        bid_id: str,
        expected_statuses: Collection[BidStatus],
        new_status: BidStatus,
        changes: Mapping[str, Any] | None = None,
        history_entry: HistoryEntry | None = None,
        *,
        expected_version: int | None = None,
    ) -> StoredBid:
        """Move the bid to `new_status` if it is in one of `expected_statuses`.

        `changes` sets other fields by their `StoredBid` names (None removes one);
        `updated_at` defaults to the history entry's time, else now. With
        `expected_version`, the bid must also be unchanged since it was read at
        that version. Leaving the active statuses releases the item guard; the
        entry is appended in the same transaction. Returns the bid as written;
        raises `BidStateConflict` (with the stored bid) or `BidNotFound`.
        """
        expected = frozenset(BidStatus(status) for status in expected_statuses)
        if new_status in ACTIVE_STATUSES and expected & FINAL_STATUSES:
            raise ValueError("a final bid never becomes active again")
        return self._write(
            user_id,
            bid_id,
            expected,
            self._applying(changes, history_entry, new_status),
            history_entry,
            expected_version,
        )

    def update_fields(
        self,
        user_id: str,
        bid_id: str,
        changes: Mapping[str, Any],
        history_entry: HistoryEntry | None,
        *,
        expected_statuses: Collection[BidStatus] = (BidStatus.PENDING,),
        expected_version: int | None = None,
    ) -> StoredBid:
        """An edit (new maximum, lead, schedule): same shape as `transition`, the
        status kept; by default only a PENDING bid may be edited, so an edit that
        races the executor's claim loses cleanly."""
        expected = frozenset(BidStatus(status) for status in expected_statuses)
        return self._write(
            user_id,
            bid_id,
            expected,
            self._applying(changes, history_entry, None),
            history_entry,
            expected_version,
        )

    def heartbeat(self, user_id: str, bid_id: str, at: int) -> StoredBid | None:
        """The sleeping executor's sign of life, and its re-read of the bid in the
        same call: one UpdateItem setting `heartbeatAt` while the bid is
        EXECUTING, answering the bid as it now stands (edits included).

        Neither `version` nor `updated_at` moves, so an edit or a cancel made at
        the version read before a heartbeat still succeeds. Not EXECUTING: the
        bid as stored, unchanged; no such bid: None. Other writes leave the
        attribute alone (their UpdateItem sets only what they change), so a
        heartbeat between their read and their write survives it.
        """
        try:
            answer = self.table.update_item(
                Key=bid_key(user_id, bid_id),
                UpdateExpression="SET #heartbeat = :at",
                ConditionExpression="attribute_exists(#sk) AND #status = :executing",
                ExpressionAttributeNames={
                    "#heartbeat": "heartbeatAt",
                    "#sk": "sk",
                    "#status": "status",
                },
                ExpressionAttributeValues={
                    ":at": at,
                    ":executing": BidStatus.EXECUTING.value,
                },
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            stored = error.response.get("Item")
            return (
                StoredBid.from_item(from_attribute_values(stored)) if stored else None
            )
        return StoredBid.from_item(answer["Attributes"])

    def erase(self, user_id: str) -> int:
        """Account deletion: every bid and guard of the user."""
        return UserPartition(self.table_name, ("userId", "sk")).erase(user_id)

    # ------------------------------------------------------------ internals
    def _applying(
        self,
        changes: Mapping[str, Any] | None,
        history_entry: HistoryEntry | None,
        new_status: BidStatus | None,
    ) -> Callable[[StoredBid], StoredBid]:
        values = dict(changes or {})
        unknown = set(values) - CHANGEABLE
        if unknown:
            raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
        if "updated_at" not in values:
            values["updated_at"] = (
                history_entry.timestamp
                if history_entry is not None
                else int(self.clock.now())
            )

        def apply(current: StoredBid) -> StoredBid:
            status = current.status if new_status is None else new_status
            return replace(
                current, **values, status=status, version=current.version + 1
            )

        return apply

    def _write(
        self,
        user_id: str,
        bid_id: str,
        expected: frozenset[BidStatus],
        apply: Callable[[StoredBid], StoredBid],
        history_entry: HistoryEntry | None,
        expected_version: int | None,
    ) -> StoredBid:
        release_guard = True
        current: StoredBid | None = None
        for _ in range(ATTEMPTS):
            current = self.get(user_id, bid_id)
            if current is None:
                raise BidNotFound(bid_id)
            if current.status not in expected or expected_version not in (
                None,
                current.version,
            ):
                raise BidStateConflict(current)
            written = apply(current)
            items: list[dict[str, Any]] = [
                {"Update": self._update(current, written, expected)}
            ]
            releasing = release_guard and current.is_active and not written.is_active
            if releasing:
                items.append(
                    guards.release(
                        self.table_name,
                        item_guard_key(user_id, current.ebay_item_id),
                        bid_id,
                    )
                )
            if history_entry is not None:
                items.append(self.history.put_item(history_entry))
            codes = self._transact(items)
            if not codes:
                return written
            if _CONFLICT in codes or codes[0] == _FAILED:
                continue  # changed since read: read again
            if releasing and codes[1] == _FAILED:
                # The guard names another bid (never left by these writes): the
                # bid still leaves ACTIVE; that other bid keeps its guard.
                logger.warning(
                    "Item guard held by another bid; left in place",
                    extra={"bid_id": bid_id},
                )
                release_guard = False
                continue
            raise RuntimeError(f"writing bid {bid_id} failed: {codes}")
        latest = self.get(user_id, bid_id)
        if latest is None:
            raise BidNotFound(bid_id)
        raise BidStateConflict(latest)

    def _update(
        self, current: StoredBid, written: StoredBid, expected: frozenset[BidStatus]
    ) -> dict[str, Any]:
        """An UpdateItem of what differs, conditional on the version read; other
        attributes (written by newer code, say) are left as they are."""
        before, after = current.to_item(), written.to_item()
        names: dict[str, str] = {"#version": "version", "#status": "status"}
        values: dict[str, Any] = {":version": current.version}
        assignments, removals = [], []
        for index, (attribute, value) in enumerate(after.items()):
            if before.get(attribute) != value:
                names[f"#s{index}"] = attribute
                values[f":s{index}"] = value
                assignments.append(f"#s{index} = :s{index}")
        for index, attribute in enumerate(a for a in before if a not in after):
            names[f"#r{index}"] = attribute
            removals.append(f"#r{index}")
        statuses = []
        for index, status in enumerate(sorted(expected)):
            values[f":e{index}"] = status.value
            statuses.append(f":e{index}")
        expression = "SET " + ", ".join(assignments)
        if removals:
            expression += " REMOVE " + ", ".join(removals)
        return {
            "TableName": self.table_name,
            "Key": to_attribute_values(bid_key(current.user_id, current.bid_id)),
            "UpdateExpression": expression,
            "ConditionExpression": (
                f"#version = :version AND #status IN ({', '.join(statuses)})"
            ),
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_attribute_values(values),
        }

    def _take_over(
        self, key: dict[str, str], stale_owner: str, owner: str
    ) -> dict[str, Any]:
        """A transaction item moving a guard from a bid no longer active."""
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": to_attribute_values({**key, "ownerId": owner}),
                "ConditionExpression": "ownerId = :stale",
                "ExpressionAttributeValues": to_attribute_values(
                    {":stale": stale_owner}
                ),
            }
        }

    @staticmethod
    def _transact(items: list[dict[str, Any]]) -> list[str]:
        """Run a transaction; [] when it committed, else each item's reason."""
        try:
            aws.dynamodb_client().transact_write_items(TransactItems=items)
        except ClientError as error:
            if not is_transaction_cancelled(error):
                raise
            return cancellation_codes(error)
        return []
