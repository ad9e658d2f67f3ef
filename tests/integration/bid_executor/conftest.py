"""The Bid Executor against moto and the eBay emulator over HTTP, on a fast clock.

A snipe here takes seconds: auctions end 3-4 s after they are listed, leads are
3 s and the settings shrink every wait (`FAST_TIMING`). Bids are written through
`BidRepository.create` from the emulator's own Browse answer, as Bid Management
writes them; the executor runs through its handler, as Scheduler invokes it.
"""

from __future__ import annotations

import io
import math
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto.core.config import default_user_config
from pydantic import SecretStr

from sniper import composition, composition_bids, composition_snipe, notify
from sniper.models.snipe import BidExecutionEvent, BidNotificationEvent, ExecutionKind
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.notify import LambdaNotifier
from sniper.repositories.bid_history import HistoryEntry
from sniper.repositories.bids import StoredBid, new_bid_id
from sniper.repositories.ebay_links import StoredEbayLink
from sniper.token_cipher import TokenCipher
from tests.conftest import MockedAws, reset_containers
from tests.support.ebay_world import EbayWorld
from tests.support.handlers import ALICE, StubContext, load_function
from tests.support.snipes import SnipeWorld, scheduling

EBAY_USER = "ebay-alice"
NOTIFICATION_FUNCTION = "notification-handler-test"
FAST_TIMING = {
    "OUTCOME_WAIT_SECONDS": "2",
    "OUTCOME_RECHECK_SECONDS": "60",
    "BID_RECHECK_SECONDS": "0.5",
    "SNIPE_WARMUP_SECONDS": "0.5",
    "BID_TIMEOUT_SECONDS": "0.6",
}
LEAD = 3


class SnipeContext(StubContext):
    """A Lambda context with the executor's 300 s to run."""

    def __init__(self, seconds: float = 300) -> None:
        self._deadline = time.time() + seconds

    def get_remaining_time_in_millis(self) -> int:  # type: ignore[override]
        return int((self._deadline - time.time()) * 1000)


class RecordingNotifier(LambdaNotifier):
    """The real notifier (an async invoke of moto's Lambda), remembering what it
    sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[BidNotificationEvent] = []

    def send(self, event: Any) -> None:
        super().send(event)
        self.sent.append(event)


@dataclass
class Sniping:
    """One test's eBay, AWS and executor."""

    ebay: EbayWorld
    schedules: SnipeWorld
    notifier: RecordingNotifier
    module: Any = field(repr=False)

    # ------------------------------------------------------------ setting up
    def link(self, username: str = EBAY_USER) -> StoredEbayLink:
        """Alice's eBay account, linked with a fresh token pair from the emulator."""
        grant = self.ebay.admin("POST", f"/users/{username}/tokens").json()
        ebay_user = self.ebay.admin("GET", f"/users/{username}").json()
        now = int(time.time())
        cipher = TokenCipher(self.ebay.key_arn)
        link = StoredEbayLink(
            user_id=ALICE,
            ebay_user_id=ebay_user["userId"],
            ebay_username=username,
            access_token_ciphertext=cipher.encrypt(
                ALICE, _secret(grant["access_token"])
            ),
            access_token_expires_at=now + int(grant["expires_in"]),
            refresh_token_ciphertext=cipher.encrypt(
                ALICE, _secret(grant["refresh_token"])
            ),
            refresh_token_expires_at=now + int(grant["refresh_token_expires_in"]),
            linked_at=now,
            updated_at=now,
        )
        composition.ebay_links().save(link)
        return link

    def auction(self, ends_in: float = LEAD + 0.6, **spec: Any) -> dict[str, Any]:
        """A listing ending on a whole second `ends_in` seconds from now or a little
        later (eBay's end times are whole seconds, and so is a bid's)."""
        end = math.ceil(time.time() + ends_in)
        spec.setdefault("startPrice", 1000)
        spec.setdefault("seller", "seller1")
        spec["endTime"] = datetime.fromtimestamp(end, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        listing: dict[str, Any] = self.ebay.admin("POST", "/listings", json=spec).json()
        return listing

    def bid(
        self, listing: dict[str, Any], max_bid: int = 2500, lead: int = LEAD
    ) -> StoredBid:
        """A PENDING bid on the listing, as Bid Management stores it."""
        item = composition.ebay_client().get_item_by_legacy_id(listing["itemId"])
        assert item.item_end_date is not None
        now = int(time.time())
        current = item.current_bid_price or item.price
        bid = StoredBid(
            user_id=ALICE,
            bid_id=new_bid_id(),
            ebay_item_id=listing["itemId"],
            rest_item_id=item.item_id,
            marketplace_id=item.marketplace_id or "EBAY_US",
            currency=listing["currency"],
            max_bid_amount=max_bid,
            status=BidStatus.PENDING,
            auction_end_time=item.item_end_date,
            snipe_lead_seconds=lead,
            created_at=now,
            updated_at=now,
            item_title=item.title,
            current_price=current.cents if current else None,
            schedule_name=f"snipe-{listing['itemId']}",
            scheduled_for=item.item_end_date - lead - 2,
        )
        entry = HistoryEntry.new(
            user_id=ALICE,
            bid_id=bid.bid_id,
            action=HistoryAction.CREATE,
            ebay_item_id=bid.ebay_item_id,
            bid_amount=max_bid,
            now=now,
        )
        return composition_bids.bid_repository().create(bid, entry)

    # ------------------------------------------------------------ running
    @staticmethod
    def event(
        bid: StoredBid,
        kind: ExecutionKind = ExecutionKind.SNIPE,
        attempt: int = 1,
    ) -> dict[str, Any]:
        """What the bid's schedule hands the executor."""
        return BidExecutionEvent(
            bidId=bid.bid_id,
            userId=bid.user_id,
            kind=kind,
            attempt=attempt,
            ebayItemId=bid.ebay_item_id,
            auctionEndTime=bid.auction_end_time,
            maxBidAmount=bid.max_bid_amount,
        ).model_dump(mode="json", exclude_none=True)

    def run(self, event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = self.module.handler(event, SnipeContext())
        return result

    # ------------------------------------------------------------ looking
    @staticmethod
    def stored(bid: StoredBid) -> StoredBid:
        current = composition_bids.bid_repository().get(bid.user_id, bid.bid_id)
        assert current is not None
        return current

    @staticmethod
    def history(bid: StoredBid) -> list[HistoryEntry]:
        return composition_bids.bid_history_repository().timeline(
            bid.user_id, bid.bid_id
        )

    def actions(self, bid: StoredBid) -> list[HistoryAction]:
        return [entry.action for entry in self.history(bid)]

    def entry(self, bid: StoredBid, action: HistoryAction) -> HistoryEntry:
        (found,) = [e for e in self.history(bid) if e.action is action]
        return found

    def on_ebay(self, listing: dict[str, Any]) -> dict[str, Any]:
        """The listing as the emulator holds it now, every bid included."""
        result: dict[str, Any] = self.ebay.admin(
            "GET", f"/listings/{listing['itemId']}"
        ).json()
        return result

    def our_bids(self, listing: dict[str, Any]) -> list[dict[str, Any]]:
        """Every bid of ours that reached the auction, refused ones too."""
        return [
            bid for bid in self.on_ebay(listing)["bids"] if bid["bidder"] == EBAY_USER
        ]

    def calls(self, method: str, path_part: str) -> list[dict[str, Any]]:
        journal: list[dict[str, Any]] = self.ebay.admin("GET", "/requests").json()
        return [
            call
            for call in journal
            if call["method"] == method and path_part in call["path"]
        ]


def iso_seconds(text: str) -> float:
    """The emulator's ISO 8601 instants (milliseconds, Z) as Unix seconds."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def in_thread(target: Any, *args: Any) -> tuple[threading.Thread, list[Any]]:
    results: list[Any] = []
    thread = threading.Thread(target=lambda: results.append(target(*args)))
    thread.start()
    return thread, results


def _secret(value: str) -> SecretStr:
    return SecretStr(value)


def _notification_function() -> None:
    """The Notification Handler as moto's Lambda knows it (no code runs)."""
    role = boto3.client("iam").create_role(
        RoleName="notification-handler",
        AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}',
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    boto3.client("lambda").create_function(
        FunctionName=NOTIFICATION_FUNCTION,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )


@pytest.fixture
def sniping(
    ebay: EbayWorld, mocked_aws: MockedAws, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Sniping]:
    # moto runs no Lambda code without Docker: invokes are accepted, not run.
    monkeypatch.setitem(default_user_config["lambda"], "use_docker", False)
    for name, value in FAST_TIMING.items():
        monkeypatch.setenv(name, value)
    schedules = scheduling(monkeypatch, margin_seconds=2)
    monkeypatch.setenv("NOTIFICATION_FUNCTION_NAME", NOTIFICATION_FUNCTION)
    _notification_function()
    notifier = RecordingNotifier()
    # The builders import it when they build; patched where they find it.
    monkeypatch.setattr(notify, "LambdaNotifier", lambda: notifier)
    reset_containers()
    composition_bids.reset()
    composition_snipe.reset()
    yield Sniping(
        ebay=ebay,
        schedules=schedules,
        notifier=notifier,
        module=load_function("bid_executor"),
    )
    composition_snipe.reset()
    composition_bids.reset()
