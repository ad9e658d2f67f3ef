"""The sweep's decisions on a fake clock: which bid in flight gets which repair,
and that each repair happens once, whoever races it. Bids live in moto's tables
(the real repository and its sweeps' index, emptied per test); schedules, executor
runs, emails and metrics are fakes of the sweeper's own interfaces."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import boto3
import jmespath
import pytest
from aws_lambda_powertools.metrics import MetricUnit
from moto import mock_aws
from pydantic import SecretStr

from local.template.loader import load_template
from local.template.tables import create_tables
from sniper import aws
from sniper.composition_snipe import IDEMPOTENCY_KEY
from sniper.ebay import Bidding, EbayItemNotFound, ItemDetails
from sniper.models.snipe import (
    BidExecutionEvent,
    BidNotificationEvent,
    ExecutionKind,
    Repair,
    is_sweep,
)
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.repositories.bid_history import BidHistoryRepository, HistoryEntry
from sniper.repositories.bids import BidRepository, InFlightBid, StoredBid
from sniper.snipe.executor import SnipeExecutor
from sniper.snipe.scheduling import (
    ScheduledSnipe,
    ScheduleMissing,
    outcome_schedule_name,
    snipe_schedule_name,
)
from sniper.snipe.sweeper import (
    NEVER_WOKEN,
    SCHEDULE_LOST,
    STOPPED_BEFORE_SENDING,
    Sweeper,
    SweepSettings,
)
from sniper.snipe.timing import SnipeTiming
from tests.support.atomic_moto import atomic_moto
from tests.support.bids import a_bid
from tests.support.handlers import ROOT

NOW = 1_764_028_800.0
LEAD = 5
TIMING = SnipeTiming(
    margin_seconds=90,
    cutoff_seconds=1.0,
    outcome_wait_seconds=60,
    outcome_recheck_seconds=300,
    outcome_checks=3,
)
SETTINGS = SweepSettings(
    horizon_seconds=900,
    wake_grace_seconds=30,
    claim_grace_seconds=15,
    outcome_grace_seconds=60,
    budget_seconds=45,
    max_bids=300,
)


class FakeClock:
    def __init__(self) -> None:
        self.now_value = NOW

    def now(self) -> float:
        return self.now_value


class FakeSchedules:
    """Scheduler's schedules by name; `create` makes what SnipeScheduler would."""

    def __init__(self) -> None:
        self.existing: set[str] = set()
        self.created: list[dict[str, Any]] = []
        self.broken: set[str] = set()  # describing these raises

    def describe(self, name: str) -> dict[str, Any]:
        if name in self.broken:
            raise RuntimeError("Scheduler failed")
        if name not in self.existing:
            raise ScheduleMissing(name)
        return {"Name": name}

    def create(self, **request: Any) -> ScheduledSnipe:
        self.created.append(request)
        name = snipe_schedule_name(request["bid_id"])
        self.existing.add(name)
        fire_at = TIMING.fire_at(request["auction_end_time"], request["lead_seconds"])
        return ScheduledSnipe(name, fire_at)


class FakeExecutions:
    def __init__(self) -> None:
        self.started: list[BidExecutionEvent] = []

    def start(self, event: BidExecutionEvent) -> None:
        self.started.append(event)


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[BidNotificationEvent] = []

    def send(self, event: BidNotificationEvent) -> None:
        self.sent.append(event)


class FakeMetrics:
    def __init__(self) -> None:
        self.added: list[tuple[str, float]] = []

    def add_metric(self, name: str, unit: MetricUnit, value: float) -> None:
        self.added.append((name, value))


class FakeRepairs:
    def __init__(self) -> None:
        self.counted: list[Repair] = []

    def count(self, repair: Repair) -> None:
        self.counted.append(repair)


class RacingBids:
    """The real repository, with someone else's move slipped in just before the
    sweep's first write (another sweep, the executor, the user)."""

    def __init__(self, bids: BidRepository) -> None:
        self.bids = bids
        self.before_write: Callable[[], None] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bids, name)

    def _race(self) -> None:
        if self.before_write is not None:
            race, self.before_write = self.before_write, None
            race()

    def update_fields(self, *args: Any, **kwargs: Any) -> StoredBid:
        self._race()
        return self.bids.update_fields(*args, **kwargs)

    def transition(self, *args: Any, **kwargs: Any) -> StoredBid:
        self._race()
        return self.bids.transition(*args, **kwargs)


class World:
    def __init__(self, tables: dict[str, str]) -> None:
        self.clock = FakeClock()
        self.history = BidHistoryRepository(tables["BidHistoryTable"])
        self.repository = BidRepository(
            tables["BidsTable"], self.history, clock=self.clock
        )
        self.bids = RacingBids(self.repository)
        self.schedules = FakeSchedules()
        self.executions = FakeExecutions()
        self.notifier = FakeNotifier()
        self.metrics = FakeMetrics()
        self.repairs = FakeRepairs()

    def sweeper(self, settings: SweepSettings = SETTINGS) -> Sweeper:
        return Sweeper(
            self.bids,
            self.schedules,
            self.executions,
            self.notifier,
            TIMING,
            settings,
            clock=self.clock,
            metrics=self.metrics,
            repairs=self.repairs,
        )

    def sweep(self, settings: SweepSettings = SETTINGS) -> Any:
        return self.sweeper(settings).sweep()

    def bid(
        self,
        ends_in: float,
        status: BidStatus = BidStatus.PENDING,
        *,
        scheduled: bool = True,
        **fields: Any,
    ) -> StoredBid:
        """A bid ending `ends_in` seconds from now, as the executor or Bid
        Management left it; `scheduled`: its snipe schedule is there."""
        end = int(NOW + ends_in)
        fields.setdefault("updated_at", int(NOW) - 3_600)
        fields.setdefault("snipe_lead_seconds", LEAD)
        bid = a_bid(
            ends_at=end,
            created_at=int(NOW) - 3_600,
            scheduled_for=TIMING.fire_at(end, fields["snipe_lead_seconds"]),
            status=status,
            **fields,
        )
        if scheduled:
            self.schedules.existing.add(snipe_schedule_name(bid.bid_id))
        return self.repository.create(bid, None)

    def stored(self, bid: StoredBid) -> StoredBid:
        current = self.repository.get(bid.user_id, bid.bid_id)
        assert current is not None
        return current

    def entries(self, bid: StoredBid) -> list[HistoryEntry]:
        return self.history.timeline(bid.user_id, bid.bid_id)

    def actions(self, bid: StoredBid) -> list[HistoryAction]:
        return [entry.action for entry in self.entries(bid)]


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
    """Empty tables: the sweep reads across users, so no test sees another's."""
    for logical_id, keys in (
        ("BidsTable", ("userId", "sk")),
        ("BidHistoryTable", ("userId", "historyKey")),
    ):
        table = aws.table(tables[logical_id])
        for item in table.scan()["Items"]:
            table.delete_item(Key={key: item[key] for key in keys})
    return World(tables)


# ---------------------------------------------------------------- PENDING
def test_a_pending_bid_with_its_schedule_is_left_alone(world: World) -> None:
    world.bid(ends_in=600)

    result = world.sweep()

    assert (result.examined, result.repairs, result.errors) == (1, {}, 0)
    assert world.executions.started == []
    assert world.schedules.created == []


def test_a_lost_schedule_with_time_to_spare_is_made_again(world: World) -> None:
    bid = world.bid(ends_in=600, scheduled=False)

    result = world.sweep()

    assert result.repairs == {Repair.SCHEDULE_RECREATED: 1}
    (made,) = world.schedules.created
    assert (made["bid_id"], made["lead_seconds"], made["max_bid_amount"]) == (
        bid.bid_id,
        LEAD,
        bid.max_bid_amount,
    )
    stored = world.stored(bid)
    assert stored.status is BidStatus.PENDING
    assert stored.scheduled_for == TIMING.fire_at(bid.auction_end_time, LEAD)
    (entry,) = world.entries(bid)
    assert entry.action is HistoryAction.REPAIR
    assert entry.details["repair"] == "schedule_recreated"
    assert entry.details["reason"] == (
        "The snipe's schedule was missing; it was made again."
    )
    assert world.repairs.counted == [Repair.SCHEDULE_RECREATED]
    assert world.executions.started == []
    # The next sweep finds it there.
    assert world.sweep().repairs == {}


def test_a_bids_far_end_is_beyond_the_sweeps_horizon(world: World) -> None:
    world.bid(ends_in=3_600, scheduled=False)

    result = world.sweep()

    assert (result.examined, result.repairs) == (0, {})


def test_a_lost_schedule_too_close_to_its_time_runs_the_snipe_now(
    world: World,
) -> None:
    # fire_at = end - lead - margin is 2 s away: a schedule made now may be late.
    bid = world.bid(ends_in=LEAD + 90 + 2, scheduled=False)

    result = world.sweep()

    assert result.repairs == {Repair.SNIPE_RUN_NOW: 1}
    (started,) = world.executions.started
    stored = world.stored(bid)
    assert started == BidExecutionEvent(
        bidId=bid.bid_id,
        userId=bid.user_id,
        kind=ExecutionKind.SNIPE,
        ebayItemId=bid.ebay_item_id,
        auctionEndTime=bid.auction_end_time,
        maxBidAmount=bid.max_bid_amount,
        repair=stored.version,
    )
    assert stored.status is BidStatus.PENDING  # the run claims it
    assert world.schedules.created == []
    assert world.actions(bid) == [HistoryAction.REPAIR]


def test_a_schedule_that_just_fired_is_given_time_to_wake_the_executor(
    world: World,
) -> None:
    # Fired 10 s ago and deleted itself; the executor is starting.
    world.bid(ends_in=LEAD + 90 - 10, scheduled=False)

    assert world.sweep().repairs == {}
    assert world.executions.started == []


def test_a_bid_nobody_claimed_after_its_schedules_time_is_run_now(
    world: World,
) -> None:
    # 40 s past fire_at, still PENDING: the delivery was lost (or is failing).
    bid = world.bid(ends_in=LEAD + 90 - 40, scheduled=True)

    assert world.sweep().repairs == {Repair.SNIPE_RUN_NOW: 1}
    (started,) = world.executions.started
    assert (started.kind, started.bidId) == (ExecutionKind.SNIPE, bid.bid_id)
    # A minute later the run has claimed it; were it still PENDING, the repair
    # just written holds the next sweep back for the grace.
    world.clock.now_value += 10
    assert world.sweep().repairs == {}


@pytest.mark.parametrize(
    ("scheduled", "reason"), [(False, SCHEDULE_LOST), (True, NEVER_WOKEN)]
)
def test_a_pending_bid_past_its_cutoff_is_failed_with_the_reason(
    world: World, scheduled: bool, reason: str
) -> None:
    bid = world.bid(ends_in=0.5, scheduled=scheduled)

    result = world.sweep()

    assert result.repairs == {Repair.FAILED: 1}
    stored = world.stored(bid)
    assert (stored.status, stored.reason) == (BidStatus.FAILED, reason)
    (entry,) = world.entries(bid)
    assert entry.action is HistoryAction.FAIL
    assert entry.details == {"reason": reason, "repair": "failed"}
    (told,) = world.notifier.sent
    assert (told.status, told.reason, told.bidId) == (
        BidStatus.FAILED,
        reason,
        bid.bid_id,
    )
    assert ("BidFailed", 1) in world.metrics.added
    assert world.repairs.counted == [Repair.FAILED]
    assert world.executions.started == []
    # Final now: no longer in the sweeps' index.
    assert world.sweep().examined == 0


# ---------------------------------------------------------------- EXECUTING
def test_a_claim_before_its_target_is_a_live_executor_waiting(world: World) -> None:
    world.bid(ends_in=60, status=BidStatus.EXECUTING, updated_at=int(NOW) - 30)

    assert world.sweep().repairs == {}


def test_a_claim_not_committed_past_its_target_is_run_again(world: World) -> None:
    # A 30 s lead: the target passed 15 s ago, nothing was committed to send,
    # and the cutoff is 14 s away.
    bid = world.bid(ends_in=15, status=BidStatus.EXECUTING, snipe_lead_seconds=30)
    assert bid.target_time + SETTINGS.claim_grace_seconds <= NOW

    result = world.sweep()

    assert result.repairs == {Repair.STALE_CLAIM_RERUN: 1}
    released = world.stored(bid)
    assert released.status is BidStatus.PENDING
    assert released.version == bid.version + 1
    (started,) = world.executions.started
    assert (started.kind, started.repair) == (ExecutionKind.SNIPE, released.version)
    (entry,) = world.entries(bid)
    assert (entry.action, entry.details["repair"]) == (
        HistoryAction.REPAIR,
        "stale_claim_rerun",
    )


def test_a_fresh_claim_by_a_rerun_is_not_taken_away(world: World) -> None:
    # The target passed, but the bid was claimed 5 s ago (the rerun itself).
    world.bid(
        ends_in=15,
        status=BidStatus.EXECUTING,
        snipe_lead_seconds=30,
        updated_at=int(NOW) - 5,
    )

    assert world.sweep().repairs == {}


# Production's timing (TIMING, SETTINGS): woken margin + lead = 95 s before the
# end, a heartbeat every 10 s of the wait, 15 s of claim grace; the rule's grace
# is 2 x 10 + 15 = 35 s. Times below are from the end.
CLAIMED_AT = -95


def claim_with_heartbeat(
    world: World, *, ends_in: float, heartbeat: int | None
) -> StoredBid:
    """An executor's claim (at its fire time) whose last heartbeat was
    `heartbeat` seconds from the end (None: it died before its first)."""
    end = int(NOW + ends_in)
    return world.bid(
        ends_in=ends_in,
        status=BidStatus.EXECUTING,
        updated_at=end + CLAIMED_AT,
        heartbeat_at=None if heartbeat is None else end + heartbeat,
    )


@pytest.mark.parametrize("heartbeat", [-60, None])
def test_an_executor_silent_for_the_heartbeat_grace_is_replaced_in_time(
    world: World, heartbeat: int | None
) -> None:
    """Killed mid-sleep: its last heartbeat 60 s before the end (or none at
    all), the sweep 25 s before it. The target rule alone would wait for
    end + 10 s, past the cutoff; the heartbeat's silence lets a rerun bid."""
    bid = claim_with_heartbeat(world, ends_in=25, heartbeat=heartbeat)
    target_rule = max(bid.target_time, bid.updated_at) + SETTINGS.claim_grace_seconds
    assert target_rule > NOW  # not yet stale by the target

    result = world.sweep()

    assert result.repairs == {Repair.STALE_CLAIM_RERUN: 1}
    released = world.stored(bid)
    assert (released.status, released.version) == (BidStatus.PENDING, bid.version + 1)
    (started,) = world.executions.started
    assert (started.kind, started.repair) == (ExecutionKind.SNIPE, released.version)
    (entry,) = world.entries(bid)
    assert entry.details["repair"] == "stale_claim_rerun"


def test_an_executor_whose_heartbeat_is_fresh_is_left_to_sleep(
    world: World,
) -> None:
    bid = claim_with_heartbeat(world, ends_in=25, heartbeat=-30)

    assert world.sweep().repairs == {}
    assert world.stored(bid) == bid
    assert world.executions.started == []


@pytest.mark.parametrize("ends_in", [0.5, -30])
def test_a_silent_executor_found_after_the_cutoff_is_failed(
    world: World, ends_in: float
) -> None:
    # 0.5 s before the end only the heartbeat's silence says so; 30 s after
    # it, the target rule as well.
    bid = claim_with_heartbeat(world, ends_in=ends_in, heartbeat=-60)

    assert world.sweep().repairs == {Repair.FAILED: 1}
    stored = world.stored(bid)
    assert (stored.status, stored.reason) == (BidStatus.FAILED, STOPPED_BEFORE_SENDING)
    assert world.executions.started == []
    assert [n.status for n in world.notifier.sent] == [BidStatus.FAILED]


def test_a_sleeping_executor_is_never_taken_for_dead(world: World) -> None:
    """A sweep at any moment of a live executor's wait (a quarter-second
    apart) finds its claim, or its last heartbeat, at most a recheck old:
    never a repair. The claim is stored rounded down, each beat rounded up.
    (Stored, so that a repair would be written, and seen.)"""
    end = int(NOW) + 100
    claimed_at = end + CLAIMED_AT + 0.7
    waiting_from = claimed_at + 0.5  # the token and the item read first
    claim = world.bid(
        ends_in=100, status=BidStatus.EXECUTING, updated_at=int(claimed_at)
    )
    assert claim.auction_end_time == end
    sweeper = world.sweeper()
    ready = TIMING.commit_at(claim.target_time)
    moment = claimed_at
    while moment < ready:
        beats = int((moment - waiting_from) // TIMING.recheck_seconds)
        last = waiting_from + beats * TIMING.recheck_seconds
        bid = replace(claim, heartbeat_at=math.ceil(last) if beats > 0 else None)
        assert sweeper._claimed(bid, moment) is None, moment - end
        moment += 0.25
    assert world.stored(claim) == claim


def test_a_claim_left_past_the_cutoff_is_failed_saying_why(world: World) -> None:
    bid = world.bid(ends_in=-30, status=BidStatus.EXECUTING)

    assert world.sweep().repairs == {Repair.FAILED: 1}
    stored = world.stored(bid)
    assert (stored.status, stored.reason) == (BidStatus.FAILED, STOPPED_BEFORE_SENDING)
    assert [n.status for n in world.notifier.sent] == [BidStatus.FAILED]


def test_a_committed_bid_is_never_sent_again_only_reconciled(world: World) -> None:
    # Committed to send, then nothing: it may stand on eBay. Until the end and
    # the outcome wait, a live executor may still be at it.
    end_in = 30
    bid = world.bid(
        ends_in=end_in, status=BidStatus.EXECUTING, sent_at=int(NOW) + end_in - 5
    )
    assert world.sweep().repairs == {}

    world.clock.now_value = bid.auction_end_time + 60 + 60 + 1
    result = world.sweep()

    assert result.repairs == {Repair.STALE_CLAIM_RECONCILED: 1}
    (started,) = world.executions.started
    assert started.kind is ExecutionKind.OUTCOME_CHECK  # getBidding, never a bid
    assert started.attempt == 1
    assert started.maxBidAmount is None
    assert world.stored(bid).status is BidStatus.EXECUTING  # the check decides


# ---------------------------------------------------------------- PLACED
def test_a_placed_bid_with_an_outcome_check_scheduled_is_left_alone(
    world: World,
) -> None:
    # Checks 1 and 2 ran (700 and 400 s ago); the third waits for its time.
    bid = world.bid(ends_in=-1_000, status=BidStatus.PLACED, sent_at=int(NOW) - 1005)
    world.schedules.existing.add(outcome_schedule_name(bid.bid_id, 3))

    assert world.sweep().repairs == {}


def test_a_placed_bid_whose_outcome_check_was_lost_is_checked_now(
    world: World,
) -> None:
    # Checks 1 and 2 were due 700 and 400 s ago; no check is scheduled.
    bid = world.bid(ends_in=-1_000, status=BidStatus.PLACED, sent_at=int(NOW) - 1005)

    result = world.sweep()

    assert result.repairs == {Repair.OUTCOME_CHECKED: 1}
    (started,) = world.executions.started
    stored = world.stored(bid)
    # Check 2's time has come as well: the run stands for it, and schedules a
    # third if eBay still does not tell.
    assert (started.kind, started.attempt, started.repair) == (
        ExecutionKind.OUTCOME_CHECK,
        2,
        stored.version,
    )
    (entry,) = world.entries(bid)
    assert entry.details["repair"] == "outcome_checked"
    assert stored.status is BidStatus.PLACED


def test_a_placed_bid_within_the_outcome_wait_is_the_executors(world: World) -> None:
    world.bid(ends_in=-30, status=BidStatus.PLACED, sent_at=int(NOW) - 35)

    result = world.sweep()

    assert (result.examined, result.repairs) == (0, {})


def test_an_outcome_check_just_started_is_not_started_twice(world: World) -> None:
    world.bid(ends_in=-1_000, status=BidStatus.PLACED, sent_at=int(NOW) - 1005)
    world.sweep()

    # A minute later the check is still waiting for eBay: no second one.
    world.clock.now_value += 60
    assert world.sweep().repairs == {}
    assert len(world.executions.started) == 1


# ---------------------------------------------------------------- races
def test_two_sweeps_at_once_repair_a_bid_once(world: World) -> None:
    bid = world.bid(ends_in=LEAD + 90 + 2, scheduled=False)
    other = world.sweeper()

    def other_sweep() -> None:  # the other sweep, just before this one writes
        other.sweep()

    world.bids.before_write = other_sweep

    result = world.sweep()

    assert result.repairs == {}
    assert len(world.executions.started) == 1
    assert world.actions(bid) == [HistoryAction.REPAIR]
    assert world.repairs.counted == [Repair.SNIPE_RUN_NOW]


def test_an_executor_committing_as_the_sweep_releases_its_claim_wins(
    world: World,
) -> None:
    bid = world.bid(ends_in=15, status=BidStatus.EXECUTING, snipe_lead_seconds=30)

    def commit() -> None:  # what the executor's commit to send writes
        world.repository.update_fields(
            bid.user_id,
            bid.bid_id,
            {"sent_at": int(NOW)},
            None,
            expected_statuses=(BidStatus.EXECUTING,),
            expected_version=bid.version,
        )

    world.bids.before_write = commit

    result = world.sweep()

    assert result.repairs == {}
    assert world.executions.started == []
    stored = world.stored(bid)
    assert (stored.status, stored.sent_at) == (BidStatus.EXECUTING, int(NOW))
    assert world.entries(bid) == []


def test_a_user_cancel_before_the_sweeps_failure_is_what_stays(
    world: World,
) -> None:
    bid = world.bid(ends_in=0.5, scheduled=False)

    def cancel() -> None:
        world.repository.transition(
            bid.user_id,
            bid.bid_id,
            (BidStatus.PENDING,),
            BidStatus.CANCELLED,
            {"reason": "Cancelled by you."},
            expected_version=bid.version,
        )

    world.bids.before_write = cancel

    assert world.sweep().repairs == {}
    assert world.stored(bid).status is BidStatus.CANCELLED
    assert world.notifier.sent == []


def test_the_index_lagging_behind_the_bid_changes_nothing(world: World) -> None:
    bid = world.bid(ends_in=LEAD + 90 + 2, scheduled=False)
    listed = InFlightBid(
        user_id=bid.user_id,
        bid_id=bid.bid_id,
        status=BidStatus.EXECUTING,  # what an older index entry would say
        auction_end_time=bid.auction_end_time,
    )

    assert world.sweeper()._examine(listed) is None
    assert world.executions.started == []


class OneRunLate:
    """eBay (Browse) answering the original executor only after the sweep had
    released its claim and a rerun had claimed the bid, and answering that the
    item is gone. Also the tokens and outcome checks the executor asks for."""

    def __init__(self, world: World, bid: StoredBid) -> None:
        self.world, self.bid = world, bid

    server_time_offset = 0.0

    def access_token(self, user_id: str, *args: Any, **kwargs: Any) -> SecretStr:
        return SecretStr("token")

    def get_item(self, item_id: str, *, timeout: float | None = None) -> ItemDetails:
        world, bid = self.world, self.bid
        world.clock.now_value = bid.target_time + 20
        world.sweep()  # releases the claim: a stale one, by the clock
        (rerun,) = world.executions.started
        world.repository.transition(  # the rerun's claim
            bid.user_id, bid.bid_id, (BidStatus.PENDING,), BidStatus.EXECUTING
        )
        assert rerun.repair is not None
        raise EbayItemNotFound("gone", http_status=404)

    def place_proxy_bid(self, *args: Any, **kwargs: Any) -> str:
        raise AssertionError("the original executor must not bid")

    def get_bidding(self, *args: Any, **kwargs: Any) -> Bidding:
        raise AssertionError("not asked")

    def schedule_outcome_check(self, **request: Any) -> ScheduledSnipe:
        raise AssertionError("not asked")


def test_an_original_executor_waking_late_cannot_end_a_rerun_s_bid(
    world: World,
) -> None:
    """The second executor the sweep may start is harmless: the first one's
    failure before its commit is conditional on the version it read."""
    bid = world.bid(ends_in=60, snipe_lead_seconds=30)
    late = OneRunLate(world, bid)
    original = SnipeExecutor(
        world.repository,
        late,
        late,
        late,
        world.notifier,
        TIMING,
        clock=world.clock,
        sleep=lambda seconds: None,
        metrics=world.metrics,
    )

    result = original.execute(BidExecutionEvent(bidId=bid.bid_id, userId=bid.user_id))

    assert result.skipped == "the bid became EXECUTING"
    stored = world.stored(bid)
    assert (stored.status, stored.reason) == (BidStatus.EXECUTING, None)  # rerun's
    assert world.notifier.sent == []
    assert world.actions(bid) == [HistoryAction.REPAIR]


# ---------------------------------------------------------------- bounds
def test_a_sweep_stops_at_its_size_bound_and_leaves_the_rest(world: World) -> None:
    bids = [world.bid(ends_in=600 + n, scheduled=False) for n in range(5)]

    result = world.sweep(SweepSettings(max_bids=2))

    assert (result.examined, result.complete) == (2, False)
    # Soonest-ending first; the next minute's sweep takes the others.
    assert [made["bid_id"] for made in world.schedules.created] == [
        bid.bid_id for bid in bids[:2]
    ]
    assert world.sweep().repairs == {Repair.SCHEDULE_RECREATED: 3}


def test_a_sweep_stops_at_its_time_bound(world: World) -> None:
    for n in range(3):
        world.bid(ends_in=600 + n, scheduled=False)
    world.clock.now_value += 1  # a run handed no time at all

    result = world.sweeper().sweep(finish_by=NOW)

    assert (result.examined, result.complete) == (0, False)


def test_one_bids_failure_does_not_stop_the_sweep(world: World) -> None:
    broken = world.bid(ends_in=600, scheduled=False)
    world.bid(ends_in=601, scheduled=False)
    world.schedules.broken.add(snipe_schedule_name(broken.bid_id))

    result = world.sweep()

    assert (result.errors, result.repairs) == (1, {Repair.SCHEDULE_RECREATED: 1})
    assert ("SweeperErrors", 1) in world.metrics.added


# ---------------------------------------------------------------- the wiring
def test_the_settings_come_from_the_environment_and_refuse_nonsense() -> None:
    settings = SweepSettings.from_environ(
        {"SWEEP_HORIZON_SECONDS": "120", "SWEEP_CLAIM_GRACE_SECONDS": "2.5"}
    )

    assert (settings.horizon_seconds, settings.claim_grace_seconds) == (120, 2.5)
    assert settings.wake_grace_seconds == 30
    with pytest.raises(ValueError, match="SWEEP_WAKE_GRACE_SECONDS"):
        SweepSettings.from_environ({"SWEEP_WAKE_GRACE_SECONDS": "-1"})


def test_only_the_sweep_rules_input_is_a_sweep() -> None:
    rule_input = json.loads((ROOT / "events/bid_executor/sweep.json").read_text())

    assert is_sweep(rule_input)
    assert not is_sweep({"sweep": "yes"})
    assert not is_sweep({"bidId": "b", "userId": "u"})


def test_a_repair_run_has_its_own_idempotency_key_and_a_schedules_is_unchanged() -> (
    None
):
    plain = BidExecutionEvent(bidId="b", userId="u").model_dump(mode="json")
    repair = BidExecutionEvent(bidId="b", userId="u", repair=7).model_dump(mode="json")

    # The key records written before the sweeper existed were made with.
    assert jmespath.search(IDEMPOTENCY_KEY, plain) == jmespath.search(
        "[bidId, kind, attempt]", plain
    )
    assert jmespath.search(IDEMPOTENCY_KEY, repair) == ["b", "SNIPE", 1, 7]
