"""On the local stack: Token Refresh, invoked as its schedule invokes it, asks a user
to re-link through the Notification Handler (an async invoke) and the outbox."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from sniper.repositories.ebay_links import StoredEbayLink
from sniper.repositories.users import StoredProfile
from tests.e2e.support import STAGE, RunningStack, free_ports, start_stack, wait_for
from tests.support.handlers import ROOT, sample_event

pytestmark = pytest.mark.slow
FUNCTION = f"ebay-sniper-token-refresh-{STAGE}"
USER = "erin"
ADDRESS = "erin@example.com"
DAY = 86_400


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("token-refresh-stack")
    (outbox_port,) = free_ports(1)
    running = start_stack(
        folder, template=ROOT / "template.yaml", outbox_port=outbox_port
    )
    yield running
    running.stop()


def put(stack: RunningStack, table: str, item: dict[str, Any]) -> None:
    dynamodb = boto3.resource(
        "dynamodb", endpoint_url=stack.aws, region_name="us-east-1"
    )
    dynamodb.Table(f"ebay-sniper-{table}-{STAGE}").put_item(Item=item)


def run_job(stack: RunningStack) -> dict[str, Any]:
    answer = stack.client("lambda").invoke(
        FunctionName=FUNCTION,
        Payload=json.dumps(sample_event("token_refresh/scheduled.json")).encode(),
    )
    result: dict[str, Any] = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, result
    return result


def test_a_link_expiring_soon_gets_one_reminder_email(stack: RunningStack) -> None:
    assert stack.outbox is not None
    now = int(time.time())
    profile = StoredProfile(
        USER,
        ADDRESS,
        created_at=now,
        updated_at=now,
        preferences={"emailNotifications": True},
    )
    # The reminder reads no token: stand-in ciphertexts are enough here.
    link = StoredEbayLink(
        user_id=USER,
        ebay_user_id="EBAY-erin",
        ebay_username="erin-on-ebay",
        access_token_ciphertext=b"sealed",
        access_token_expires_at=now + 7_200,
        refresh_token_ciphertext=b"sealed",
        refresh_token_expires_at=now + 3 * DAY,
        linked_at=now,
        updated_at=now,
    )
    put(stack, "users", profile.to_item())
    put(stack, "users", link.to_item())

    first = run_job(stack)
    second = run_job(stack)

    assert (first["remindersSent"], second["remindersSent"]) == (1, 0)
    with httpx.Client(base_url=stack.outbox, timeout=10) as outbox:
        emails = wait_for(
            lambda: [
                e
                for e in outbox.get("/outbox/emails").json()["emails"]
                if e["to"] == ADDRESS
            ],
            timeout=15,
        )
    assert len(emails) == 1
    assert "link" in emails[0]["subject"].lower()
    assert ADDRESS not in stack.log()
