"""Injected DynamoDB throttling on the local AWS: off unless asked, then exactly the
calls a rule names answer as DynamoDB does, and botocore's retries see them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.stack.aws import FAKE_CREDENTIALS, AwsEmulator
from local.stack.aws_faults import PATH

pytestmark = pytest.mark.slow

TABLE = "throttled"
NO_RETRIES = Config(retries={"total_max_attempts": 1})


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsEmulator]:
    emulator = AwsEmulator("127.0.0.1", 0)
    emulator.start()
    client = dynamodb(emulator)
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    for key in ("BID#1", "BID#2"):
        client.put_item(TableName=TABLE, Item={"id": {"S": key}})
    yield emulator
    emulator.stop()


@pytest.fixture
def rules(aws: AwsEmulator) -> Iterator[httpx.Client]:
    admin = httpx.Client(base_url=aws.url + PATH)
    yield admin
    admin.delete("")
    admin.close()


def dynamodb(aws: AwsEmulator, config: Config = NO_RETRIES) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=aws.url,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        config=config,
    )


def read(client: Any, key: str) -> str:
    """`ok`, or the error code the read met."""
    try:
        client.get_item(TableName=TABLE, Key={"id": {"S": key}})
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "ok"


def test_without_rules_nothing_is_throttled(aws: AwsEmulator) -> None:
    client = dynamodb(aws)

    assert [read(client, "BID#1") for _ in range(3)] == ["ok"] * 3
    assert httpx.get(aws.url + PATH).json() == []


def test_a_rule_throttles_the_next_matching_calls_only(
    aws: AwsEmulator, rules: httpx.Client
) -> None:
    client = dynamodb(aws)
    made = rules.post(
        "", json={"operation": "GetItem", "contains": ["BID#1"], "count": 2}
    )

    other_key = read(client, "BID#2")
    throttled = [read(client, "BID#1") for _ in range(3)]
    written = client.put_item(TableName=TABLE, Item={"id": {"S": "BID#1"}})

    assert made.status_code == 201, made.text
    assert other_key == "ok"
    assert throttled == ["ProvisionedThroughputExceededException"] * 2 + ["ok"]
    assert written["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert rules.get("").json() == []  # used up


def test_botocore_retries_absorb_a_short_throttle(
    aws: AwsEmulator, rules: httpx.Client
) -> None:
    patient = dynamodb(aws, Config(retries={"mode": "standard", "max_attempts": 3}))
    rules.post("", json={"contains": "BID#2", "count": 2})

    answer = patient.get_item(TableName=TABLE, Key={"id": {"S": "BID#2"}})

    assert answer["Item"]["id"]["S"] == "BID#2"
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2


def test_a_seeded_rate_throttles_some_calls_until_cleared(
    aws: AwsEmulator, rules: httpx.Client
) -> None:
    client = dynamodb(aws)
    rules.post(
        "",
        json={"rate": 0.5, "seed": 3, "error": "ThrottlingException"},
    )

    outcomes = [read(client, "BID#1") for _ in range(20)]
    (rule,) = rules.get("").json()
    rules.delete("")

    assert set(outcomes) == {"ok", "ThrottlingException"}
    assert rule["hits"] == outcomes.count("ThrottlingException")
    assert read(client, "BID#1") == "ok"


@pytest.mark.parametrize(
    "spec", [{"error": "Boom"}, {"rate": 2}, {"count": 0}, {"table": "x"}, [1]]
)
def test_a_nonsensical_rule_is_refused(rules: httpx.Client, spec: Any) -> None:
    assert rules.post("", json=spec).status_code == 400
