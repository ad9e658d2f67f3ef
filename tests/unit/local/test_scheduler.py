"""The schedule runner with an injected clock, against moto's Scheduler and SQS."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.stack.aws import AwsClients, enforce_scheduler_rules
from local.stack.cli import config_from, parser
from local.stack.console import Console
from local.stack.lambda_service import FunctionNotFound
from local.stack.scheduler import DeliveryChaos, ScheduleRunner, template_rules
from local.template.functions import EventSpec, FunctionSpec

TARGET = "arn:aws:lambda:us-east-1:123456789012:function:bid-executor"
ROLE = "arn:aws:iam::123456789012:role/scheduler"
T0 = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Lambdas:
    """Records asynchronous invocations; unknown functions are not found."""

    def __init__(self, known: tuple[str, ...] = (TARGET,)) -> None:
        self.known = known
        self.calls: list[tuple[str, Any]] = []

    def invoke_async(self, identifier: str, payload: str) -> str:
        if identifier not in self.known:
            raise FunctionNotFound(identifier, identifier)
        self.calls.append((identifier, json.loads(payload)))
        return "request-id"


def function_with(event_type: str, properties: dict[str, Any]) -> FunctionSpec:
    return FunctionSpec(
        logical_id="TokenRefreshFunction",
        name="token-refresh",
        arn=TARGET,
        runtime="python3.11",
        handler="app.handler",
        code_dir=Path(),
        layer_dirs=(),
        memory_mb=128,
        timeout_s=3,
        environment={},
        events={"Daily": EventSpec("Daily", event_type, properties)},
    )


def runner_for(
    rule_properties: dict[str, Any], clock: Clock, lambdas: Lambdas
) -> ScheduleRunner:
    rules = template_rules(
        {"F": function_with("Schedule", rule_properties)},
        [],
        region="us-east-1",
        account_id="123456789012",
    )
    return ScheduleRunner(lambdas, Console(io.StringIO()), rules=rules, clock=clock)


def test_a_rate_rule_fires_on_its_cadence() -> None:
    clock, lambdas = Clock(T0), Lambdas()
    runner = runner_for({"Schedule": "rate(1 minute)"}, clock, lambdas)

    fired_at = []
    for offset in (30, 59, 60, 61, 119, 120, 600, 601, 660):
        clock.now = T0 + offset
        before = len(lambdas.calls)
        runner.poll_once()
        if len(lambdas.calls) > before:
            fired_at.append(offset)

    assert fired_at == [60, 120, 600, 660]  # missed periods collapse into one firing
    target, event = lambdas.calls[0]
    assert target == TARGET
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-11-25T10:01:00Z"
    assert event["resources"] == [
        "arn:aws:events:us-east-1:123456789012:rule/TokenRefreshFunctionDaily"
    ]


def test_a_cron_rule_with_input_fires_at_its_minute() -> None:
    clock, lambdas = Clock(T0), Lambdas()
    runner = runner_for(
        {"Schedule": "cron(30 10 * * ? *)", "Input": '{"job": "refresh"}'},
        clock,
        lambdas,
    )

    clock.now = T0 + 30 * 60 - 1
    runner.poll_once()
    assert lambdas.calls == []
    clock.now = T0 + 30 * 60
    runner.poll_once()
    runner.poll_once()

    assert lambdas.calls == [(TARGET, {"job": "refresh"})]


def test_disabled_rules_are_not_run() -> None:
    rules = template_rules(
        {
            "F": function_with(
                "Schedule", {"Schedule": "rate(1 minute)", "Enabled": False}
            )
        },
        [],
        region="us-east-1",
        account_id="1",
    )

    assert rules == []


@pytest.fixture
def aws() -> Iterator[AwsClients]:
    with mock_aws():
        clients = AwsClients(None, "us-east-1")
        clients.client("scheduler").create_schedule_group(Name="snipes")
        yield clients


def at(seconds: float) -> str:
    moment = datetime.fromtimestamp(T0 + seconds, tz=UTC)
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def create(aws: AwsClients, name: str, expression: str, **target: Any) -> None:
    options = target.pop("options", {})
    aws.client("scheduler").create_schedule(
        Name=name,
        GroupName="snipes",
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": TARGET, "RoleArn": ROLE, **target},
        **options,
    )


def exists(aws: AwsClients, name: str) -> bool:
    try:
        aws.client("scheduler").get_schedule(Name=name, GroupName="snipes")
    except ClientError:
        return False
    return True


def test_a_one_time_schedule_fires_when_due_and_is_deleted(aws: AwsClients) -> None:
    clock, lambdas = Clock(T0), Lambdas()
    runner = ScheduleRunner(lambdas, Console(io.StringIO()), clients=aws, clock=clock)
    payload = {
        "bidId": "b-1",
        "arn": "<aws.scheduler.schedule-arn>",
        "time": "<aws.scheduler.scheduled-time>",
        "attempt": "<aws.scheduler.attempt-number>",
    }
    create(
        aws,
        "bid-b-1",
        at(10),
        Input=json.dumps(payload),
        options={"ActionAfterCompletion": "DELETE"},
    )

    clock.now = T0 + 9.9
    runner.poll_once()
    assert lambdas.calls == []
    clock.now = T0 + 10
    runner.poll_once()
    runner.poll_once()

    ((target, event),) = lambdas.calls
    assert target == TARGET
    assert event == {
        "bidId": "b-1",
        "arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/snipes/bid-b-1",
        "time": "2026-11-25T10:00:10Z",
        "attempt": "1",
    }
    assert not exists(aws, "bid-b-1")


def test_a_schedule_kept_after_completion_never_fires_twice(aws: AwsClients) -> None:
    clock, lambdas = Clock(T0 + 60), Lambdas()
    runner = ScheduleRunner(lambdas, Console(io.StringIO()), clients=aws, clock=clock)
    create(aws, "kept", at(10), Input="{}")

    runner.poll_once()
    runner.poll_once()
    restarted = ScheduleRunner(
        lambdas, Console(io.StringIO()), clients=aws, clock=clock
    )
    restarted.import_state(runner.export_state())
    restarted.poll_once()

    assert len(lambdas.calls) == 1
    assert exists(aws, "kept")


def test_an_updated_schedule_fires_again_at_its_new_time(aws: AwsClients) -> None:
    clock, lambdas = Clock(T0 + 20), Lambdas()
    runner = ScheduleRunner(lambdas, Console(io.StringIO()), clients=aws, clock=clock)
    create(aws, "moved", at(10), Input='{"n": 1}')
    runner.poll_once()

    aws.client("scheduler").update_schedule(
        Name="moved",
        GroupName="snipes",
        ScheduleExpression=at(30),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": TARGET, "RoleArn": ROLE, "Input": '{"n": 2}'},
    )
    runner.poll_once()
    clock.now = T0 + 30
    runner.poll_once()

    assert [event for _, event in lambdas.calls] == [{"n": 1}, {"n": 2}]


def test_an_undeliverable_event_is_retried_then_dead_lettered(aws: AwsClients) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="schedule-dlq")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    clock, lambdas = Clock(T0 + 10), Lambdas(known=())
    runner = ScheduleRunner(
        lambdas, Console(io.StringIO()), clients=aws, clock=clock, retry_delay=0
    )
    create(
        aws,
        "lost",
        at(10),
        Input='{"bidId": "b-2"}',
        RetryPolicy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600},
        DeadLetterConfig={"Arn": dlq},
        options={"ActionAfterCompletion": "DELETE"},
    )

    for _ in range(4):
        runner.poll_once()

    messages = sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert len(messages) == 1
    assert messages[0]["Body"] == '{"bidId": "b-2"}'
    attributes = {
        k: v["StringValue"] for k, v in messages[0]["MessageAttributes"].items()
    }
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["TARGET_ARN"] == TARGET
    assert attributes["SCHEDULE_ARN"].endswith("schedule/snipes/lost")
    assert not exists(aws, "lost")


def test_an_sqs_target_gets_the_input(aws: AwsClients) -> None:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="work")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    clock = Clock(T0 + 10)
    runner = ScheduleRunner(Lambdas(), Console(io.StringIO()), clients=aws, clock=clock)
    aws.client("scheduler").create_schedule(
        Name="to-queue",
        ScheduleExpression=at(10),
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": arn, "RoleArn": ROLE, "Input": "hello"},
    )

    runner.poll_once()

    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "hello"


def test_recurring_scheduler_schedules_follow_their_rate(aws: AwsClients) -> None:
    clock, lambdas = Clock(0), Lambdas()
    runner = ScheduleRunner(lambdas, Console(io.StringIO()), clients=aws, clock=clock)
    create(aws, "every-5", "rate(5 minutes)", Input='{"tick": true}')
    created = aws.client("scheduler").get_schedule(Name="every-5", GroupName="snipes")
    start = created["CreationDate"].timestamp()

    for offset in (0, 299, 300, 301, 600):
        clock.now = start + offset
        runner.poll_once()

    assert len(lambdas.calls) == 2


def test_disabled_and_invalid_schedules_are_skipped(aws: AwsClients) -> None:
    clock, lambdas = Clock(T0 + 60), Lambdas()
    output = io.StringIO()
    runner = ScheduleRunner(lambdas, Console(output), clients=aws, clock=clock)
    create(aws, "off", at(10), options={"State": "DISABLED"})
    create(aws, "broken", "at(not-a-date)")

    runner.poll_once()
    runner.poll_once()

    assert lambdas.calls == []
    assert output.getvalue().count("not-a-date") == 1


def test_the_runner_thread_starts_and_stops(aws: AwsClients) -> None:
    runner = ScheduleRunner(
        Lambdas(), Console(io.StringIO()), clients=aws, poll_interval=0.01
    )

    runner.start()
    runner.stop()

    assert boto3.client("scheduler").list_schedule_groups()["ScheduleGroups"]


class Deferred:
    """An executor whose work waits for `run()` (the stack's pool, busy)."""

    def __init__(self) -> None:
        self.work: list[tuple[Any, tuple[Any, ...]]] = []

    def submit(self, function: Any, *arguments: Any) -> None:
        self.work.append((function, arguments))

    def run(self) -> None:
        work, self.work = self.work, []
        for function, arguments in work:
            function(*arguments)


def move(aws: AwsClients, name: str, expression: str, **options: Any) -> None:
    aws.client("scheduler").update_schedule(
        Name=name,
        GroupName="snipes",
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": TARGET, "RoleArn": ROLE, "Input": '{"n": 2}'},
        **options,
    )


def test_a_schedule_deleted_or_moved_as_it_fires_is_not_delivered(
    aws: AwsClients,
) -> None:
    # The runner has read both schedules and found them due, but the delivery
    # waits for a worker; meanwhile the app cancels one bid and edits the other.
    clock, lambdas, executor = Clock(T0 + 10), Lambdas(), Deferred()
    runner = ScheduleRunner(
        lambdas, Console(io.StringIO()), clients=aws, clock=clock, executor=executor
    )
    create(aws, "cancelled", at(10), Input='{"n": 1}')
    create(aws, "edited", at(10), Input='{"n": 1}')
    runner.poll_once()
    assert len(executor.work) == 2

    aws.client("scheduler").delete_schedule(Name="cancelled", GroupName="snipes")
    move(aws, "edited", at(60))
    executor.run()
    assert lambdas.calls == []

    clock.now = T0 + 59
    runner.poll_once()
    executor.run()
    assert lambdas.calls == []
    clock.now = T0 + 60
    runner.poll_once()
    executor.run()
    assert [event for _, event in lambdas.calls] == [{"n": 2}]


@pytest.fixture
def strict(aws: AwsClients) -> Iterator[AwsClients]:
    undo = enforce_scheduler_rules()
    yield aws
    undo()


@pytest.mark.parametrize(
    ("expression", "zone"),
    [
        ("at(2026-11-25T10:00:00Z)", "UTC"),
        ("at(2026-11-25T10:00:00.000)", "UTC"),
        ("at(2026-11-25 10:00:00)", "UTC"),
        ("rate(1 minutes)", "UTC"),
        ("at(2026-11-25T10:00:00)", "Mars/Olympus"),
    ],
)
def test_moto_refuses_expressions_aws_refuses(
    strict: AwsClients, expression: str, zone: str
) -> None:
    with pytest.raises(ClientError) as refused:
        create(strict, "bad", expression, options={"ScheduleExpressionTimezone": zone})
    with pytest.raises(ClientError) as refused_update:
        create(strict, "good", at(10))
        move(strict, "good", expression, ScheduleExpressionTimezone=zone)

    for error in (refused.value, refused_update.value):
        assert error.response["Error"]["Code"] == "ValidationException"
    assert not exists(strict, "bad")


def test_a_schedule_in_an_unknown_group_is_not_found(strict: AwsClients) -> None:
    with pytest.raises(ClientError) as refused:
        strict.client("scheduler").create_schedule(
            Name="lost",
            GroupName="no-such-group",
            ScheduleExpression=at(10),
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": TARGET, "RoleArn": ROLE},
        )

    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_an_update_resets_what_it_leaves_out_as_aws_does(strict: AwsClients) -> None:
    # UpdateSchedule replaces the schedule: ActionAfterCompletion left out becomes
    # NONE (the schedule then stays after firing), State becomes ENABLED.
    create(strict, "bid-1", at(10), options={"ActionAfterCompletion": "DELETE"})
    create(strict, "bid-2", at(10), options={"ActionAfterCompletion": "DELETE"})

    move(strict, "bid-1", at(20))
    move(strict, "bid-2", at(20), ActionAfterCompletion="DELETE")
    clock, lambdas = Clock(T0 + 20), Lambdas()
    runner = ScheduleRunner(
        lambdas, Console(io.StringIO()), clients=strict, clock=clock
    )
    runner.poll_once()

    scheduler = strict.client("scheduler")
    kept = scheduler.get_schedule(Name="bid-1", GroupName="snipes")
    assert kept.get("ActionAfterCompletion", "NONE") == "NONE"
    assert kept["State"] == "ENABLED"
    assert not exists(strict, "bid-2")
    assert len(lambdas.calls) == 2


def test_at_in_a_time_zone_fires_at_that_local_time(aws: AwsClients) -> None:
    # 10:00:10 in Paris is 09:00:10 UTC in November (CET, UTC+1).
    clock, lambdas = Clock(T0 - 3600 + 9), Lambdas()
    runner = ScheduleRunner(lambdas, Console(io.StringIO()), clients=aws, clock=clock)
    create(
        aws,
        "paris",
        at(10),
        Input='{"n": 1}',
        options={"ScheduleExpressionTimezone": "Europe/Paris"},
    )

    runner.poll_once()
    assert lambdas.calls == []
    clock.now = T0 - 3600 + 10
    runner.poll_once()

    assert [event for _, event in lambdas.calls] == [{"n": 1}]


class Draws:
    """A scripted `random.Random`: the delays and duplicate draws a test wants."""

    def __init__(self, uniform: list[float], random: list[float] | None = None) -> None:
        self._uniform = list(uniform)
        self._random = list(random or [])

    def uniform(self, a: float, b: float) -> float:
        value = self._uniform.pop(0)
        assert a <= value <= b
        return value

    def random(self) -> float:
        return self._random.pop(0)


def delivered_at(
    runner: ScheduleRunner, clock: Clock, lambdas: Lambdas, offsets: list[float]
) -> list[tuple[float, Any]]:
    """Poll at each offset from T0; what arrived at which offset."""
    arrivals = []
    for offset in offsets:
        clock.now = T0 + offset
        before = len(lambdas.calls)
        runner.poll_once()
        arrivals += [(offset, event) for _, event in lambdas.calls[before:]]
    return arrivals


def test_a_delivery_can_be_late_as_on_aws(aws: AwsClients) -> None:
    clock, lambdas = Clock(T0), Lambdas()
    runner = ScheduleRunner(
        lambdas,
        Console(io.StringIO()),
        clients=aws,
        clock=clock,
        chaos=DeliveryChaos(delay=(0, 60)),
        chance=Draws(uniform=[42.5]),
    )
    create(
        aws,
        "late",
        at(10),
        Input='{"time": "<aws.scheduler.scheduled-time>"}',
        options={"ActionAfterCompletion": "DELETE"},
    )

    arrivals = delivered_at(runner, clock, lambdas, [10, 30, 52.4, 52.5, 53])

    # Scheduler's scheduled-time stays the schedule's time, however late it lands.
    assert arrivals == [(52.5, {"time": "2026-11-25T10:00:10Z"})]
    assert not exists(aws, "late")


def test_a_snipe_cancelled_or_moved_during_the_delay_is_not_delivered(
    aws: AwsClients,
) -> None:
    # Both are read and fire at 10 s, to be delivered 5 s later; meanwhile the
    # app cancels one and moves the other: the runner reads them again first.
    clock, lambdas = Clock(T0), Lambdas()
    runner = ScheduleRunner(
        lambdas,
        Console(io.StringIO()),
        clients=aws,
        clock=clock,
        chaos=DeliveryChaos(delay=(5, 5)),
        chance=Draws(uniform=[5, 5, 5]),
    )
    create(aws, "cancelled", at(10), Input='{"n": 1}')
    create(aws, "edited", at(10), Input='{"n": 1}')
    clock.now = T0 + 10
    runner.poll_once()

    aws.client("scheduler").delete_schedule(Name="cancelled", GroupName="snipes")
    move(aws, "edited", at(60))
    arrivals = delivered_at(runner, clock, lambdas, [15, 30, 60, 64.9, 65])

    assert arrivals == [(65, {"n": 2})]


def test_a_duplicate_is_the_same_event_again_shortly_after(aws: AwsClients) -> None:
    clock, lambdas = Clock(T0), Lambdas()
    output = io.StringIO()
    runner = ScheduleRunner(
        lambdas,
        Console(output),
        clients=aws,
        clock=clock,
        chaos=DeliveryChaos(duplicates=0.05),
        # The first snipe is drawn for a duplicate (0.01 < 0.05), 0.5 s after
        # it; the second is not (0.5).
        chance=Draws(uniform=[0.5], random=[0.01, 0.5]),
    )
    payload = (
        '{"id": "<aws.scheduler.execution-id>", "n": "<aws.scheduler.schedule-arn>"}'
    )
    for name, seconds in (("twice", 10), ("once", 20)):
        create(
            aws,
            name,
            at(seconds),
            Input=payload,
            options={"ActionAfterCompletion": "DELETE"},
        )

    arrivals = delivered_at(runner, clock, lambdas, [10, 10.25, 10.5, 11, 20, 30])

    assert [offset for offset, _ in arrivals] == [10, 10.5, 20]
    first, again, other = (event for _, event in arrivals)
    assert first["n"].endswith("/twice") and other["n"].endswith("/once")
    assert again == first  # the same execution id: a true duplicate
    # Delivered although the first delivery deleted the schedule (DELETE).
    assert not exists(aws, "twice")
    assert "schedule twice delivered again (duplicate)" in output.getvalue()


def test_a_seed_replays_the_same_lateness_and_duplicates(aws: AwsClients) -> None:
    def run(seed: int) -> list[tuple[float, Any]]:
        for name in ("a", "b", "c", "d"):
            create(aws, name, at(10), Input=json.dumps({"n": name}))
        clock, lambdas = Clock(T0), Lambdas()
        runner = ScheduleRunner(
            lambdas,
            Console(io.StringIO()),
            clients=aws,
            clock=clock,
            chaos=DeliveryChaos(delay=(0, 60), duplicates=0.5, seed=seed),
        )
        arrivals = delivered_at(runner, clock, lambdas, [float(t) for t in range(90)])
        for name in ("a", "b", "c", "d"):
            aws.client("scheduler").delete_schedule(Name=name, GroupName="snipes")
        return sorted(arrivals, key=lambda arrival: (arrival[0], arrival[1]["n"]))

    first, replay = run(7), run(7)

    assert first == replay
    assert len(first) >= 4  # each at least once
    assert all(10 <= offset <= 71 for offset, _ in first)
    assert {offset for offset, _ in first} != {10}


def test_a_restart_during_the_delay_still_delivers(aws: AwsClients) -> None:
    clock, lambdas = Clock(T0 + 10), Lambdas()
    runner = ScheduleRunner(
        lambdas,
        Console(io.StringIO()),
        clients=aws,
        clock=clock,
        chaos=DeliveryChaos(delay=(30, 30)),
        chance=Draws(uniform=[30]),
    )
    create(aws, "waiting", at(10), Input='{"n": 1}')
    runner.poll_once()
    saved = runner.export_state()

    restarted = ScheduleRunner(
        lambdas, Console(io.StringIO()), clients=aws, clock=clock
    )
    restarted.import_state(saved)
    restarted.poll_once()

    assert [event for _, event in lambdas.calls] == [{"n": 1}]


def test_the_chaos_flags_reach_the_runner_and_default_to_none() -> None:
    default = config_from(parser().parse_args([]))
    chosen = config_from(
        parser().parse_args(
            [
                "--schedule-delay",
                "0-60",
                "--schedule-duplicates",
                "0.05",
                "--schedule-seed",
                "7",
            ]
        )
    )
    fixed = config_from(parser().parse_args(["--schedule-delay", "2.5"]))

    assert (default.schedule_delay, default.schedule_duplicates) == ((0, 0), 0)
    assert not DeliveryChaos(default.schedule_delay).active
    assert (chosen.schedule_delay, chosen.schedule_duplicates) == ((0, 60), 0.05)
    assert chosen.schedule_seed == 7
    assert fixed.schedule_delay == (2.5, 2.5)


@pytest.mark.parametrize(
    "arguments",
    [
        ["--schedule-delay", "60-0"],
        ["--schedule-delay", "-5"],
        ["--schedule-delay", "soon"],
        ["--schedule-duplicates", "1.5"],
        ["--schedule-duplicates", "often"],
    ],
)
def test_nonsensical_chaos_flags_are_refused(arguments: list[str]) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args(arguments)
