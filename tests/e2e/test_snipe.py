"""The whole product on the local stack, over HTTP, at real speed, with a short
auction: a user links eBay, picks an auction from the watch list and sets a secret
maximum; the schedule fires; the bid lands at its lead before the end; a rival's
earlier bid loses to it by eBay's proxy rules; the bid ends WON at the right price,
history shows CREATE, PLACE, WIN, and the outbox holds the one email that says so.
No test-only shortcut: only the timing settings are short.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bench.fault_campaign import prewarm, stalls
from tests.e2e.support import RunningStack, free_ports, start_stack, wait_for
from tests.support.handlers import ROOT

pytestmark = pytest.mark.slow

MARGIN = 8  # a cold start on a busy CI machine takes up to 5 s
LEAD = 3
AUCTION_SECONDS = 20
LATE_MARGIN = 20
AUCTIONS = 4  # in the late-delivery test


@pytest.fixture(scope="module")
def snipe_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("snipe-stack")
    ebay_port, outbox_port = free_ports(2)
    running = start_stack(
        folder,
        template=ROOT / "template.yaml",
        ebay_port=ebay_port,
        outbox_port=outbox_port,
        extra=(
            "--env",
            f"SNIPE_MARGIN_SECONDS={MARGIN}",
            "--env",
            "OUTCOME_WAIT_SECONDS=15",
            "--env",
            "OUTCOME_RECHECK_SECONDS=5",
        ),
    )
    yield running
    running.stop()


def sign_in_and_link(stack: RunningStack, user: str, ebay_user: str) -> httpx.Client:
    assert stack.ebay is not None
    api = httpx.Client(
        base_url=stack.api,
        headers={"Authorization": f"Bearer {stack.token(user)}"},
        timeout=30,
    )
    assert api.get("/users/profile").status_code == 200
    auth_url = api.get("/ebay/auth/url").json()["authUrl"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
    agreed = httpx.post(
        f"{stack.ebay}/oauth2/authorize",
        data={**query, "username": ebay_user, "decision": "agree"},
    )
    redirect = parse_qs(urlsplit(agreed.headers["location"]).query)
    linked = api.post(
        "/ebay/auth/callback",
        json={"code": redirect["code"][0], "state": redirect["state"][0]},
    )
    assert linked.status_code == 200, linked.text
    return api


def seconds(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def test_a_snipe_from_the_watch_list_to_the_winning_email(
    snipe_stack: RunningStack,
) -> None:
    stack = snipe_stack
    assert stack.ebay is not None and stack.outbox is not None
    admin = httpx.Client(base_url=f"{stack.ebay}/__admin", timeout=30)
    outbox = httpx.Client(base_url=stack.outbox, timeout=30)
    outbox.delete("/outbox/emails")
    api = sign_in_and_link(stack, "erin", "erin-on-ebay")

    # An auction on erin's watch list; a rival will bid $30 eight seconds before
    # the end, before our snipe at three.
    listing = admin.post(
        "/listings",
        json={
            "title": "Hasselblad 500C/M",
            "startPrice": "10.00",
            "endsInSeconds": AUCTION_SECONDS,
        },
    ).json()
    item_id = listing["itemId"]
    admin.post("/users/erin-on-ebay/watchlist", json={"itemId": item_id})
    rival = admin.post(
        f"/listings/{item_id}/scripted-bids",
        json={"bidder": "rival", "maxAmount": "30.00", "secondsBeforeEnd": 8},
    )
    assert rival.status_code == 201, rival.text
    watched = api.get("/wishlist/items", params={"auctionsOnly": "true"}).json()
    assert [i["ebayItemId"] for i in watched["items"]] == [item_id]

    created = api.post(
        "/bids",
        json={"ebayItemId": item_id, "maxBidAmount": 4_000, "snipeLeadSeconds": LEAD},
    )
    assert created.status_code == 201, created.text
    bid_id = created.json()["bidId"]

    def finished() -> dict[str, Any] | None:
        bid: dict[str, Any] = api.get(f"/bids/{bid_id}").json()
        return bid if bid["status"] in ("WON", "LOST", "FAILED") else None

    bid = wait_for(finished, timeout=AUCTION_SECONDS + 40, interval=0.5)

    assert bid["status"] == "WON", bid
    # Proxy rules: our $40 max beats the rival's $30; we pay $30 + the $1 increment.
    assert bid["finalPrice"] == 3_100
    ended = admin.get(f"/listings/{item_id}").json()
    assert ended["outcome"]["winner"] == "erin-on-ebay"
    ours = [b for b in ended["bids"] if b["bidder"] == "erin-on-ebay"]
    assert len(ours) == 1 and ours[0]["accepted"]
    # It landed at its lead before the end, and says how close. The bid keeps the
    # end in whole seconds and knows eBay's clock from Date headers (whole seconds,
    # narrowed answer by answer), so it may go out up to a second and a half early,
    # never late.
    end = seconds(ended["endTime"])
    landed = seconds(ours[0]["placedAt"])
    assert end - LEAD - 1.5 <= landed < end - LEAD + 1.0
    assert landed < end - 1
    assert bid["targetTime"] == bid["auctionEndTime"] - LEAD
    assert 0 <= bid["latenessMs"] < 1_000
    assert bid["sentAt"] is not None and bid["ebayAnsweredAt"] is not None

    timeline = api.get(f"/bid-history/{bid_id}").json()["items"]
    assert [entry["action"] for entry in timeline] == ["CREATE", "PLACE", "WIN"]
    assert timeline[-1]["finalPrice"] == 3_100

    emails = wait_for(
        lambda: outbox.get("/outbox/emails").json()["emails"] or None, timeout=20
    )
    time.sleep(1)  # a second email would have arrived by now
    emails = outbox.get("/outbox/emails").json()["emails"]
    assert len(emails) == 1, emails
    (email,) = emails
    assert "erin@example.com" in email["to"]
    page = outbox.get(f"/outbox/emails/{email['id']}.html").text
    assert "Hasselblad 500C/M" in page
    assert "31.00" in page


@pytest.fixture(scope="module")
def late_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """Scheduler delivering like AWS, scaled down: up to 3 s late, and half the
    deliveries twice. The margin must absorb the delay, as 90 s absorbs 60 s and
    a cold start on AWS, where each container has a machine of its own. Here the
    duplicates would start six or seven executor containers within seconds on two
    cores that another test worker shares (inits of 7-10 s, seen in CI and in a
    clean clone), so the test warms them first, as the fault campaign does."""
    folder = tmp_path_factory.mktemp("late-stack")
    (ebay_port,) = free_ports(1)
    running = start_stack(
        folder,
        template=ROOT / "template.yaml",
        ebay_port=ebay_port,
        extra=(
            "--env",
            f"SNIPE_MARGIN_SECONDS={LATE_MARGIN}",
            "--env",
            "OUTCOME_WAIT_SECONDS=15",
            "--schedule-delay",
            "0-3",
            "--schedule-duplicates",
            "0.5",
            "--schedule-seed",
            "11",
        ),
    )
    yield running
    running.stop()


def test_late_and_duplicate_deliveries_all_land_on_time_once(
    late_stack: RunningStack,
) -> None:
    stack = late_stack
    admin = httpx.Client(base_url=f"{stack.ebay}/__admin", timeout=30)
    api = sign_in_and_link(stack, "finn", "finn-on-ebay")
    prewarm(stack, 2 * AUCTIONS)  # a container for each snipe and its duplicate
    items = [
        admin.post(
            "/listings", json={"startPrice": "10.00", "endsInSeconds": 36 + i}
        ).json()["itemId"]
        for i in range(AUCTIONS)
    ]
    bids = []
    for item_id in items:
        made = api.post(
            "/bids",
            json={
                "ebayItemId": item_id,
                "maxBidAmount": 2_000,
                "snipeLeadSeconds": LEAD,
            },
        )
        assert made.status_code == 201, made.text
        bids.append(made.json()["bidId"])

    def all_finished() -> list[dict[str, Any]] | None:
        found = [api.get(f"/bids/{bid_id}").json() for bid_id in bids]
        done = all(b["status"] in ("WON", "LOST", "FAILED") for b in found)
        return found if done else None

    finished = wait_for(all_finished, timeout=75, interval=0.5)

    outcomes = [(b["status"], b.get("reason")) for b in finished]
    # On failure, when the stack itself stalled: (due, seconds late) of each late
    # schedule and each invocation that waited for a container.
    assert [status for status, _ in outcomes] == ["WON"] * AUCTIONS, (
        outcomes,
        stalls(stack.log_path),
    )
    for bid, item_id in zip(finished, items, strict=True):
        listing = admin.get(f"/listings/{item_id}").json()
        ours = [b for b in listing["bids"] if b["bidder"] == "finn-on-ebay"]
        assert len(ours) == 1, ours  # duplicates placed nothing more
        landed = seconds(ours[0]["placedAt"])
        end = seconds(listing["endTime"])
        assert end - LEAD - 1.5 <= landed < end - LEAD + 1.0
        # The record's lateness: never early, and before the end. Its precision
        # is the snipe benchmark's (docs/benchmarks.md). Once, in a full run with
        # the other worker busy, a bid eBay got under a second after its target
        # recorded 1,534 ms: most likely a first try that timed out while still
        # queued at the emulator, a reconcile that found no bid yet, and a resend
        # whose lateness was recorded (an upper bound; eBay kept the first).
        assert 0 <= bid["latenessMs"] < LEAD * 1_000, (bid, ours, end)
