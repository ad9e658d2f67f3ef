"""The schedule runner: fires what EventBridge Scheduler and EventBridge rules would.

moto's Scheduler stores schedules but never fires or deletes them. The runner polls it
(every `poll_interval` seconds) and:

- fires a one-time `at()` schedule once it is due (in its `ScheduleExpressionTimezone`),
  never twice, and deletes it afterwards when `ActionAfterCompletion` is `DELETE`;
- fires recurring `rate()`/`cron()` schedules on their cadence (from `StartDate`, or
  the schedule's creation) until `EndDate`;
- fires the template's EventBridge rules (`Schedule` events of functions and
  `AWS::Events::Rule` with a `ScheduleExpression`) on their cadence from the stack's
  start.

A schedule the app deletes, disables or updates after the runner read it but before
its delivery leaves is not delivered (it is read again just before): cancelling or
moving a snipe at the last moment must not fire the old one.

Firing means delivering the target's `Input` (with Scheduler's `<aws.scheduler.*>`
context attributes filled in) the way AWS does: a Lambda target is invoked
asynchronously (Lambda's own retries and dead-letter queue then handle the
function's errors), an SQS target gets a message. A delivery that fails (say the
function does not exist) is retried per the target's `RetryPolicy`, sooner than on
AWS, and then sent to its `DeadLetterConfig` queue.

AWS delivers late and at least once. `DeliveryChaos` makes the runner do so too: each
firing waits a random delay (uniform, seeded for reproducible runs) and a fraction is
delivered twice, so tests can show that a snipe's margin absorbs lateness and that a
duplicate does no harm. The schedule is read again when the delay is over, right
before the send; a duplicate is the same event again and is not.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from local.stack.aws import AwsClients, arn_parts, queue_url
from local.stack.console import Console
from local.stack.expressions import At, Cron, Expression, ExpressionError, Rate, parse

DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_EVENT_AGE_S = 86400
# A duplicate follows the delivery it repeats by up to this long: close enough to
# race the first invocation, as AWS's duplicates can.
DUPLICATE_GAP_S = 1.0


class AsyncInvoker(Protocol):
    def invoke_async(self, identifier: str, payload: str) -> str: ...


class Chance(Protocol):
    """What the runner draws delays and duplicates from (`random.Random`)."""

    def uniform(self, a: float, b: float) -> float: ...

    def random(self) -> float: ...


@dataclass(frozen=True)
class DeliveryChaos:
    """How late and how often twice the runner delivers (none by default).

    `delay` is the (lowest, highest) delay in seconds, drawn uniformly per firing;
    `duplicates` the fraction of deliveries sent a second time, after a further
    delay of up to `DUPLICATE_GAP_S`.
    """

    delay: tuple[float, float] = (0.0, 0.0)
    duplicates: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        low, high = self.delay
        if not 0 <= low <= high:
            raise ValueError(f"a delivery delay of {low:g}-{high:g}s is not a range")
        if not 0 <= self.duplicates <= 1:
            raise ValueError(f"a duplicate rate of {self.duplicates:g} is not 0..1")

    @property
    def active(self) -> bool:
        return self.delay[1] > 0 or self.duplicates > 0

    def describe(self) -> str:
        low, high = self.delay
        parts = []
        if high > 0:
            late = f"{low:g}-{high:g}s" if low != high else f"{high:g}s"
            parts.append(f"deliveries {late} late")
        if self.duplicates > 0:
            parts.append(f"{self.duplicates:.0%} delivered twice")
        seed = f" (seed {self.seed})" if self.seed is not None else ""
        return ", ".join(parts) + seed


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = DEFAULT_RETRY_ATTEMPTS
    max_age_s: int = DEFAULT_EVENT_AGE_S

    @classmethod
    def of(cls, raw: dict[str, Any] | None) -> RetryPolicy:
        raw = raw or {}
        return cls(
            attempts=int(raw.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)),
            max_age_s=int(raw.get("MaximumEventAgeInSeconds", DEFAULT_EVENT_AGE_S)),
        )


@dataclass
class Schedule:
    """A schedule the runner tracks (from moto, or a template rule)."""

    key: str  # the schedule's ARN (a rule's ARN for template rules)
    name: str
    expression: Expression
    target_arn: str
    input: str | None
    retry: RetryPolicy
    dead_letter_arn: str | None
    delete_after: bool = False
    group: str | None = None
    version: str = ""
    start: datetime | None = None
    end: datetime | None = None
    rule: bool = False  # an EventBridge rule: the event is a "Scheduled Event"
    next_fire: datetime | None = None
    fired_key: str = ""


@dataclass
class Delivery:
    schedule: Schedule
    scheduled_time: datetime
    first_attempt_at: float
    attempt: int = 0  # retries so far
    errors: list[str] = field(default_factory=list)
    # Drawn when it fires: how long after a successful send it is sent again.
    duplicate_after: float | None = None
    # A duplicate carries the payload that was sent, unchanged.
    duplicate_of: str | None = None


def _moment(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ScheduleRunner:
    def __init__(
        self,
        lambdas: AsyncInvoker,
        console: Console,
        *,
        clients: AwsClients | None = None,
        rules: list[Schedule] | None = None,
        clock: Callable[[], float] = time.time,
        poll_interval: float = 0.25,
        retry_delay: float = 0.5,
        executor: Executor | None = None,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        chaos: DeliveryChaos | None = None,
        chance: Chance | None = None,
    ) -> None:
        self._lambdas = lambdas
        self._console = console
        self._clients = clients
        self._clock = clock
        self._poll_interval = poll_interval
        self._retry_delay = retry_delay
        self._executor = executor
        self._region = region
        self._account_id = account_id
        self._chaos = chaos or DeliveryChaos()
        self._chance = chance or random.Random(self._chaos.seed)
        self._schedules: dict[str, Schedule] = {}
        self._rules = list(rules or [])
        self._fired: set[str] = set()
        self._warned: set[str] = set()
        # Deliveries waiting for their moment: retries, delayed ones, duplicates.
        self._queued: list[tuple[float, Delivery]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        started = datetime.fromtimestamp(self._clock(), tz=UTC)
        for rule in self._rules:
            rule.next_fire = self._next(rule, started, anchor=started)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if self._chaos.active:
            self._console.line("scheduler", self._chaos.describe())
        self._thread = threading.Thread(
            target=self._loop, name="schedule-runner", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except (ClientError, BotoCoreError) as error:
                self._warn_once(
                    "poll", f"schedule runner cannot read schedules: {error}"
                )
            except Exception as error:  # keep the runner alive whatever happens
                self._console.line("scheduler", f"error: {error!r}")
            self._stop.wait(self._poll_interval)

    def export_state(self) -> dict[str, Any]:
        """What a restart must remember; a firing still waiting for its delay is
        not fired yet, so after a restart it fires at once."""
        with self._lock:
            waiting = {
                delivery.schedule.fired_key
                for _, delivery in self._queued
                if delivery.attempt == 0 and delivery.duplicate_of is None
            }
            return {"fired": sorted(self._fired - waiting)}

    def import_state(self, state: dict[str, Any]) -> None:
        with self._lock:
            self._fired.update(str(key) for key in state.get("fired", []))

    # ------------------------------------------------------------ polling
    def poll_once(self) -> None:
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        if self._clients is not None:
            self._refresh()
        for schedule in [*self._schedules.values(), *self._rules]:
            self._consider(schedule, now)
        self._run_queued()

    def _refresh(self) -> None:
        assert self._clients is not None
        scheduler = self._clients.client("scheduler")
        seen = set()
        for page in scheduler.get_paginator("list_schedules").paginate():
            for summary in page.get("Schedules", []):
                arn = str(summary["Arn"])
                seen.add(arn)
                if summary.get("State", "ENABLED") != "ENABLED":
                    self._schedules.pop(arn, None)
                    continue
                version = str(summary.get("LastModificationDate", ""))
                known = self._schedules.get(arn)
                if known is not None and known.version == version:
                    continue
                definition = self._describe(scheduler, summary, version)
                if definition is None:
                    self._schedules.pop(arn, None)
                else:
                    self._schedules[arn] = definition
        for arn in set(self._schedules) - seen:
            del self._schedules[arn]

    def _describe(
        self, scheduler: Any, summary: dict[str, Any], version: str
    ) -> Schedule | None:
        try:
            raw = scheduler.get_schedule(
                Name=summary["Name"], GroupName=summary["GroupName"]
            )
        except ClientError:
            return None
        arn = str(raw["Arn"])
        try:
            expression = parse(
                str(raw["ScheduleExpression"]), raw.get("ScheduleExpressionTimezone")
            )
        except ExpressionError as error:
            self._warn_once(
                f"{arn}:{version}", f"schedule {raw['Name']}: {error}; ignored"
            )
            return None
        target = raw.get("Target") or {}
        window = raw.get("FlexibleTimeWindow") or {}
        if window.get("Mode") == "FLEXIBLE":
            self._warn_once(
                f"flex:{arn}",
                f"schedule {raw['Name']}: fired at the start of its window",
            )
        schedule = Schedule(
            key=arn,
            name=str(raw["Name"]),
            group=str(raw.get("GroupName") or "default"),
            expression=expression,
            target_arn=str(target.get("Arn", "")),
            input=target.get("Input"),
            retry=RetryPolicy.of(target.get("RetryPolicy")),
            dead_letter_arn=(target.get("DeadLetterConfig") or {}).get("Arn"),
            delete_after=raw.get("ActionAfterCompletion") == "DELETE",
            version=version,
            start=_moment(raw.get("StartDate")),
            end=_moment(raw.get("EndDate")),
        )
        schedule.fired_key = f"{arn}|{raw['ScheduleExpression']}|{version}"
        anchor = (
            schedule.start or _moment(raw.get("CreationDate")) or _moment(self._clock())
        )
        now = datetime.fromtimestamp(self._clock(), tz=UTC)
        if isinstance(expression, At):
            schedule.next_fire = expression.when
        else:
            schedule.next_fire = self._next(schedule, now, anchor=anchor)
        return schedule

    def _next(
        self, schedule: Schedule, after: datetime, *, anchor: datetime | None
    ) -> datetime | None:
        expression = schedule.expression
        if schedule.start is not None and after < schedule.start:
            after = schedule.start
        upcoming: datetime | None
        if isinstance(expression, Rate):
            upcoming = expression.next_after(after, anchor or after)
        elif isinstance(expression, Cron):
            upcoming = expression.next_after(after)
        else:
            upcoming = expression.next_after(after)
        if (
            upcoming is not None
            and schedule.end is not None
            and upcoming > schedule.end
        ):
            return None
        return upcoming

    def _consider(self, schedule: Schedule, now: datetime) -> None:
        due = schedule.next_fire
        if due is None or now < due:
            return
        if isinstance(schedule.expression, At):
            with self._lock:
                if schedule.fired_key in self._fired:
                    return
                self._fired.add(schedule.fired_key)
            schedule.next_fire = None
        else:
            schedule.next_fire = self._next(schedule, max(now, due), anchor=due)
        late = (now - due).total_seconds()
        delivery = Delivery(schedule, due, self._clock())
        delay = self._draw(delivery)
        self._console.line(
            "scheduler",
            f"{'rule' if schedule.rule else 'schedule'} {schedule.name} fired "
            f"(due {_iso(due)}{f', {late:.1f}s late' if late >= 2 else ''}"
            f"{f', delivery delayed {delay:.1f}s' if delay > 0 else ''})",
        )
        if delay > 0:
            self._queue(self._clock() + delay, delivery)
        else:
            self._dispatch(delivery)

    def _draw(self, delivery: Delivery) -> float:
        """This firing's delay, and whether (and when) it is delivered twice.

        Drawn on the runner's thread, in firing order, so a seed replays a run.
        """
        low, high = self._chaos.delay
        delay = self._chance.uniform(low, high) if high > 0 else 0.0
        rate = self._chaos.duplicates
        if rate > 0 and self._chance.random() < rate:
            delivery.duplicate_after = self._chance.uniform(0.0, DUPLICATE_GAP_S)
        return delay

    # ------------------------------------------------------------ delivery
    def _dispatch(self, delivery: Delivery) -> None:
        if self._executor is None:
            self._deliver(delivery)
        else:
            self._executor.submit(self._deliver, delivery)

    def _payload(self, delivery: Delivery, execution_id: str) -> str:
        schedule = delivery.schedule
        if schedule.rule and schedule.input is None:
            return json.dumps(
                {
                    "version": "0",
                    "id": execution_id,
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": self._account_id,
                    "time": _iso(delivery.scheduled_time),
                    "region": self._region,
                    "resources": [schedule.key],
                    "detail": {},
                }
            )
        text = schedule.input if schedule.input is not None else "{}"
        replacements = {
            "<aws.scheduler.schedule-arn>": schedule.key,
            "<aws.scheduler.scheduled-time>": _iso(delivery.scheduled_time),
            "<aws.scheduler.execution-id>": execution_id,
            "<aws.scheduler.attempt-number>": str(delivery.attempt + 1),
        }
        for placeholder, value in replacements.items():
            text = text.replace(placeholder, value)
        return text

    def _superseded(self, schedule: Schedule) -> bool:
        """Whether the app deleted, disabled or updated the schedule since the runner
        read it: then this firing must not happen (an update fires at its new time).
        """
        if schedule.rule or self._clients is None:
            return False
        try:
            raw = self._clients.client("scheduler").get_schedule(
                Name=schedule.name, GroupName=schedule.group or "default"
            )
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            return code == "ResourceNotFoundException"
        return (
            raw.get("State", "ENABLED") != "ENABLED"
            or str(raw.get("LastModificationDate", "")) != schedule.version
        )

    def _deliver(self, delivery: Delivery) -> None:
        schedule = delivery.schedule
        if delivery.duplicate_of is not None:
            self._deliver_again(delivery)
            return
        if delivery.attempt == 0 and self._superseded(schedule):
            self._console.line(
                "scheduler",
                f"schedule {schedule.name} was changed or deleted before it fired; "
                "not delivered",
            )
            return
        execution_id = str(uuid.uuid4())
        payload = self._payload(delivery, execution_id)
        try:
            self._send(schedule.target_arn, payload)
        except Exception as error:
            delivery.errors.append(str(error))
            age = self._clock() - delivery.first_attempt_at
            if (
                delivery.attempt < schedule.retry.attempts
                and age < schedule.retry.max_age_s
            ):
                delay = min(self._retry_delay * 2**delivery.attempt, 60.0)
                delivery.attempt += 1
                self._console.line(
                    "scheduler",
                    f"{schedule.name}: delivery failed ({error}); retry "
                    f"{delivery.attempt}/{schedule.retry.attempts} in {delay:g}s",
                )
                self._queue(self._clock() + delay, delivery)
                return
            self._console.line(
                "scheduler",
                f"{schedule.name}: delivery failed after {delivery.attempt + 1} "
                f"attempt(s) ({error})",
            )
            self._dead_letter(delivery, payload, execution_id, str(error))
        else:
            if delivery.duplicate_after is not None:
                duplicate = Delivery(
                    schedule,
                    delivery.scheduled_time,
                    delivery.first_attempt_at,
                    attempt=delivery.attempt,
                    duplicate_of=payload,
                )
                self._queue(self._clock() + delivery.duplicate_after, duplicate)
        self._complete(schedule)

    def _deliver_again(self, delivery: Delivery) -> None:
        """AWS's at-least-once delivery: the same event once more. Not read again
        (the first delivery may have deleted the schedule), never retried."""
        assert delivery.duplicate_of is not None
        name = delivery.schedule.name
        try:
            self._send(delivery.schedule.target_arn, delivery.duplicate_of)
        except Exception as error:
            self._console.line("scheduler", f"{name}: duplicate lost ({error})")
            return
        self._console.line("scheduler", f"schedule {name} delivered again (duplicate)")

    def _send(self, target_arn: str, payload: str) -> None:
        service = arn_parts(target_arn)[2] if target_arn.startswith("arn:") else ""
        if service == "lambda":
            self._lambdas.invoke_async(target_arn, payload)
        elif service == "sqs" and self._clients is not None:
            self._clients.client("sqs").send_message(
                QueueUrl=queue_url(self._clients, target_arn), MessageBody=payload
            )
        else:
            raise RuntimeError(f"target {target_arn} is not emulated locally")

    def _dead_letter(
        self, delivery: Delivery, payload: str, execution_id: str, error: str
    ) -> None:
        schedule = delivery.schedule
        if not schedule.dead_letter_arn:
            self._console.line(
                "scheduler", f"{schedule.name}: no DeadLetterConfig; dropped"
            )
            return
        if self._clients is None:
            return
        attributes = {
            "ERROR_CODE": "TargetUnavailable"
            if "not found" in error.lower()
            else "Error",
            "ERROR_MESSAGE": error[:1000] or "error",
            "EXECUTION_ID": execution_id,
            "RETRY_ATTEMPTS": str(delivery.attempt),
            "SCHEDULE_ARN" if not schedule.rule else "RULE_ARN": schedule.key,
            "TARGET_ARN": schedule.target_arn,
        }
        try:
            self._clients.client("sqs").send_message(
                QueueUrl=queue_url(self._clients, schedule.dead_letter_arn),
                MessageBody=payload,
                MessageAttributes={
                    name: {"DataType": "String", "StringValue": value}
                    for name, value in attributes.items()
                },
            )
            self._console.line(
                "scheduler", f"{schedule.name}: sent to {schedule.dead_letter_arn}"
            )
        except Exception as failure:
            self._console.line(
                "scheduler", f"{schedule.name}: DLQ delivery failed: {failure}"
            )

    def _complete(self, schedule: Schedule) -> None:
        if not (schedule.delete_after and isinstance(schedule.expression, At)):
            return
        if self._clients is None:
            return
        try:
            self._clients.client("scheduler").delete_schedule(
                Name=schedule.name, GroupName=schedule.group or "default"
            )
        except ClientError:
            return
        with self._lock:
            self._fired.discard(schedule.fired_key)
        self._console.line(
            "scheduler", f"schedule {schedule.name} deleted (ActionAfterCompletion)"
        )

    def _queue(self, when: float, delivery: Delivery) -> None:
        with self._lock:
            self._queued.append((when, delivery))

    def _run_queued(self) -> None:
        now = self._clock()
        with self._lock:
            due = [item for item in self._queued if item[0] <= now]
            self._queued = [item for item in self._queued if item[0] > now]
        for _, delivery in sorted(due, key=lambda item: item[0]):
            self._dispatch(delivery)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._console.line("scheduler", message)


def template_rules(
    functions: dict[str, Any],
    extra_rules: list[dict[str, Any]],
    *,
    region: str,
    account_id: str,
    rate_seconds: int | None = None,
) -> list[Schedule]:
    """EventBridge schedule rules: `Schedule` events of functions, plus resources.

    `functions` maps logical ids to `FunctionSpec`s; `extra_rules` are resolved
    `AWS::Events::Rule` properties with a `ScheduleExpression` (their `Targets`' `Arn`s
    name the functions). `rate_seconds` makes every `rate()` rule fire that often
    instead (tests: a sweep every minute is too slow to wait for); `cron()` keeps.
    """
    rules = []
    for spec in functions.values():
        for event in spec.events.values():
            if event.type != "Schedule":
                continue
            properties = event.properties
            enabled = properties.get("Enabled", True)
            state = str(properties.get("State", "ENABLED"))
            if str(enabled).lower() == "false" or state == "DISABLED":
                continue
            name = str(properties.get("Name") or f"{spec.logical_id}{event.name}")
            rules.append(
                _rule(
                    name,
                    str(properties["Schedule"]),
                    spec.arn,
                    properties.get("Input"),
                    properties.get("RetryPolicy"),
                    (properties.get("DeadLetterConfig") or {}).get("Arn"),
                    region,
                    account_id,
                )
            )
    for properties in extra_rules:
        if str(properties.get("State", "ENABLED")) == "DISABLED":
            continue
        for target in properties.get("Targets") or []:
            rules.append(
                _rule(
                    str(properties.get("Name") or properties.get("__logical_id__")),
                    str(properties["ScheduleExpression"]),
                    str(target["Arn"]),
                    target.get("Input"),
                    target.get("RetryPolicy"),
                    (target.get("DeadLetterConfig") or {}).get("Arn"),
                    region,
                    account_id,
                )
            )
    if rate_seconds is not None:
        for rule in rules:
            if isinstance(rule.expression, Rate):
                rule.expression = Rate(rate_seconds)
    return rules


def _rule(
    name: str,
    expression: str,
    target_arn: str,
    input_: Any,
    retry: Any,
    dead_letter: Any,
    region: str,
    account_id: str,
) -> Schedule:
    try:
        parsed = parse(expression)
    except ExpressionError as error:
        raise ExpressionError(f"rule {name}: {error}") from None
    if isinstance(parsed, At):
        raise ExpressionError(f"rule {name}: EventBridge rules take rate() or cron()")
    return Schedule(
        key=f"arn:aws:events:{region}:{account_id}:rule/{name}",
        name=name,
        expression=parsed,
        target_arn=target_arn,
        input=input_
        if isinstance(input_, str) or input_ is None
        else json.dumps(input_),
        retry=RetryPolicy.of(retry),
        dead_letter_arn=str(dead_letter) if dead_letter else None,
        rule=True,
    )
