"""The sweep on the local stack, over HTTP: the template's own rule (`rate(1
minute)`, fired every 2 s here with `--rule-rate`) wakes the Bid Executor's sweep,
which repairs what was broken by hand from outside, as an operator's mistake or a
crash would break it:

1. a bid's schedule deleted through Scheduler's API: made again, the bid lands at
   its lead;
2. the executor's worker process killed (SIGKILL) while it waits for the target:
   the sweep re-runs the snipe, exactly one bid reaches eBay;
3. a PLACED bid's outcome-check schedule deleted while eBay could not tell the
   outcome: the sweep checks it, WON, and the email goes out.

Only the timing settings are short (a margin of 4 s, the sweep's graces of 1-2 s).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.support import RunningStack, free_ports, start_stack, wait_for
from tests.e2e.test_snipe import seconds, sign_in_and_link
from tests.support.handlers import ROOT

pytestmark = pytest.mark.slow

EXECUTOR = "ebay-sniper-bid-executor-local"
FINAL = ("WON", "LOST", "FAILED")


@pytest.fixture(scope="module")
def sweep_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("sweep-stack")
    ebay_port, outbox_port = free_ports(2)
    settings = {
        "SNIPE_MARGIN_SECONDS": "4",
        "OUTCOME_WAIT_SECONDS": "3",
        "OUTCOME_RECHECK_SECONDS": "40",
        "SWEEP_WAKE_GRACE_SECONDS": "2",
        "SWEEP_CLAIM_GRACE_SECONDS": "3",
        "SWEEP_OUTCOME_GRACE_SECONDS": "1",
    }
    extra: list[str] = ["--rule-rate", "2"]
    for name, value in settings.items():
        extra += ["--env", f"{name}={value}"]
    running = start_stack(
        folder,
        template=ROOT / "template.yaml",
        ebay_port=ebay_port,
        outbox_port=outbox_port,
        extra=tuple(extra),
    )
    yield running
    running.stop()


class Scene:
    """One user's snipe on the stack, and what eBay, Scheduler and the outbox see."""

    def __init__(self, stack: RunningStack, user: str) -> None:
        assert stack.ebay is not None and stack.outbox is not None
        self.stack = stack
        self.user = user
        self.ebay_user = f"{user}-on-ebay"
        self.admin = httpx.Client(base_url=f"{stack.ebay}/__admin", timeout=30)
        self.outbox = httpx.Client(base_url=stack.outbox, timeout=30)
        self.api = sign_in_and_link(stack, user, self.ebay_user)
        self.scheduler = stack.client("scheduler")

    def snipe(self, ends_in: int, lead: int) -> tuple[str, str]:
        """A live auction and a bid on it; (item id, bid id)."""
        listing = self.admin.post(
            "/listings", json={"startPrice": "10.00", "endsInSeconds": ends_in}
        ).json()
        made = self.api.post(
            "/bids",
            json={
                "ebayItemId": listing["itemId"],
                "maxBidAmount": 2_000,
                "snipeLeadSeconds": lead,
            },
        )
        assert made.status_code == 201, made.text
        return str(listing["itemId"]), str(made.json()["bidId"])

    def bid(self, bid_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.api.get(f"/bids/{bid_id}").json()
        return found

    def finished(self, bid_id: str, timeout: float) -> dict[str, Any]:
        def final() -> dict[str, Any] | None:
            bid = self.bid(bid_id)
            return bid if bid["status"] in FINAL else None

        result: dict[str, Any] = wait_for(final, timeout=timeout, interval=0.3)
        return result

    def timeline(self, bid_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.api.get(f"/bid-history/{bid_id}").json()[
            "items"
        ]
        return items

    def schedules(self, prefix: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.scheduler.list_schedules(NamePrefix=prefix)[
            "Schedules"
        ]
        return found

    def delete_schedule(self, prefix: str) -> None:
        """The operator's slip: the schedule deleted through Scheduler's API."""
        (schedule,) = wait_for(lambda: self.schedules(prefix), timeout=15)
        self.scheduler.delete_schedule(
            Name=schedule["Name"], GroupName=schedule["GroupName"]
        )
        assert self.schedules(prefix) == []

    def ours(self, item_id: str) -> list[dict[str, Any]]:
        listing = self.admin.get(f"/listings/{item_id}").json()
        return [b for b in listing["bids"] if b["bidder"] == self.ebay_user]

    def emails(self) -> list[dict[str, Any]]:
        emails = self.outbox.get("/outbox/emails").json()["emails"]
        return [e for e in emails if f"{self.user}@example.com" in e["to"]]


def repairs_of(timeline: list[dict[str, Any]]) -> list[str]:
    return [str(e["details"]["repair"]) for e in timeline if e["action"] == "REPAIR"]


def actions_of(timeline: list[dict[str, Any]]) -> list[str]:
    """The bid's own story, repairs set apart."""
    return [str(e["action"]) for e in timeline if e["action"] != "REPAIR"]


def executor_workers(stack: RunningStack) -> list[int]:
    """This stack's Bid Executor worker processes (Linux /proc)."""
    markers = {
        f"AWS_ENDPOINT_URL={stack.aws}".encode(),
        f"AWS_LAMBDA_FUNCTION_NAME={EXECUTOR}".encode(),
    }
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if b"bootstrap.py" not in (entry / "cmdline").read_bytes():
                continue
            if markers <= set((entry / "environ").read_bytes().split(b"\0")):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_a_schedule_deleted_by_hand_is_made_again_and_the_bid_lands_on_time(
    sweep_stack: RunningStack,
) -> None:
    scene = Scene(sweep_stack, "gwen")
    lead = 3
    item_id, bid_id = scene.snipe(ends_in=30, lead=lead)

    scene.delete_schedule(f"snipe-{bid_id}")
    # The next sweeps (every 2 s) make it again, long before it is due (a loaded
    # machine's sweep can take seconds; the schedule is due 23 s from now).
    wait_for(lambda: scene.schedules(f"snipe-{bid_id}"), timeout=15, interval=0.2)
    bid = scene.finished(bid_id, timeout=30)

    assert bid["status"] == "WON", bid
    (ours,) = scene.ours(item_id)
    listing = scene.admin.get(f"/listings/{item_id}").json()
    end, landed = seconds(listing["endTime"]), seconds(ours["placedAt"])
    assert end - lead - 1.5 <= landed < end - lead + 1.0  # on time
    timeline = scene.timeline(bid_id)
    assert [entry["action"] for entry in timeline] == [
        "CREATE",
        "REPAIR",
        "PLACE",
        "WIN",
    ]
    assert repairs_of(timeline) == ["schedule_recreated"]


def test_an_executor_killed_mid_sleep_is_finished_with_exactly_one_bid(
    sweep_stack: RunningStack,
) -> None:
    scene = Scene(sweep_stack, "hugo")
    # The target 16 s before the end: time for the claim to be seen stale (3 s
    # here, 15 s on AWS) and a rerun to start cold on a busy machine.
    lead = 16
    item_id, bid_id = scene.snipe(ends_in=24, lead=lead)

    def waiting() -> bool:
        bid = scene.bid(bid_id)
        return bid["status"] == "EXECUTING" and bid.get("sentAt") is None

    wait_for(waiting, timeout=15, interval=0.1)
    workers = executor_workers(sweep_stack)
    assert workers, "no Bid Executor worker to kill"
    for pid in workers:  # the stack's own children, by their ids
        os.kill(pid, signal.SIGKILL)
    killed_at = time.time()
    assert scene.bid(bid_id)["status"] == "EXECUTING"

    bid = scene.finished(bid_id, timeout=30)

    assert bid["status"] == "WON", bid
    ours = scene.ours(item_id)
    assert len(ours) == 1 and ours[0]["accepted"], ours  # exactly one bid at eBay
    listing = scene.admin.get(f"/listings/{item_id}").json()
    assert killed_at < seconds(ours[0]["placedAt"]) < seconds(listing["endTime"]) - 1
    timeline = scene.timeline(bid_id)
    assert actions_of(timeline) == ["CREATE", "PLACE", "WIN"]
    # A slow (cold) rerun may draw a second, harmless start: the claim took one.
    assert repairs_of(timeline)[0] == "stale_claim_rerun"
    assert set(repairs_of(timeline)) <= {"stale_claim_rerun", "snipe_run_now"}
    assert bid["latenessMs"] > 0  # late, and it says so


def test_an_outcome_check_deleted_by_hand_is_run_and_the_email_goes_out(
    sweep_stack: RunningStack,
) -> None:
    scene = Scene(sweep_stack, "iris")
    item_id, bid_id = scene.snipe(ends_in=10, lead=3)
    # eBay cannot tell this auction's outcome (getBidding fails) in the wait.
    bidding = f"/buy/offer/v1_beta/bidding/{scene.bid(bid_id)['restItemId']}"
    fault = scene.admin.post(
        "/faults",
        json={
            "kind": "status",
            "status": 503,
            "count": 1000,
            "pathPrefix": bidding,
            "method": "GET",
        },
    )
    assert fault.status_code < 300, fault.text
    try:
        # Not told in time: PLACED, and its outcome check scheduled 40 s on.
        wait_for(
            lambda: scene.schedules(f"outcome-{bid_id}-"), timeout=25, interval=0.2
        )
        assert scene.bid(bid_id)["status"] == "PLACED"
    finally:
        scene.admin.delete("/faults")
    scene.delete_schedule(f"outcome-{bid_id}-")

    bid = scene.finished(bid_id, timeout=20)

    assert bid["status"] == "WON", bid
    assert len(scene.ours(item_id)) == 1
    timeline = scene.timeline(bid_id)
    assert [entry["action"] for entry in timeline] == [
        "CREATE",
        "PLACE",
        "REPAIR",
        "WIN",
    ]
    assert repairs_of(timeline) == ["outcome_checked"]
    wait_for(scene.emails, timeout=15, interval=0.3)
    time.sleep(1)  # a second email would have arrived by now
    (email,) = scene.emails()
    assert "won" in email["subject"].lower(), email
