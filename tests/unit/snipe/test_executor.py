"""The snipe's rules on a fake clock: every wait is instant and every eBay answer is
scripted, so the races and failures the integration tests cannot time exactly are
played here move by move. Bids live in moto's tables (the real repository), made
once for the module: every test writes bids of its own."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.metrics import MetricUnit
from moto import mock_aws
from pydantic import SecretStr

from local.template.loader import load_template
from local.template.tables import create_tables
from sniper import aws
from sniper.ebay import (
    Bidding,
    EbayAuthError,
    EbayBidRejected,
    EbayConnectionError,
    EbayItemNotFound,
    EbayNoBiddingActivity,
    EbayRateLimited,
    EbayTimeout,
    EbayTransientError,
    ItemDetails,
    ProxyBid,
)
from sniper.errors import EbayRelinkRequiredError
from sniper.models.snipe import (
    BidExecutionEvent,
    BidNotificationEvent,
    ExecutionKind,
)
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.money import Money
from sniper.repositories.bid_history import BidHistoryRepository
from sniper.repositories.bids import BidRepository, StoredBid
from sniper.snipe.executor import (
    HELD_UP,
    ITEM_GONE,
    NEVER_REPORTED,
    NOT_TAKEN,
    RELINK,
    TOO_LATE,
)
from sniper.snipe.scheduling import ScheduledSnipe
from sniper.snipe.timing import SnipeTiming
from tests.support.atomic_moto import atomic_moto
from tests.support.bids import a_bid
from tests.support.handlers import ROOT

START = 1_764_028_800.0
END = int(START) + 100
LEAD = 5
TIMING = SnipeTiming(
    margin_seconds=90,
    cutoff_seconds=1.0,
    outcome_wait_seconds=60,
    outcome_recheck_seconds=300,
    warmup_seconds=2.0,
    bid_timeout_seconds=2.0,
    recheck_seconds=10.0,
    outcome_checks=3,
)
Behaviour = Callable[[], str] | Exception | str


class FakeClock:
    """Time moves only when the executor sleeps or eBay takes its time."""

    def __init__(self) -> None:
        self.now_value = START
        self.slept: list[float] = []

    def now(self) -> float:
        return self.now_value

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now_value += seconds


class FakeEbay:
    """One auction that ends at END; it remembers the bids it accepted."""

    LATENCY = 0.05

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.offset: float | None = 0.0
        self.minimum = Money(1000, "USD")
        self.on_place: list[Behaviour] = []
        self.on_bidding: list[Behaviour] = []
        self.accepted: list[tuple[float, int]] = []
        self.calls: list[tuple[str, float]] = []
        self.rival_max = 0
        self.bidding_down_until = 0.0  # getBidding answers 503 until then

    @property
    def server_time_offset(self) -> float | None:
        return self.offset

    def get_item(self, item_id: str, *, timeout: float | None = None) -> ItemDetails:
        self._call("get_item")
        return ItemDetails(
            item_id=item_id,
            title="Leica M6",
            buying_options=("AUCTION",),
            minimum_price_to_bid=self.minimum,
            item_end_date=END,
        )

    def place_proxy_bid(
        self,
        access_token: str,
        item_id: str,
        max_amount: Money,
        *,
        adult_consent: bool = False,
        marketplace_id: str | None = None,
        timeout: float | None = None,
    ) -> str:
        self._call("place")
        behaviour = self.on_place.pop(0) if self.on_place else "ok"
        if behaviour == "placed, answer lost":
            self.accepted.append((self.clock.now(), max_amount.cents))
            self.clock.now_value += timeout or 0
            raise EbayTimeout("eBay did not answer in time", phase="read")
        if isinstance(behaviour, Exception):
            raise behaviour
        self.accepted.append((self.clock.now(), max_amount.cents))
        return f"proxy-{len(self.accepted)}"

    def get_bidding(
        self,
        access_token: str,
        item_id: str,
        *,
        marketplace_id: str | None = None,
        timeout: float | None = None,
    ) -> Bidding:
        self._call("bidding")
        behaviour = self.on_bidding.pop(0) if self.on_bidding else "state"
        if isinstance(behaviour, Exception):
            raise behaviour
        if self.clock.now() < self.bidding_down_until:
            raise transient()
        if not self.accepted:
            raise EbayNoBiddingActivity("no bidding activity", error_id=120033)
        ours = self.accepted[-1][1]
        return Bidding(
            auction_status="ENDED" if self.clock.now() > END else "ACTIVE",
            current_price=Money(min(ours, max(self.rival_max + 100, 1000)), "USD"),
            current_proxy_bid=ProxyBid(
                proxy_bid_id="proxy-1", max_amount=Money(ours, "USD")
            ),
            high_bidder=ours > self.rival_max,
        )

    def _call(self, name: str) -> None:
        self.calls.append((name, self.clock.now()))
        self.clock.now_value += self.LATENCY

    def count(self, name: str) -> int:
        return sum(1 for call, _ in self.calls if call == name)


class FakeTokens:
    def __init__(self) -> None:
        self.error: Exception | None = None
        self.asked: list[tuple[float | None, bool]] = []

    def access_token(
        self,
        user_id: str,
        valid_until: float | None = None,
        *,
        force_refresh: bool = False,
    ) -> SecretStr:
        self.asked.append((valid_until, force_refresh))
        if self.error is not None:
            raise self.error
        return SecretStr("token-refreshed" if force_refresh else "token")


class FakeChecks:
    def __init__(self) -> None:
        self.scheduled: list[dict[str, Any]] = []

    def schedule_outcome_check(self, **request: Any) -> ScheduledSnipe:
        self.scheduled.append(request)
        return ScheduledSnipe(f"outcome-{request['attempt']}", END + 300)


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[BidNotificationEvent] = []

    def send(self, event: BidNotificationEvent) -> None:
        self.sent.append(event)


class FakeMetrics:
    def __init__(self) -> None:
        self.added: list[tuple[str, MetricUnit, float]] = []

    def add_metric(self, name: str, unit: MetricUnit, value: float) -> None:
        self.added.append((name, unit, value))

    def values(self, name: str) -> list[float]:
        return [value for added, _, value in self.added if added == name]


class RacingBids:
    """The real repository, with someone else's write slipped in just before the
    executor's first commit to send (the race a user's edit can win). It also
    counts the executor's reads and remembers its heartbeats."""

    def __init__(self, bids: BidRepository) -> None:
        self.bids = bids
        self.before_commit: Callable[[], None] | None = None
        self.reads = 0
        self.beats: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bids, name)

    def get(self, user_id: str, bid_id: str) -> StoredBid | None:
        self.reads += 1
        return self.bids.get(user_id, bid_id)

    def heartbeat(self, user_id: str, bid_id: str, at: int) -> StoredBid | None:
        self.beats.append(at)
        return self.bids.heartbeat(user_id, bid_id, at)

    def update_fields(self, *args: Any, **kwargs: Any) -> StoredBid:
        if self.before_commit is not None and "sent_at" in args[2]:
            race, self.before_commit = self.before_commit, None
            race()
        return self.bids.update_fields(*args, **kwargs)


class World:
    def __init__(self, tables: dict[str, str]) -> None:
        self.clock = FakeClock()
        self.ebay = FakeEbay(self.clock)
        self.tokens = FakeTokens()
        self.checks = FakeChecks()
        self.notifier = FakeNotifier()
        self.metrics = FakeMetrics()
        history = BidHistoryRepository(tables["BidHistoryTable"])
        self.repository = BidRepository(tables["BidsTable"], history)
        self.bids = RacingBids(self.repository)
        self.history = history

    def executor(self, timing: SnipeTiming = TIMING) -> Any:
        from sniper.snipe.executor import SnipeExecutor

        return SnipeExecutor(
            self.bids,
            self.tokens,
            self.ebay,
            self.checks,
            self.notifier,
            timing,
            clock=self.clock,
            sleep=self.clock.sleep,
            metrics=self.metrics,
        )

    def bid(self, **fields: Any) -> StoredBid:
        bid = a_bid(
            ends_at=END,
            snipe_lead_seconds=LEAD,
            created_at=int(START) - 3600,
            updated_at=int(START) - 3600,
            **fields,
        )
        return self.repository.create(bid, None)

    def run(
        self,
        bid: StoredBid,
        kind: ExecutionKind = ExecutionKind.SNIPE,
        attempt: int = 1,
    ) -> Any:
        event = BidExecutionEvent(
            bidId=bid.bid_id, userId=bid.user_id, kind=kind, attempt=attempt
        )
        return self.executor().execute(event)

    def stored(self, bid: StoredBid) -> StoredBid:
        current = self.repository.get(bid.user_id, bid.bid_id)
        assert current is not None
        return current

    def edit(
        self, bid: StoredBid, changes: dict[str, Any], *, version: int | None = None
    ) -> StoredBid:
        """A user's edit of the bid while the executor holds it (Bid
        Management's write, at `version` when it read one)."""
        return self.repository.update_fields(
            bid.user_id,
            bid.bid_id,
            changes,
            None,
            expected_statuses=(BidStatus.EXECUTING,),
            expected_version=version,
        )

    def actions(self, bid: StoredBid) -> list[HistoryAction]:
        return [e.action for e in self.history.timeline(bid.user_id, bid.bid_id)]


@pytest.fixture(scope="module")
def tables() -> Iterator[dict[str, str]]:
    """moto's Bids and BidHistory tables, from the template, for the module."""
    with mock_aws(), atomic_moto():
        aws.reset_clients()
        template = load_template(ROOT / "template.yaml")
        yield create_tables(boto3.client("dynamodb"), template, stage="test")
    aws.reset_clients()


@pytest.fixture
def world(tables: dict[str, str]) -> World:
    return World(tables)


def transient(status: int = 503) -> EbayTransientError:
    return EbayTransientError("eBay failed", error_id=120000, http_status=status)


# ---------------------------------------------------------------- timing
def test_the_bid_goes_out_at_the_target_on_ebays_clock(world: World) -> None:
    world.ebay.offset = 1.5  # eBay's clock is ahead of ours
    bid = world.bid()

    result = world.run(bid)

    (sent_at,) = [moment for name, moment in world.ebay.calls if name == "place"]
    assert sent_at + 1.5 == pytest.approx(bid.target_time, abs=0.001)
    assert [amount for _, amount in world.ebay.accepted] == [2500]
    assert result.status is BidStatus.WON
    assert world.stored(bid).lateness_ms == 0
    assert world.metrics.values("SnipeLatenessMs") == [0]
    # Woken at the margin: the item read at once, again 2 s before the target.
    reads = [moment + 1.5 for name, moment in world.ebay.calls if name == "get_item"]
    assert reads[0] == pytest.approx(START + 1.5, abs=0.01)
    assert reads[1] == pytest.approx(bid.target_time - 2, abs=0.01)
    # The user's token must outlive the outcome wait.
    assert world.tokens.asked[0] == (END + 60, False)


def once_during_the_sleep(
    world: World, executor: Any, action: Callable[[], None]
) -> None:
    """`action` (a user's write, a stall), once, at the executor's first wake-up
    30 s into the wait."""
    done: list[bool] = []

    def sleep(seconds: float) -> None:
        world.clock.sleep(seconds)
        if not done and world.clock.now() > START + 30:
            done.append(True)
            action()

    executor.sleep = sleep


def test_a_lead_edited_during_the_wait_moves_the_target(world: World) -> None:
    bid = world.bid()
    executor = world.executor()

    once_during_the_sleep(
        world, executor, lambda: world.edit(bid, {"snipe_lead_seconds": 3})
    )
    executor.execute(BidExecutionEvent(bidId=bid.bid_id, userId=bid.user_id))

    (sent_at,) = [moment for name, moment in world.ebay.calls if name == "place"]
    assert sent_at == pytest.approx(END - 3, abs=0.001)


def test_an_earlier_lead_already_past_bids_at_once(world: World) -> None:
    bid = world.bid()
    executor = world.executor()
    edited: list[float] = []

    def earlier_lead(seconds: float) -> None:
        world.clock.sleep(seconds)
        if not edited and world.clock.now() > END - 40:
            edited.append(world.clock.now())
            world.edit(bid, {"snipe_lead_seconds": 60})

    executor.sleep = earlier_lead
    executor.execute(BidExecutionEvent(bidId=bid.bid_id, userId=bid.user_id))

    ((sent_at, _),) = world.ebay.accepted
    # Seen at the next re-read (at most recheck_seconds later), sent right away.
    assert edited[0] <= sent_at <= edited[0] + TIMING.recheck_seconds + 0.5


# ---------------------------------------------------------------- the heartbeat
def test_the_wait_beats_a_heartbeat_at_every_recheck_instead_of_reading(
    world: World,
) -> None:
    bid = world.bid()

    result = world.run(bid)

    assert result.status is BidStatus.WON
    beats = world.bids.beats
    # Woken 95 s before the target: one beat per 10 s of sleep, one at the last
    # look (2 s before the target) and one at the commit (0.2 s before it).
    assert len(beats) == 11
    assert beats[0] <= START + TIMING.recheck_seconds + 1
    gaps = [b - a for a, b in itertools.pairwise(beats)]
    assert all(0 < gap <= TIMING.recheck_seconds + 1 for gap in gaps), gaps
    assert beats[-1] == math.ceil(bid.target_time - TIMING.commit_ahead_seconds)
    assert world.bids.reads == 0  # each re-read is the heartbeat's answer
    stored = world.stored(bid)
    assert stored.heartbeat_at == beats[-1]
    # Claim, commit, PLACED, WON: the heartbeats bumped no version.
    assert stored.version == bid.version + 4


def test_a_cancel_during_the_sleep_stops_at_the_next_heartbeat(
    world: World,
) -> None:
    bid = world.bid()
    executor = world.executor()
    cancelled: list[float] = []

    def cancel() -> None:
        cancelled.append(world.clock.now())
        world.repository.transition(
            bid.user_id,
            bid.bid_id,
            (BidStatus.EXECUTING,),
            BidStatus.CANCELLED,
            {"reason": "Cancelled by you."},
        )

    once_during_the_sleep(world, executor, cancel)
    result = executor.execute(BidExecutionEvent(bidId=bid.bid_id, userId=bid.user_id))

    assert result.skipped == "the bid became CANCELLED meanwhile"
    assert world.ebay.count("place") == 0
    assert world.notifier.sent == []
    # The beat that found it cancelled wrote nothing: the last one stored is
    # from before the cancel.
    stored = world.stored(bid)
    assert stored.status is BidStatus.CANCELLED
    assert stored.heartbeat_at == world.bids.beats[-2] < cancelled[0]


def test_an_edit_at_the_version_read_before_a_heartbeat_is_what_ebay_gets(
    world: World,
) -> None:
    """The heartbeat bumps no version: a user's edit made with the version read
    before it (Bid Management reads, then writes) still succeeds, and the
    executor follows it."""
    bid = world.bid()
    executor = world.executor()
    edited: list[int] = []

    def edit_across_a_heartbeat() -> None:
        read = world.stored(bid)  # what the user's PUT read
        world.bids.bids.heartbeat(bid.user_id, bid.bid_id, int(START) + 31)
        world.edit(bid, {"max_bid_amount": 4000}, version=read.version)
        edited.append(read.version)

    once_during_the_sleep(world, executor, edit_across_a_heartbeat)
    result = executor.execute(BidExecutionEvent(bidId=bid.bid_id, userId=bid.user_id))

    assert edited
    assert result.status is BidStatus.WON
    assert [amount for _, amount in world.ebay.accepted] == [4000]


def test_an_executor_taken_for_dead_stops_at_its_next_heartbeat(
    world: World,
) -> None:
    """Stalled past the sweep's heartbeat grace, the claim is released (as the
    sweep writes it) and the snipe started again: the original, waking, finds
    the bid no longer EXECUTING and stops; the rerun's bid is the only one."""
    bid = world.bid()
    original = world.executor()

    def stall_and_release() -> None:
        world.clock.sleep(40)  # a stall: no heartbeat for 50 s
        claim = world.stored(bid)
        world.repository.transition(
            bid.user_id,
            bid.bid_id,
            (BidStatus.EXECUTING,),
            BidStatus.PENDING,
            None,
            expected_version=claim.version,
        )

    once_during_the_sleep(world, original, stall_and_release)
    first = original.execute(BidExecutionEvent(bidId=bid.bid_id, userId=bid.user_id))
    rerun = world.run(bid)

    assert first.skipped == "the bid became PENDING meanwhile"
    assert rerun.status is BidStatus.WON
    assert [amount for _, amount in world.ebay.accepted] == [2500]
    assert world.ebay.count("place") == 1


def test_woken_after_the_cutoff_fails_without_bidding(world: World) -> None:
    bid = world.bid()
    world.clock.now_value = END - 0.5

    result = world.run(bid)

    assert (result.status, result.reason) == (BidStatus.FAILED, TOO_LATE)
    assert world.ebay.calls == []
    assert [n.status for n in world.notifier.sent] == [BidStatus.FAILED]


def test_a_commit_answered_past_the_cutoff_fails_without_blaming_ebay(
    world: World,
) -> None:
    """The commit to send is a DynamoDB write; one that comes back after the
    last moment worth sending (seen on an overloaded local stack) sends nothing,
    and the reason says so rather than "eBay kept failing"."""
    bid = world.bid()

    def slow_write() -> None:
        world.clock.now_value = END - 0.5

    world.bids.before_commit = slow_write

    result = world.run(bid)

    assert (result.status, result.reason) == (BidStatus.FAILED, HELD_UP)
    assert [name for name, _ in world.ebay.calls] == ["get_item", "get_item"]
    assert world.ebay.accepted == []


def test_a_token_read_that_outlasts_the_cutoff_does_not_blame_ebay(
    world: World,
) -> None:
    """Seen in the fault campaign: a rerun claimed the bid a second before the
    cutoff, its token read (DynamoDB, KMS) took that second, and the item read
    that could no longer start told the user "eBay could not be reached"."""
    bid = world.bid()
    world.clock.now_value = END - 2.0
    asked = world.tokens.access_token

    def slow_token(*args: Any, **kwargs: Any) -> SecretStr:
        world.clock.now_value = END - 0.5  # past the 1 s cutoff
        return asked(*args, **kwargs)

    world.tokens.access_token = slow_token  # type: ignore[method-assign]

    result = world.run(bid)

    assert (result.status, result.reason) == (BidStatus.FAILED, HELD_UP)
    assert world.ebay.calls == []


def browse_serving_live_listings_only(world: World) -> Callable[..., ItemDetails]:
    """Browse as eBay runs it: an auction past its end is a 404, like one the
    seller ended early or eBay removed."""
    serve = world.ebay.get_item

    def get_item(item_id: str, *, timeout: float | None = None) -> ItemDetails:
        if world.clock.now() >= END:
            world.ebay.calls.append(("get_item", world.clock.now()))
            raise EbayItemNotFound("no such item", error_id=11001, http_status=404)
        return serve(item_id, timeout=timeout)

    return get_item


def test_a_last_read_after_the_end_blames_the_delay_not_the_seller(
    world: World,
) -> None:
    """Seen in the fault campaign on an overloaded stack: the wait overslept the
    end, the last item read met Browse's 404 for any ended auction, and the user
    was told the auction "ended early or was removed"."""
    bid = world.bid()
    world.ebay.get_item = browse_serving_live_listings_only(world)  # type: ignore[method-assign]

    def overslept(seconds: float) -> None:  # the machine stalled the wait
        world.clock.slept.append(seconds)
        world.clock.now_value = max(world.clock.now_value + seconds, END + 0.5)

    world.clock.sleep = overslept  # type: ignore[method-assign]

    result = world.run(bid)

    assert (result.status, result.reason) == (BidStatus.FAILED, HELD_UP)
    assert world.ebay.accepted == []


def test_a_listing_gone_before_the_end_ended_early(world: World) -> None:
    bid = world.bid()

    def gone(item_id: str, *, timeout: float | None = None) -> ItemDetails:
        raise EbayItemNotFound("no such item", error_id=11001, http_status=404)

    world.ebay.get_item = gone  # type: ignore[method-assign]

    result = world.run(bid)

    assert (result.status, result.reason) == (BidStatus.FAILED, ITEM_GONE)


# ---------------------------------------------------------------- races
def test_an_edit_that_wins_the_race_with_the_commit_is_what_ebay_gets(
    world: World,
) -> None:
    bid = world.bid()

    def edit() -> None:
        world.edit(bid, {"max_bid_amount": 4000}, version=world.stored(bid).version)

    world.bids.before_commit = edit

    world.run(bid)

    assert [amount for _, amount in world.ebay.accepted] == [4000]


def test_a_cancel_that_wins_the_race_with_the_commit_means_no_bid(
    world: World,
) -> None:
    bid = world.bid()

    def cancel() -> None:
        world.repository.transition(
            bid.user_id,
            bid.bid_id,
            (BidStatus.EXECUTING,),
            BidStatus.CANCELLED,
            {"reason": "Cancelled by you."},
        )

    world.bids.before_commit = cancel

    result = world.run(bid)

    assert result.skipped == "the bid became CANCELLED meanwhile"
    assert world.ebay.count("place") == 0
    assert world.notifier.sent == []


def test_a_bid_already_claimed_is_left_alone(world: World) -> None:
    bid = world.bid(status=BidStatus.EXECUTING)

    result = world.run(bid)

    assert result.skipped == "the bid is EXECUTING"
    assert world.ebay.calls == []


# ---------------------------------------------------------------- eBay failing
def test_persistent_5xx_fails_the_bid_and_tells_the_user(world: World) -> None:
    world.ebay.on_place = [transient() for _ in range(100)]
    bid = world.bid()

    result = world.run(bid)

    assert result.status is BidStatus.FAILED
    assert result.reason == (
        "eBay kept failing until the auction's last second (HTTP 503); no bid was "
        "placed."
    )
    assert world.ebay.accepted == []
    # Retried with back-off (0.2 s, 0.4 s, then 1 s) between target and cutoff.
    assert world.ebay.count("place") == 6
    last_try = max(moment for name, moment in world.ebay.calls if name == "place")
    assert last_try < TIMING.cutoff(END)
    (told,) = world.notifier.sent
    assert (told.status, told.reason, told.bidAmount) == (
        BidStatus.FAILED,
        result.reason,
        2500,
    )
    assert world.metrics.values("BidFailed") == [1]
    assert world.metrics.values("BidRetries") == [5]


def test_a_rate_limit_is_waited_out_as_ebay_asks(world: World) -> None:
    world.ebay.on_place = [EbayRateLimited("slow down", retry_after=1.5)]
    bid = world.bid()

    world.run(bid)

    first, second = (m for name, m in world.ebay.calls if name == "place")
    assert second - first >= 1.5
    assert len(world.ebay.accepted) == 1


def test_a_timeout_is_reconciled_and_a_bid_ebay_never_got_is_sent_again(
    world: World,
) -> None:
    world.ebay.on_place = [EbayTimeout("no answer", phase="read")]
    bid = world.bid()

    result = world.run(bid)

    assert [name for name, _ in world.ebay.calls if name != "get_item"][:3] == [
        "place",
        "bidding",  # eBay: no bidding activity: the first request never landed
        "place",
    ]
    assert len(world.ebay.accepted) == 1
    assert result.status is BidStatus.WON


def test_connections_dropped_until_the_end_are_retried_with_back_off(
    world: World,
) -> None:
    """Seen in the fault campaign: with every connection to eBay dropped at once,
    reconciling ("no bid of yours") and resending at once made ~350 bid requests
    in the 4 s before the cutoff. Resends after a quick failure back off."""
    world.ebay.on_place = [EbayConnectionError("connection reset")] * 1000
    bid = world.bid()

    result = world.run(bid)

    assert result.status is BidStatus.FAILED
    reason = result.reason or ""
    assert "connection failed" in reason or "shows no bid of yours" in reason
    assert 3 <= world.ebay.count("place") <= 10
    assert world.ebay.accepted == []


def test_a_timeout_whose_bid_landed_is_never_sent_twice(world: World) -> None:
    world.ebay.on_place = ["placed, answer lost"]
    bid = world.bid()

    result = world.run(bid)

    assert len(world.ebay.accepted) == 1
    assert world.ebay.count("place") == 1
    assert result.status is BidStatus.WON
    (place,) = [
        e
        for e in world.history.timeline(bid.user_id, bid.bid_id)
        if e.action is HistoryAction.PLACE
    ]
    assert place.details["reconciled"] is True


def test_unconfirmed_until_the_end_is_settled_by_ebays_answer_after_it(
    world: World,
) -> None:
    world.ebay.on_place = ["placed, answer lost"]
    # eBay cannot tell before the end whether the bid landed.
    world.ebay.bidding_down_until = END
    bid = world.bid()

    result = world.run(bid)

    assert world.ebay.count("place") == 1
    assert result.status is BidStatus.WON
    # Recorded one after the other (the fake clock stands still in between).
    assert set(world.actions(bid)[-2:]) == {HistoryAction.PLACE, HistoryAction.WIN}


def test_unconfirmed_and_absent_on_ebay_after_the_end_is_failed(
    world: World,
) -> None:
    world.ebay.on_place = [EbayTimeout("no answer", phase="read")]
    world.ebay.bidding_down_until = END
    bid = world.bid()

    result = world.run(bid)

    assert world.ebay.count("place") == 1
    assert (result.status, result.reason) == (BidStatus.FAILED, NOT_TAKEN)


def test_a_refused_token_is_refreshed_once(world: World) -> None:
    world.ebay.on_place = [EbayAuthError("token refused", http_status=401)]
    bid = world.bid()

    result = world.run(bid)

    assert result.status is BidStatus.WON
    assert world.tokens.asked[-1] == (END + 60, True)


def test_a_token_dead_when_the_answer_was_lost_is_refreshed_to_reconcile(
    world: World,
) -> None:
    """Seen in the fault campaign: the user's token expired (another snipe of
    theirs met the expiry), the bid's 401 was lost with its connection, and every
    getBidding answered 401 until the cutoff: never refreshed, never resent."""
    world.ebay.on_place = [EbayConnectionError("connection reset")]
    world.ebay.on_bidding = [EbayAuthError("token expired", http_status=401)]
    bid = world.bid()

    result = world.run(bid)

    assert result.status is BidStatus.WON
    assert [name for name, _ in world.ebay.calls if name != "get_item"][:4] == [
        "place",
        "bidding",  # 401: refreshed
        "bidding",  # no bid of ours: send it again
        "place",
    ]
    assert (END + 60, True) in world.tokens.asked
    assert len(world.ebay.accepted) == 1


@pytest.mark.parametrize(
    ("error_id", "reason"),
    [
        (120008, "Your maximum was below eBay's minimum next bid"),
        (120012, "The auction had already ended"),
        (120002, "The auction was ended early by a Buy It Now purchase"),
        (120003, "eBay does not let sellers bid on their own items."),
        (120025, "eBay did not let your account bid on this item"),
        (120018, "This auction takes whole amounts only"),
    ],
)
def test_ebays_refusal_stops_at_once_in_words_a_person_reads(
    world: World, error_id: int, reason: str
) -> None:
    world.ebay.on_place = [
        EbayBidRejected("refused", error_id=error_id, http_status=409)
    ]
    bid = world.bid()

    result = world.run(bid)

    assert result.status is BidStatus.FAILED
    assert result.reason.startswith(reason)
    assert world.ebay.count("place") == 1
    (fail,) = [
        e
        for e in world.history.timeline(bid.user_id, bid.bid_id)
        if e.action is HistoryAction.FAIL
    ]
    assert fail.details["ebayErrorId"] == error_id


def test_a_link_needing_relink_fails_the_bid(world: World) -> None:
    world.tokens.error = EbayRelinkRequiredError("link again")
    bid = world.bid()

    result = world.run(bid)

    assert (result.status, result.reason) == (BidStatus.FAILED, RELINK)
    assert world.ebay.calls == []


# ---------------------------------------------------------------- the outcome
def test_an_outcome_not_told_is_checked_later_with_the_next_attempt(
    world: World,
) -> None:
    bid = world.bid()
    world.ebay.on_bidding = [transient() for _ in range(100)]

    result = world.run(bid)

    assert result.status is BidStatus.PLACED
    assert result.bidPlaced is True
    assert world.stored(bid).status is BidStatus.PLACED
    assert [s["attempt"] for s in world.checks.scheduled] == [1]
    assert world.notifier.sent == []
    # It waited the outcome wait after the end, no longer.
    assert world.clock.now() <= END + TIMING.outcome_wait_seconds + 1

    checked = world.run(bid, ExecutionKind.OUTCOME_CHECK, attempt=1)

    assert checked.status is BidStatus.PLACED
    assert [s["attempt"] for s in world.checks.scheduled] == [1, 2]


def test_the_last_outcome_check_gives_up_saying_the_bid_may_stand(
    world: World,
) -> None:
    bid = replace(world.bid(), status=BidStatus.PLACED)
    world.repository.transition(
        bid.user_id, bid.bid_id, (BidStatus.PENDING,), BidStatus.PLACED
    )
    world.ebay.accepted.append((START, 2500))
    world.clock.now_value = END + 3000
    world.ebay.on_bidding = [transient() for _ in range(100)]

    result = world.run(bid, ExecutionKind.OUTCOME_CHECK, attempt=3)

    assert (result.status, result.reason) == (BidStatus.FAILED, NEVER_REPORTED)
    assert world.checks.scheduled == []
    assert [n.status for n in world.notifier.sent] == [BidStatus.FAILED]


def test_an_outcome_check_of_a_final_bid_does_nothing(world: World) -> None:
    bid = world.bid()
    world.run(bid)
    calls = len(world.ebay.calls)

    result = world.run(bid, ExecutionKind.OUTCOME_CHECK, attempt=1)

    assert result.skipped == "the bid is WON"
    assert len(world.ebay.calls) == calls


def test_a_failing_notifier_never_fails_the_snipe(world: World) -> None:
    def broken(event: BidNotificationEvent) -> None:
        raise RuntimeError("Lambda is down")

    world.notifier.send = broken  # type: ignore[method-assign]
    bid = world.bid()

    result = world.run(bid)

    assert result.status is BidStatus.WON
    assert world.stored(bid).status is BidStatus.WON
