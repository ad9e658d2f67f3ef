"""On the local stack, over HTTP: a bid owns exactly one schedule, which follows the
bid's lead and goes when the bid is cancelled or the eBay account is unlinked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.e2e.support import RunningStack, free_ports, start_stack
from tests.support.handlers import ROOT

pytestmark = pytest.mark.slow

MARGIN = 40


@pytest.fixture(scope="module")
def bids_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("bids-stack")
    (ebay_port,) = free_ports(1)
    running = start_stack(
        folder,
        template=ROOT / "template.yaml",
        ebay_port=ebay_port,
        extra=("--env", f"SNIPE_MARGIN_SECONDS={MARGIN}"),
    )
    yield running
    running.stop()


def linked_client(stack: RunningStack, user: str) -> httpx.Client:
    """An API client for `user`, who linked eBay account `<user>-on-ebay`."""
    assert stack.ebay is not None
    api = httpx.Client(
        base_url=stack.api,
        headers={"Authorization": f"Bearer {stack.token(user)}"},
        timeout=30,
    )
    auth_url = api.get("/ebay/auth/url").json()["authUrl"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
    agreed = httpx.post(
        f"{stack.ebay}/oauth2/authorize",
        data={**query, "username": f"{user}-on-ebay", "decision": "agree"},
    )
    redirect = parse_qs(urlsplit(agreed.headers["location"]).query)
    linked = api.post(
        "/ebay/auth/callback",
        json={"code": redirect["code"][0], "state": redirect["state"][0]},
    )
    assert linked.status_code == 200, linked.text
    return api


def auction(stack: RunningStack, **spec: Any) -> str:
    spec.setdefault("startPrice", "10.00")
    spec.setdefault("endsInSeconds", 3_600)
    created = httpx.post(f"{stack.ebay}/__admin/listings", json=spec)
    assert created.status_code == 201, created.text
    return str(created.json()["itemId"])


def schedules(stack: RunningStack) -> dict[str, dict[str, Any]]:
    scheduler = stack.client("scheduler")
    groups = [g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]]
    (group,) = [g for g in groups if "snipes" in g]
    found = {}
    for summary in scheduler.list_schedules(GroupName=group)["Schedules"]:
        name = summary["Name"]
        found[name] = scheduler.get_schedule(Name=name, GroupName=group)
    return found


def at(moment: int) -> str:
    return f"at({datetime.fromtimestamp(moment, tz=UTC):%Y-%m-%dT%H:%M:%S})"


def test_a_bids_schedule_follows_it_and_goes_with_it(bids_stack: RunningStack) -> None:
    api = linked_client(bids_stack, "dora")
    items = [auction(bids_stack) for _ in range(3)]

    made = [
        api.post("/bids", json={"ebayItemId": i, "maxBidAmount": 2_500}) for i in items
    ]
    assert [m.status_code for m in made] == [201, 201, 201], made[0].text
    bids = [m.json() for m in made]

    found = schedules(bids_stack)
    first = found[f"snipe-{bids[0]['bidId']}"]
    assert first["ScheduleExpression"] == at(bids[0]["auctionEndTime"] - 5 - MARGIN)
    assert first["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert first["ActionAfterCompletion"] == "DELETE"
    target = first["Target"]
    assert target["Arn"].endswith(":function:ebay-sniper-bid-executor-local")
    assert target["DeadLetterConfig"]["Arn"].endswith("snipe-schedules-dlq-local")
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 60
    assert json.loads(target["Input"])["bidId"] == bids[0]["bidId"]

    moved = api.put(f"/bids/{bids[0]['bidId']}", json={"snipeLeadSeconds": 15})
    assert moved.status_code == 200, moved.text
    again = schedules(bids_stack)[f"snipe-{bids[0]['bidId']}"]
    assert again["ScheduleExpression"] == at(bids[0]["auctionEndTime"] - 15 - MARGIN)
    assert again["ActionAfterCompletion"] == "DELETE"

    assert api.delete(f"/bids/{bids[1]['bidId']}").status_code == 204
    assert f"snipe-{bids[1]['bidId']}" not in schedules(bids_stack)

    assert api.delete("/ebay/auth/unlink").status_code == 204
    assert schedules(bids_stack) == {}
    listed = api.get("/bids", params={"status": "CANCELLED"}).json()["items"]
    assert {b["bidId"] for b in listed} == {b["bidId"] for b in bids}
