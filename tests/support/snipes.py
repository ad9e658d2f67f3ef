"""The scheduling side of bids in tests: moto's Scheduler group, the executor's
and Scheduler's ARNs, a fast snipe timing, and a caller with a linked eBay account."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from sniper import composition_bids
from sniper.snipe.scheduling import scheduler_settings
from sniper.snipe.timing import snipe_timing
from tests.support.ebay_world import EbayWorld
from tests.support.handlers import (
    ALICE,
    Invoker,
    as_user,
    body_of,
    sample_event,
    with_body,
)

GROUP = "ebay-sniper-snipes-test"
EXECUTOR_ARN = "arn:aws:lambda:us-east-1:123456789012:function:bid-executor-test"
ROLE_ARN = "arn:aws:iam::123456789012:role/scheduler-invoke-test"
# Seconds the executor is woken before the target: small, so tests run fast.
MARGIN_SECONDS = 30


@dataclass
class SnipeWorld:
    group: str
    dead_letter_arn: str

    def schedules(self) -> list[dict[str, Any]]:
        """Every schedule in the bids' group, whole."""
        client = boto3.client("scheduler")
        names = [
            s["Name"] for s in client.list_schedules(GroupName=self.group)["Schedules"]
        ]
        return [client.get_schedule(Name=n, GroupName=self.group) for n in names]

    def schedule(self, name: str) -> dict[str, Any] | None:
        for schedule in self.schedules():
            if schedule["Name"] == name:
                return schedule
        return None

    @staticmethod
    def input_of(schedule: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(schedule["Target"]["Input"])
        return result


def scheduling(
    monkeypatch: pytest.MonkeyPatch, margin_seconds: int = MARGIN_SECONDS
) -> SnipeWorld:
    """moto's schedule group and DLQ, and the functions' environment naming them."""
    boto3.client("scheduler").create_schedule_group(Name=GROUP)
    queue = boto3.client("sqs").create_queue(QueueName="snipe-dlq")["QueueUrl"]
    dlq_arn = boto3.client("sqs").get_queue_attributes(
        QueueUrl=queue, AttributeNames=["QueueArn"]
    )["Attributes"]["QueueArn"]
    for name, value in {
        "SCHEDULER_GROUP_NAME": GROUP,
        "BID_EXECUTOR_FUNCTION_ARN": EXECUTOR_ARN,
        "SCHEDULER_ROLE_ARN": ROLE_ARN,
        "SCHEDULE_DLQ_ARN": dlq_arn,
        "SNIPE_MARGIN_SECONDS": str(margin_seconds),
        "NOTIFICATION_FUNCTION_NAME": "notification-handler-test",
    }.items():
        monkeypatch.setenv(name, value)
    scheduler_settings.cache_clear()
    snipe_timing.cache_clear()
    composition_bids.reset()
    return SnipeWorld(group=GROUP, dead_letter_arn=str(dlq_arn))


def link_ebay(ebay: EbayWorld, username: str, user: str = ALICE) -> None:
    """`user` links eBay account `username` through the OAuth function."""
    oauth = Invoker("ebay_oauth")
    started = body_of(
        oauth(as_user(sample_event("ebay_oauth/auth_url_get.json"), user))
    )
    redirect = ebay.consent(started["authUrl"], username)
    response = oauth(
        with_body(
            as_user(sample_event("ebay_oauth/callback_post.json"), user), redirect
        )
    )
    assert response["statusCode"] == 200, response["body"]
