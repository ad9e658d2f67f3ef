"""On the local stack: the Notification Handler, invoked through the local Lambda
API as the Bid Executor invokes it, emails through the Postmark outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from sniper.models.statuses import BidStatus
from tests.e2e.support import STAGE, RunningStack, free_ports, start_stack, wait_for
from tests.support.bids import a_bid
from tests.support.handlers import ROOT
from tests.unit.notifications.support import a_profile

pytestmark = pytest.mark.slow
FUNCTION = f"ebay-sniper-notification-handler-{STAGE}"
ADDRESS = "dana@example.com"


@pytest.fixture(scope="module")
def mail_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("mail-stack")
    (outbox_port,) = free_ports(1)
    running = start_stack(
        folder, template=ROOT / "template.yaml", outbox_port=outbox_port
    )
    yield running
    running.stop()


@pytest.fixture
def outbox(mail_stack: RunningStack) -> Iterator[httpx.Client]:
    assert mail_stack.outbox is not None
    with httpx.Client(base_url=mail_stack.outbox, timeout=10) as http:
        http.delete("/outbox/emails").raise_for_status()
        yield http


def put(stack: RunningStack, table: str, item: dict[str, Any]) -> None:
    dynamodb = boto3.resource(
        "dynamodb", endpoint_url=stack.aws, region_name="us-east-1"
    )
    dynamodb.Table(table).put_item(Item=item)


def invoke(stack: RunningStack, event: dict[str, Any], **options: Any) -> Any:
    return stack.client("lambda").invoke(
        FunctionName=FUNCTION, Payload=json.dumps(event).encode(), **options
    )


def test_a_bids_outcome_lands_in_the_outbox_once(
    mail_stack: RunningStack, outbox: httpx.Client
) -> None:
    profile = a_profile("dana", email=ADDRESS)
    bid = a_bid(
        "dana",
        status=BidStatus.WON,
        item_title='Leica <M6> "mint"',
        item_url="https://www.ebay.com/itm/110000000007",
        final_price=2_350,
        lateness_ms=120,
    )
    put(mail_stack, f"ebay-sniper-users-{STAGE}", profile.to_item())
    put(mail_stack, f"ebay-sniper-bids-{STAGE}", bid.to_item())
    event = {
        "kind": "BID_ENDED",
        "bidId": bid.bid_id,
        "userId": "dana",
        "status": "WON",
        "ebayItemId": bid.ebay_item_id,
        "bidAmount": bid.max_bid_amount,
    }

    answer = invoke(mail_stack, event)
    result = json.loads(answer["Payload"].read())
    # As the Bid Executor does: asynchronously; the repeat sends nothing more.
    queued = invoke(mail_stack, event, InvocationType="Event")

    assert "FunctionError" not in answer, result
    assert (result["sent"], result["reason"]) == (True, "SENT")
    assert queued["StatusCode"] == 202
    listed = outbox.get("/outbox/emails").json()["emails"]
    (email,) = [e for e in listed if e["to"] == ADDRESS]
    assert email["subject"] == 'You won: Leica <M6> "mint"'
    assert email["metadata"]["bidId"] == bid.bid_id
    page = outbox.get(email["html"])
    assert "Leica &lt;M6&gt; &quot;mint&quot;" in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]
    wait_for(lambda: "already handled" in mail_stack.log(), timeout=15)
    assert len(outbox.get("/outbox/emails").json()["emails"]) == 1
    assert ADDRESS not in mail_stack.log()
    assert "local-postmark-server-token" not in mail_stack.log()


def test_the_startup_summary_names_the_outbox(mail_stack: RunningStack) -> None:
    assert f"Postmark       {mail_stack.outbox}" in mail_stack.log()
