"""Direct invocations, schedules and dead-letter queues against the running stack."""

from __future__ import annotations

import json
import math
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.support import STAGE, RunningStack, records, wait_for

pytestmark = pytest.mark.slow
PROBE = f"probe-{STAGE}"
PROBE_ARN = f"arn:aws:lambda:us-east-1:123456789012:function:{PROBE}"


def invoke(stack: RunningStack, payload: Any, **options: Any) -> Any:
    return stack.client("lambda").invoke(
        FunctionName=options.pop("name", PROBE),
        Payload=json.dumps(payload).encode(),
        **options,
    )


def queue_messages(stack: RunningStack, name: str, wanted: int = 1) -> list[Any]:
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    found: list[Any] = []

    def receive() -> bool:
        answer = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        found.extend(answer.get("Messages", []))
        return len(found) >= wanted

    wait_for(receive, timeout=15, interval=0.2)
    return found


def test_sync_invoke_runs_the_handler_with_a_lambda_context(
    stack: RunningStack, probe_dir: Path
) -> None:
    answer = invoke(stack, {"action": "write", "id": "sync-1"})

    assert answer["StatusCode"] == 200
    assert "FunctionError" not in answer
    assert answer["ExecutedVersion"] == "$LATEST"
    assert json.loads(answer["Payload"].read())["ok"] is True
    (record,) = records(probe_dir, "sync-1")
    assert record["functionName"] == PROBE
    assert record["memory"] == "256"
    assert record["invokedArn"] == PROBE_ARN
    assert 0 < record["remainingMs"] <= 5000
    item = stack.client("dynamodb").get_item(
        TableName=f"probe-{STAGE}", Key={"id": {"S": "sync-1"}}
    )
    assert item["Item"]["id"] == {"S": "sync-1"}


def test_sync_invoke_by_arn_reports_a_handler_error(stack: RunningStack) -> None:
    answer = invoke(stack, {"action": "fail", "id": "sync-error"}, name=PROBE_ARN)

    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    error = json.loads(answer["Payload"].read())
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "probe failure sync-error"
    assert error["stackTrace"]


def test_event_invoke_returns_202_and_runs_in_the_background(
    stack: RunningStack, probe_dir: Path
) -> None:
    answer = invoke(
        stack, {"action": "record", "id": "event-1"}, InvocationType="Event"
    )

    assert answer["StatusCode"] == 202
    wait_for(lambda: records(probe_dir, "event-1"))


def test_dry_run_and_unknown_function(stack: RunningStack) -> None:
    dry = invoke(stack, {}, InvocationType="DryRun")

    assert dry["StatusCode"] == 204
    with pytest.raises(ClientError) as raised:
        invoke(stack, {}, name="no-such-function")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_function_invokes_another_through_the_lambda_endpoint(
    stack: RunningStack, probe_dir: Path
) -> None:
    payload = {"action": "record", "id": "nested-1"}

    answer = invoke(
        stack, {"action": "invoke", "id": "outer", "target": PROBE, "payload": payload}
    )

    assert json.loads(answer["Payload"].read()) == {"ok": True, "echo": payload}
    assert records(probe_dir, "nested-1")


def test_the_template_resources_exist_in_the_embedded_aws(stack: RunningStack) -> None:
    answer = json.loads(
        invoke(stack, {"action": "resources", "id": "resources"})["Payload"].read()
    )

    assert answer["dlqArn"] == f"arn:aws:sqs:us-east-1:123456789012:probe-dlq-{STAGE}"
    assert answer["redrivePolicy"]["deadLetterTargetArn"] == answer["dlqArn"]
    assert answer["aliasTargetsKey"] is True
    assert answer["keyArn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert answer["secret"]["user"] == "probe"
    assert len(answer["secret"]["password"]) == 16
    assert answer["groupArn"].endswith(f":schedule-group/snipes-{STAGE}")
    assert answer["recurring"] == {"expression": "rate(1 day)", "target": PROBE_ARN}


def _at(seconds_ahead: float) -> tuple[str, float]:
    due = math.ceil(time.time() + seconds_ahead)
    text = datetime.fromtimestamp(due, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"at({text})", float(due)


def test_a_one_time_schedule_fires_on_time_and_is_deleted(
    stack: RunningStack, probe_dir: Path
) -> None:
    scheduler = stack.client("scheduler")
    expression, due = _at(2)
    early, _ = _at(1)
    name = f"snipe-{uuid.uuid4().hex[:8]}"

    def schedule(label: str, when: str, *, update: bool = False) -> None:
        call = scheduler.update_schedule if update else scheduler.create_schedule
        call(
            Name=label,
            GroupName=f"snipes-{STAGE}",
            ScheduleExpression=when,
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={
                "Arn": PROBE_ARN,
                "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
                "Input": json.dumps(
                    {
                        "action": "record",
                        "id": label,
                        "schedule": "<aws.scheduler.schedule-arn>",
                    }
                ),
            },
        )

    schedule(name, expression)
    # The user edits one bid (its snipe moves later) and cancels another.
    schedule(f"{name}-moved", early)
    schedule(f"{name}-moved", expression, update=True)
    schedule(f"{name}-cancelled", early)
    scheduler.delete_schedule(Name=f"{name}-cancelled", GroupName=f"snipes-{STAGE}")
    # Like AWS, the embedded Scheduler refuses what it could never run.
    with pytest.raises(ClientError) as refused:
        schedule(f"{name}-bad", expression.replace(")", "Z)"))
    assert refused.value.response["Error"]["Code"] == "ValidationException"

    (record,) = wait_for(lambda: records(probe_dir, name), timeout=10)

    assert due <= record["at"] <= due + 2.0, record["at"] - due
    assert record["event"]["schedule"].endswith(f"schedule/snipes-{STAGE}/{name}")
    (moved,) = wait_for(lambda: records(probe_dir, f"{name}-moved"), timeout=5)
    assert due <= moved["at"] <= due + 2.0, moved["at"] - due
    assert records(probe_dir, f"{name}-cancelled") == []

    def deleted() -> bool:
        try:
            scheduler.get_schedule(Name=name, GroupName=f"snipes-{STAGE}")
        except ClientError as error:
            return bool(error.response["Error"]["Code"] == "ResourceNotFoundException")
        return False

    wait_for(deleted, timeout=5)
    time.sleep(0.6)
    assert len(records(probe_dir, name)) == 1
    assert len(records(probe_dir, f"{name}-moved")) == 1


def test_a_failing_target_is_retried_then_lands_in_the_function_dlq(
    stack: RunningStack, probe_dir: Path
) -> None:
    expression, _ = _at(1)
    name = f"failing-{uuid.uuid4().hex[:8]}"
    payload = {"action": "fail", "id": name}
    stack.client("scheduler").create_schedule(
        Name=name,
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": PROBE_ARN,
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": json.dumps(payload),
        },
    )

    messages = queue_messages(stack, f"probe-dlq-{STAGE}")

    mine = [m for m in messages if json.loads(m["Body"]).get("id") == name]
    assert len(mine) == 1
    assert json.loads(mine[0]["Body"]) == payload
    assert mine[0]["MessageAttributes"]["ErrorMessage"]["StringValue"] == (
        f"probe failure {name}"
    )
    assert len(records(probe_dir, name)) == 2  # the first attempt and 1 retry


def test_an_undeliverable_schedule_goes_to_its_dead_letter_queue(
    stack: RunningStack,
) -> None:
    sqs = stack.client("sqs")
    dlq_url = sqs.get_queue_url(QueueName="ScheduleDlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    expression, _ = _at(1)
    missing = "arn:aws:lambda:us-east-1:123456789012:function:not-deployed"
    stack.client("scheduler").create_schedule(
        Name="undeliverable",
        ScheduleExpression=expression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": missing,
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": '{"id": "undeliverable"}',
            "RetryPolicy": {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 60},
            "DeadLetterConfig": {"Arn": dlq_arn},
        },
    )

    (message,) = queue_messages(stack, "ScheduleDlq")

    assert message["Body"] == '{"id": "undeliverable"}'
    attributes = message["MessageAttributes"]
    assert attributes["TARGET_ARN"]["StringValue"] == missing
    assert attributes["RETRY_ATTEMPTS"]["StringValue"] == "1"
    assert "not-deployed" in attributes["ERROR_MESSAGE"]["StringValue"]
