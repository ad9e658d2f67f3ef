"""The local Lambda service: lookup, async retries, dead-letter queue, destinations."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from local.stack.aws import AwsClients
from local.stack.console import Console
from local.stack.containers import Invocation, Outcome
from local.stack.lambda_service import FunctionNotFound, LocalLambda
from local.template.functions import Destination, FunctionSpec

ARN = "arn:aws:lambda:us-east-1:123456789012:function:bid-executor-dev"
SPEC = FunctionSpec(
    logical_id="BidExecutorFunction",
    name="bid-executor-dev",
    arn=ARN,
    runtime="python3.11",
    handler="app.handler",
    code_dir=Path(),
    layer_dirs=(),
    memory_mb=1024,
    timeout_s=300,
    environment={},
)


class Pool:
    """Runs nothing: answers with scripted outcomes and records invocations."""

    def __init__(self, *outcomes: Outcome) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[tuple[str, Invocation]] = []

    def invoke(self, spec: FunctionSpec, invocation: Invocation) -> Outcome:
        self.calls.append((spec.logical_id, invocation))
        return self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]


def service(
    pool: Pool, *specs: FunctionSpec, clients: AwsClients | None = None
) -> LocalLambda:
    return LocalLambda(
        {spec.logical_id: spec for spec in specs or (SPEC,)},
        pool,  # type: ignore[arg-type]
        Console(io.StringIO()),
        region="us-east-1",
        account_id="123456789012",
        clients=clients,
        retry_delays=(0.01, 0.02),
    )


@pytest.mark.parametrize(
    "identifier",
    [
        "bid-executor-dev",
        "BidExecutorFunction",
        ARN,
        f"{ARN}:$LATEST",
        "123456789012:function:bid-executor-dev",
        "bid-executor-dev:live",
    ],
)
def test_functions_are_found_by_name_logical_id_or_arn(identifier: str) -> None:
    assert service(Pool(Outcome("{}"))).find(identifier) is SPEC


def test_an_unknown_function_is_not_found_with_its_arn() -> None:
    with pytest.raises(FunctionNotFound) as missing:
        service(Pool(Outcome("{}"))).find("nope")

    assert missing.value.arn == "arn:aws:lambda:us-east-1:123456789012:function:nope"


def test_a_function_that_cannot_run_answers_an_error() -> None:
    broken = replace(SPEC, problems=("runtime nodejs20.x is not emulated locally",))

    outcome = service(Pool(Outcome("{}")), broken).invoke(broken, "{}")

    assert outcome.error
    assert "nodejs20.x" in json.loads(outcome.payload)["errorMessage"]


def test_sync_invocations_carry_the_request_and_arn() -> None:
    pool = Pool(Outcome('{"ok": true}'))

    outcome = service(pool).invoke(SPEC, '{"a": 1}', request_id="r-1")

    assert outcome == Outcome('{"ok": true}')
    ((_, invocation),) = pool.calls
    assert (invocation.request_id, invocation.invoked_arn) == ("r-1", ARN)
    assert invocation.trace_id and invocation.trace_id.startswith("Root=1-")


def wait_for(predicate: Any, timeout: float = 5) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
    return value


@pytest.fixture
def aws() -> Iterator[AwsClients]:
    with mock_aws():
        yield AwsClients(None, "us-east-1")


def queue(aws: AwsClients, name: str) -> tuple[str, str]:
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    return url, arn


def messages(aws: AwsClients, url: str) -> list[dict[str, Any]]:
    answer = aws.client("sqs").receive_message(
        QueueUrl=url, MessageAttributeNames=["All"]
    )
    found: list[dict[str, Any]] = answer.get("Messages", [])
    return found


def test_a_failing_event_is_retried_then_sent_to_the_dlq_and_on_failure(
    aws: AwsClients,
) -> None:
    dlq_url, dlq_arn = queue(aws, "executor-dlq")
    failures_url, failures_arn = queue(aws, "executor-failures")
    spec = replace(
        SPEC,
        dead_letter=Destination("SQS", dlq_arn),
        on_failure=Destination("SQS", failures_arn),
    )
    failure = Outcome.failure("RuntimeError", "eBay is down")
    pool = Pool(failure)
    lambdas = service(pool, spec, clients=aws)

    lambdas.invoke_async(ARN, '{"bidId": "b-1"}')

    (dead,) = wait_for(lambda: messages(aws, dlq_url))
    assert len(pool.calls) == 3  # the first attempt and Lambda's two retries
    assert dead["Body"] == '{"bidId": "b-1"}'
    assert dead["MessageAttributes"]["ErrorMessage"]["StringValue"] == "eBay is down"
    (record,) = wait_for(lambda: messages(aws, failures_url))
    body = json.loads(record["Body"])
    assert body["requestContext"]["condition"] == "RetriesExhausted"
    assert body["requestContext"]["approximateInvokeCount"] == 3
    assert body["requestPayload"] == {"bidId": "b-1"}
    assert body["responsePayload"]["errorMessage"] == "eBay is down"
    lambdas.close()


def test_retries_follow_maximum_retry_attempts(aws: AwsClients) -> None:
    dlq_url, dlq_arn = queue(aws, "dlq")
    spec = replace(SPEC, async_retries=0, dead_letter=Destination("SQS", dlq_arn))
    pool = Pool(Outcome.failure("RuntimeError", "no"))

    service(pool, spec, clients=aws).invoke_async(ARN, "{}")

    wait_for(lambda: messages(aws, dlq_url))
    assert len(pool.calls) == 1


def test_a_success_after_a_retry_goes_to_on_success(aws: AwsClients) -> None:
    notifier = replace(
        SPEC,
        logical_id="Notifier",
        name="notifier",
        arn=ARN[: -len("bid-executor-dev")] + "notifier",
    )
    spec = replace(SPEC, on_success=Destination("Lambda", notifier.arn))
    pool = Pool(Outcome.failure("RuntimeError", "flaky"), Outcome('"won"'))
    lambdas = service(pool, spec, notifier, clients=aws)

    lambdas.invoke_async(ARN, '{"bidId": "b-3"}')

    wait_for(lambda: len(pool.calls) >= 3)
    names = [name for name, _ in pool.calls]
    assert names == ["BidExecutorFunction", "BidExecutorFunction", "Notifier"]
    record = json.loads(pool.calls[2][1].payload)
    assert record["requestContext"]["condition"] == "Success"
    assert record["responsePayload"] == "won"
