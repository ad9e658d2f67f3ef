"""The sweep through the Bid Executor's handler, against moto and the eBay emulator:
each thing that can leave a bid behind (a lost schedule, an executor killed before
or after it sent the bid, an outcome check's schedule deleted) is done for real,
then the sweep runs as its rule invokes it and the runs it starts run through the
handler, as Lambda would run them. Same setting as test_snipe.py.

What a user would notice: one bid at eBay at most, the bid's final status and
reason, its history (a REPAIR entry saying what was put right), one email.
"""

from __future__ import annotations

import io
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from sniper import composition_bids, composition_snipe
from sniper.models.snipe import BidExecutionEvent, ExecutionKind
from sniper.models.statuses import BidStatus, HistoryAction
from sniper.repositories.bids import StoredBid
from sniper.snipe import sweeper as sweeper_module
from sniper.snipe.scheduling import (
    SnipeScheduler,
    outcome_schedule_name,
    snipe_schedule_name,
)
from sniper.snipe.sweeper import LambdaExecutions, Sweeper, SweepSettings
from sniper.snipe.timing import snipe_timing
from tests.integration.bid_executor.conftest import LEAD, Sniping, in_thread
from tests.support.handlers import sample_event
from tests.support.snipes import EXECUTOR_ARN

PLACE_PATH = "/place_proxy_bid"
GRACE = 0.5


class Killed(BaseException):
    """The executor's process dying: no `except Exception` of ours sees it, and
    Powertools keeps the run's idempotency record IN_PROGRESS, as after a crash."""


class RecordingExecutions(LambdaExecutions):
    """The real asynchronous invoke (moto accepts it, runs nothing), remembering
    the events, so the test runs them through the handler as Lambda would."""

    def __init__(self) -> None:
        super().__init__()
        self.started: list[BidExecutionEvent] = []

    def start(self, event: BidExecutionEvent) -> None:
        super().start(event)
        self.started.append(event)


@dataclass
class Sweeping:
    sniping: Sniping
    executions: RecordingExecutions

    def sweep(self) -> dict[str, Any]:
        """What the sweep rule's invocation does and answers."""
        return self.sniping.run(sample_event("bid_executor/sweep.json"))

    def run_started(self) -> list[dict[str, Any]]:
        """Lambda running what the sweep started, in order."""
        started, self.executions.started[:] = list(self.executions.started), []
        return [
            self.sniping.run(event.model_dump(mode="json", exclude_none=True))
            for event in started
        ]

    def repair_of(self, bid: StoredBid) -> str:
        entry = self.sniping.entry(bid, HistoryAction.REPAIR)
        return str(entry.details["repair"])


def _executor_function() -> None:
    """The Bid Executor as moto's Lambda knows it, for the sweep's invokes."""
    role = boto3.client("iam").create_role(
        RoleName="bid-executor",
        AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}',
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return {}\n")
    boto3.client("lambda").create_function(
        FunctionName=EXECUTOR_ARN.rsplit(":", 1)[-1],
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )


@pytest.fixture
def sweeping(sniping: Sniping, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sweeping]:
    for name in (
        "SWEEP_WAKE_GRACE_SECONDS",
        "SWEEP_CLAIM_GRACE_SECONDS",
        "SWEEP_OUTCOME_GRACE_SECONDS",
    ):
        monkeypatch.setenv(name, str(GRACE))
    _executor_function()
    executions = RecordingExecutions()
    monkeypatch.setattr(sweeper_module, "LambdaExecutions", lambda: executions)
    composition_snipe.reset()
    sniping.link()
    yield Sweeping(sniping, executions)
    composition_snipe.reset()


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))


# ---------------------------------------------------------------- the rule
def test_the_sweep_rules_event_on_empty_tables_repairs_nothing(
    sweeping: Sweeping,
) -> None:
    assert sweeping.sweep() == {
        "examined": 0,
        "repairs": {},
        "errors": 0,
        "complete": True,
    }


# ---------------------------------------------------------------- PENDING
def test_a_lost_schedule_is_made_again_as_bid_management_made_it(
    sweeping: Sweeping,
) -> None:
    sniping = sweeping.sniping
    # fire_at (end - lead - 2 s margin) ten seconds away, and no schedule.
    listing = sniping.auction(ends_in=LEAD + 2 + 10)
    bid = sniping.bid(listing)

    answer = sweeping.sweep()

    assert answer["repairs"] == {"schedule_recreated": 1}, answer
    name = snipe_schedule_name(bid.bid_id)
    schedule = sniping.schedules.schedule(name)
    assert schedule is not None
    fire_at = snipe_timing().fire_at(bid.auction_end_time, LEAD)
    # What Bid Management's create would have made, field for field.
    expected = SnipeScheduler(snipe_timing())._snipe_request(
        bid.bid_id,
        bid.user_id,
        bid.ebay_item_id,
        bid.auction_end_time,
        LEAD,
        bid.max_bid_amount,
    )[0]
    for field in ("ScheduleExpression", "FlexibleTimeWindow", "ActionAfterCompletion"):
        assert schedule[field] == expected[field]
    assert schedule["Target"]["Input"] == expected["Target"]["Input"]
    assert schedule["Target"]["Arn"] == EXECUTOR_ARN
    stored = sniping.stored(bid)
    assert (stored.schedule_name, stored.scheduled_for) == (name, fire_at)
    assert sniping.actions(bid) == [HistoryAction.CREATE, HistoryAction.REPAIR]
    assert sweeping.repair_of(bid) == "schedule_recreated"
    assert sweeping.executions.started == []
    # The next minute's sweep finds it there.
    assert sweeping.sweep()["repairs"] == {}


def test_a_lost_wake_up_is_sniped_at_once_and_placed_once(
    sweeping: Sweeping,
) -> None:
    sniping = sweeping.sniping
    listing = sniping.auction(ends_in=LEAD + 1.6)
    bid = sniping.bid(listing)  # its fire_at is now; nothing will wake the executor
    assert bid.scheduled_for is not None
    sleep_until(max(bid.scheduled_for, bid.updated_at) + GRACE + 0.05)

    answer = sweeping.sweep()
    (run,) = sweeping.run_started()
    # The schedule's own delivery, arriving after all: the claim stops it.
    late = sniping.run(sniping.event(bid))

    assert answer["repairs"] == {"snipe_run_now": 1}, answer
    assert run["status"] == "WON", run
    assert late["skipped"] == "the bid is WON"
    assert len(sniping.our_bids(listing)) == 1
    assert sniping.actions(bid) == [
        HistoryAction.CREATE,
        HistoryAction.REPAIR,
        HistoryAction.PLACE,
        HistoryAction.WIN,
    ]
    assert sweeping.repair_of(bid) == "snipe_run_now"
    assert [n.status for n in sniping.notifier.sent] == [BidStatus.WON]


# ---------------------------------------------------------------- EXECUTING
def test_an_executor_killed_mid_sleep_is_replaced_and_one_bid_lands(
    sweeping: Sweeping,
) -> None:
    sniping = sweeping.sniping
    lead = 5
    listing = sniping.auction(ends_in=lead + 1.6)
    bid = sniping.bid(listing, lead=lead)
    executor = composition_snipe.snipe_executor()
    sleep = executor.sleep

    def dies(seconds: float) -> None:
        raise Killed

    executor.sleep = dies
    with pytest.raises(Killed):
        sniping.run(sniping.event(bid))
    executor.sleep = sleep
    claimed = sniping.stored(bid)
    assert (claimed.status, claimed.sent_at) == (BidStatus.EXECUTING, None)
    # Lambda's retry of the crashed event: its record says a run is going on.
    retried = sniping.run(sniping.event(bid))
    assert retried["skipped"] == "another invocation is running this schedule"
    # Before the target, a claim is an executor waiting: nothing to repair.
    assert sweeping.sweep()["repairs"] == {}

    sleep_until(bid.target_time + GRACE + 0.05)
    answer = sweeping.sweep()
    (run,) = sweeping.run_started()

    assert answer["repairs"] == {"stale_claim_rerun": 1}, answer
    assert run["status"] == "WON", run
    (ours,) = sniping.our_bids(listing)
    assert ours["accepted"] is True
    assert len(sniping.calls("POST", PLACE_PATH)) == 1
    assert sniping.actions(bid) == [
        HistoryAction.CREATE,
        HistoryAction.REPAIR,
        HistoryAction.PLACE,
        HistoryAction.WIN,
    ]
    assert sweeping.repair_of(bid) == "stale_claim_rerun"
    stored = sniping.stored(bid)
    assert stored.lateness_ms is not None and stored.lateness_ms > 0  # and says so
    assert [n.status for n in sniping.notifier.sent] == [BidStatus.WON]


class AheadClock:
    """A sweeper's clock running ahead: it takes a live executor for a dead one."""

    def __init__(self, ahead: float) -> None:
        self.ahead = ahead

    def now(self) -> float:
        return time.time() + self.ahead


def test_a_rerun_beside_a_live_executor_places_one_bid(sweeping: Sweeping) -> None:
    sniping = sweeping.sniping
    lead = 5
    listing = sniping.auction(ends_in=lead + 2.0)
    bid = sniping.bid(listing, lead=lead)
    original_thread, original = in_thread(sniping.run, sniping.event(bid))
    deadline = time.monotonic() + 1.5
    while sniping.stored(bid).status is not BidStatus.EXECUTING:
        assert time.monotonic() < deadline, "the executor never claimed the bid"
        time.sleep(0.02)
    wrong = Sweeper(
        bids=composition_bids.bid_repository(),
        schedules=SnipeScheduler(snipe_timing()),
        executions=sweeping.executions,
        notifier=sniping.notifier,
        timing=snipe_timing(),
        settings=SweepSettings(claim_grace_seconds=0),
        clock=AheadClock(bid.target_time + 0.2 - time.time()),
    )

    assert wrong.sweep().repairs  # released the live executor's claim
    (event,) = sweeping.executions.started
    rerun_thread, rerun = in_thread(
        sniping.run, event.model_dump(mode="json", exclude_none=True)
    )
    for thread in (original_thread, rerun_thread):
        thread.join(timeout=30)

    (done,) = [r for r in original + rerun if "skipped" not in r]
    assert done["status"] == "WON", done
    assert len(original + rerun) == 2  # the other one stopped, saying why
    assert len(sniping.our_bids(listing)) == 1
    assert len(sniping.calls("POST", PLACE_PATH)) == 1
    actions = sniping.actions(bid)
    assert actions.count(HistoryAction.PLACE) == 1
    assert actions[-1] is HistoryAction.WIN
    assert [n.status for n in sniping.notifier.sent] == [BidStatus.WON]


class DiesOnRecordingPlaced:
    """The repository, with the executor's process dying right after eBay took
    the bid, before PLACED was written: the one moment a bid stands on eBay and
    the table does not know."""

    def __init__(self, bids: Any) -> None:
        self.bids = bids

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bids, name)

    def transition(self, *args: Any, **kwargs: Any) -> StoredBid:
        if args[3] is BidStatus.PLACED:
            raise Killed
        result: StoredBid = self.bids.transition(*args, **kwargs)
        return result


def test_a_bid_sent_but_not_recorded_is_reconciled_never_resent(
    sweeping: Sweeping,
) -> None:
    sniping = sweeping.sniping
    listing = sniping.auction()
    bid = sniping.bid(listing)
    executor = composition_snipe.snipe_executor()
    bids = executor.bids
    executor.bids = DiesOnRecordingPlaced(bids)
    with pytest.raises(Killed):
        sniping.run(sniping.event(bid))
    executor.bids = bids
    sent = sniping.stored(bid)
    assert sent.status is BidStatus.EXECUTING and sent.sent_at is not None
    # Until the end and the outcome wait, a live executor could still be at it.
    assert sweeping.sweep()["repairs"] == {}

    sleep_until(bid.auction_end_time + 2 + GRACE + 0.05)
    answer = sweeping.sweep()
    (run,) = sweeping.run_started()

    assert answer["repairs"] == {"stale_claim_reconciled": 1}, answer
    assert sniping.calls("GET", "/bidding")  # eBay was asked first
    assert run["status"] == "WON", run
    assert len(sniping.calls("POST", PLACE_PATH)) == 1  # never sent again
    assert len(sniping.our_bids(listing)) == 1
    assert sniping.actions(bid) == [
        HistoryAction.CREATE,
        HistoryAction.REPAIR,
        HistoryAction.PLACE,
        HistoryAction.WIN,
    ]
    assert sniping.entry(bid, HistoryAction.PLACE).details["reconciled"] is True
    assert [n.status for n in sniping.notifier.sent] == [BidStatus.WON]


# ---------------------------------------------------------------- PLACED
def test_a_placed_bid_whose_outcome_check_was_deleted_learns_its_outcome(
    sweeping: Sweeping,
) -> None:
    sniping = sweeping.sniping
    listing = sniping.auction()
    bid = sniping.bid(listing)
    sniping.ebay.fault(
        kind="status", status=503, count=1000, pathPrefix="/buy/offer/", method="GET"
    )
    placed = sniping.run(sniping.event(bid))
    assert placed["status"] == "PLACED", placed
    name = outcome_schedule_name(bid.bid_id, 1)
    assert sniping.schedules.schedule(name) is not None
    sleep_until(bid.auction_end_time + 2 + GRACE + 0.05)
    # With its outcome check scheduled, the bid is not the sweep's.
    assert sweeping.sweep()["repairs"] == {}

    boto3.client("scheduler").delete_schedule(
        Name=name, GroupName=sniping.schedules.group
    )
    sniping.ebay.admin("DELETE", "/faults")
    answer = sweeping.sweep()
    (check,) = sweeping.executions.started
    (run,) = sweeping.run_started()

    assert answer["repairs"] == {"outcome_checked": 1}, answer
    assert (check.kind, check.attempt) == (ExecutionKind.OUTCOME_CHECK, 1)
    assert run["status"] == "WON", run
    assert sniping.actions(bid) == [
        HistoryAction.CREATE,
        HistoryAction.PLACE,
        HistoryAction.REPAIR,
        HistoryAction.WIN,
    ]
    assert sweeping.repair_of(bid) == "outcome_checked"
    assert [n.status for n in sniping.notifier.sent] == [BidStatus.WON]
    assert len(sniping.our_bids(listing)) == 1
