"""Each active bid's one EventBridge Scheduler one-time schedule (and, once the
auction ended with its outcome unknown, an outcome check's).

A schedule's name derives from the bid id, so a retried create finds the schedule it
made before instead of making a second one. Flexible window off, deleted after it
fires, retried only while delivering still makes sense (until the auction's end),
then dead-lettered.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from sniper import aws
from sniper.models.snipe import BidExecutionEvent, ExecutionKind
from sniper.settings import MissingSettingError
from sniper.snipe.timing import SnipeTiming

# Scheduler's bounds for a target's retry policy.
MIN_EVENT_AGE_SECONDS = 60
MAX_EVENT_AGE_SECONDS = 86_400
MAX_RETRY_ATTEMPTS = 20


@dataclass(frozen=True)
class SchedulerSettings:
    """Where schedules go and whom they wake."""

    group_name: str
    executor_arn: str
    role_arn: str
    dead_letter_arn: str | None = None

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str] | None = None
    ) -> SchedulerSettings:
        env = os.environ if environ is None else environ

        def required(name: str, purpose: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise MissingSettingError(name, purpose)
            return value

        return cls(
            group_name=required("SCHEDULER_GROUP_NAME", "the bids' schedule group"),
            executor_arn=required("BID_EXECUTOR_FUNCTION_ARN", "the Bid Executor"),
            role_arn=required("SCHEDULER_ROLE_ARN", "the role Scheduler assumes"),
            dead_letter_arn=env.get("SCHEDULE_DLQ_ARN", "").strip() or None,
        )


@cache
def scheduler_settings() -> SchedulerSettings:
    return SchedulerSettings.from_environ()


def snipe_schedule_name(bid_id: str) -> str:
    return f"snipe-{bid_id}"


def outcome_schedule_name(bid_id: str, attempt: int) -> str:
    return f"outcome-{bid_id}-{attempt}"


def at_expression(moment: int) -> str:
    """Scheduler's one-time expression, in UTC (the time zone is set apart)."""
    when = datetime.fromtimestamp(moment, tz=UTC)
    return f"at({when.strftime('%Y-%m-%dT%H:%M:%S')})"


@dataclass(frozen=True)
class ScheduledSnipe:
    name: str
    fire_at: int


class ScheduleMissing(Exception):
    """The schedule is not there (already fired, deleted or never made)."""


class SnipeScheduler:
    """Creates, moves and deletes the schedules that wake the Bid Executor."""

    def __init__(
        self,
        timing: SnipeTiming,
        settings: SchedulerSettings | None = None,
    ) -> None:
        self.timing = timing
        self._settings = settings

    @property
    def settings(self) -> SchedulerSettings:
        # Read on first use: functions import without their environment.
        return self._settings or scheduler_settings()

    def create(
        self,
        *,
        bid_id: str,
        user_id: str,
        ebay_item_id: str,
        auction_end_time: int,
        lead_seconds: int,
        max_bid_amount: int,
    ) -> ScheduledSnipe:
        """The bid's snipe schedule; a repeated create with the same bid moves it."""
        request, scheduled = self._snipe_request(
            bid_id,
            user_id,
            ebay_item_id,
            auction_end_time,
            lead_seconds,
            max_bid_amount,
        )
        client = aws.scheduler_client()
        try:
            client.create_schedule(**request)
        except ClientError as error:
            if _code(error) != "ConflictException":
                raise
            client.update_schedule(**request)
        return scheduled

    def move(
        self,
        *,
        bid_id: str,
        user_id: str,
        ebay_item_id: str,
        auction_end_time: int,
        lead_seconds: int,
        max_bid_amount: int,
    ) -> ScheduledSnipe:
        """Move the snipe to a new lead. `UpdateSchedule` resets every field it is
        not given, so the whole schedule is sent again."""
        request, scheduled = self._snipe_request(
            bid_id,
            user_id,
            ebay_item_id,
            auction_end_time,
            lead_seconds,
            max_bid_amount,
        )
        client = aws.scheduler_client()
        try:
            client.update_schedule(**request)
        except ClientError as error:
            if _code(error) != "ResourceNotFoundException":
                raise
            client.create_schedule(**request)
        return scheduled

    def _snipe_request(
        self,
        bid_id: str,
        user_id: str,
        ebay_item_id: str,
        auction_end_time: int,
        lead_seconds: int,
        max_bid_amount: int,
    ) -> tuple[dict[str, Any], ScheduledSnipe]:
        """The whole schedule of a snipe, and when it fires."""
        fire_at = self.timing.fire_at(auction_end_time, lead_seconds)
        event = BidExecutionEvent(
            bidId=bid_id,
            userId=user_id,
            kind=ExecutionKind.SNIPE,
            ebayItemId=ebay_item_id,
            auctionEndTime=auction_end_time,
            maxBidAmount=max_bid_amount,
        )
        name = snipe_schedule_name(bid_id)
        request = self._request(name, fire_at, auction_end_time, event)
        return request, ScheduledSnipe(name, fire_at)

    def schedule_outcome_check(
        self,
        *,
        bid_id: str,
        user_id: str,
        ebay_item_id: str,
        auction_end_time: int,
        attempt: int,
        now: float,
    ) -> ScheduledSnipe:
        """A later look at an ended auction whose outcome eBay had not told yet."""
        fire_at = max(
            self.timing.outcome_check_at(auction_end_time, attempt), int(now) + 1
        )
        event = BidExecutionEvent(
            bidId=bid_id,
            userId=user_id,
            kind=ExecutionKind.OUTCOME_CHECK,
            attempt=attempt,
            ebayItemId=ebay_item_id,
            auctionEndTime=auction_end_time,
        )
        name = outcome_schedule_name(bid_id, attempt)
        # Delivering an outcome check stays useful for a day, not just until the end.
        request = self._request(name, fire_at, fire_at + MAX_EVENT_AGE_SECONDS, event)
        try:
            aws.scheduler_client().create_schedule(**request)
        except ClientError as error:
            if _code(error) != "ConflictException":
                raise
        return ScheduledSnipe(name, fire_at)

    def delete(self, name: str) -> bool:
        """Delete a schedule; False when it was already gone (fired or deleted)."""
        try:
            aws.scheduler_client().delete_schedule(
                Name=name, GroupName=self.settings.group_name
            )
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return False
            raise
        return True

    def describe(self, name: str) -> dict[str, Any]:
        """The stored schedule (the sweeper checks a PENDING bid still has one)."""
        try:
            schedule: dict[str, Any] = aws.scheduler_client().get_schedule(
                Name=name, GroupName=self.settings.group_name
            )
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                raise ScheduleMissing(name) from error
            raise
        return schedule

    def _request(
        self, name: str, fire_at: int, useful_until: int, event: BidExecutionEvent
    ) -> dict[str, Any]:
        settings = self.settings
        age = min(
            MAX_EVENT_AGE_SECONDS, max(MIN_EVENT_AGE_SECONDS, useful_until - fire_at)
        )
        target: dict[str, Any] = {
            "Arn": settings.executor_arn,
            "RoleArn": settings.role_arn,
            "Input": event.model_dump_json(exclude_none=True),
            "RetryPolicy": {
                "MaximumEventAgeInSeconds": age,
                "MaximumRetryAttempts": MAX_RETRY_ATTEMPTS,
            },
        }
        if settings.dead_letter_arn:
            target["DeadLetterConfig"] = {"Arn": settings.dead_letter_arn}
        return {
            "Name": name,
            "GroupName": settings.group_name,
            "ScheduleExpression": at_expression(fire_at),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "DELETE",
            "State": "ENABLED",
            "Target": target,
        }


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
