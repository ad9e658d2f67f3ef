"""moto serves one request at a time: conditional writes race as on DynamoDB.

Four clients fire a `TransactWriteItems` with `attribute_not_exists` on the same
new key together (a `threading.Barrier`), round after round: exactly one must win
and the others see `ConditionalCheckFailed`, never a 5xx. Without the lock moto
lets two win, loses a winner's write when a loser rolls back, or fails with
`dictionary changed size during iteration`; a tiny thread switch interval and a
fuller table make that show within a few rounds instead of once in forty. An SQS
long poll is the one request that waits without the lock, or it would stall the rest.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local.stack.aws import FAKE_CREDENTIALS, AwsClients, AwsEmulator
from tests.conftest import MockedAws

ROUNDS = 50
CLIENTS = 4
TABLE = "race"
FILLER = 100
# No retries: a 500 must show, not be retried into a ConditionalCheckFailed.
CLIENT_CONFIG = Config(retries={"total_max_attempts": 1}, max_pool_connections=CLIENTS)
Outcomes = list[list[str]]


@pytest.fixture
def contention() -> Iterator[None]:
    """Switch threads every 10 µs so unlocked requests really interleave."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(before)


def create_table(client: Any) -> None:
    """The race's table, with `FILLER` items: moto copies the whole table at the
    start of each transaction, so a fuller table widens the unlocked window."""
    client.create_table(
        TableName=TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    for start in range(0, FILLER, 25):
        requests = [
            {"PutRequest": {"Item": {"id": {"S": f"filler-{number}"}}}}
            for number in range(start, min(start + 25, FILLER))
        ]
        client.batch_write_item(RequestItems={TABLE: requests})


def attempt(client: Any, key: str, writer: int) -> str:
    """`won`, `lost` (the condition failed) or what else happened."""
    put = {
        "TableName": TABLE,
        "Item": {"id": {"S": key}, "writer": {"N": str(writer)}},
        "ConditionExpression": "attribute_not_exists(id)",
    }
    try:
        client.transact_write_items(TransactItems=[{"Put": put}])
    except ClientError as error:
        response: dict[str, Any] = error.response
        code = response["Error"].get("Code", "")
        reasons = [r.get("Code") for r in response.get("CancellationReasons", [])]
        if code == "TransactionCanceledException" and reasons == [
            "ConditionalCheckFailed"
        ]:
            return "lost"
        status = response["ResponseMetadata"].get("HTTPStatusCode")
        return f"{status} {code}: {response['Error'].get('Message', '')[:80]}"
    except Exception as error:  # a dead thread would hang the barrier
        return f"{type(error).__name__}: {error}"
    return "won"


def race(clients: list[Any], rounds: int) -> Outcomes:
    """Each round, every client tries to create key `round-N` at the same moment."""
    barrier = threading.Barrier(len(clients))
    outcomes = [[""] * len(clients) for _ in range(rounds)]

    def run(writer: int) -> None:
        for number in range(rounds):
            barrier.wait(timeout=30)
            outcomes[number][writer] = attempt(
                clients[writer], f"round-{number}", writer
            )

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def assert_one_winner_each(client: Any, outcomes: Outcomes) -> None:
    """One winner and only losers beside it, and the stored item is the winner's."""
    bad = {
        number: results
        for number, results in enumerate(outcomes)
        if sorted(results) != ["lost"] * (CLIENTS - 1) + ["won"]
    }
    assert not bad, f"{len(bad)} of {len(outcomes)} rounds went wrong: {bad}"
    for number, results in enumerate(outcomes):
        item = client.get_item(
            TableName=TABLE, Key={"id": {"S": f"round-{number}"}}, ConsistentRead=True
        ).get("Item")
        assert item is not None, f"round {number}: the winner's write was lost"
        assert int(item["writer"]["N"]) == results.index("won")


@pytest.fixture
def emulator() -> Iterator[AwsEmulator]:
    aws = AwsEmulator("127.0.0.1", 0)
    aws.start()
    yield aws
    aws.stop()


def server_client(url: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        config=CLIENT_CONFIG,
    )


@pytest.mark.slow
def test_the_local_stack_aws_serves_conditional_transactions_atomically(
    emulator: AwsEmulator, contention: None
) -> None:
    clients = [server_client(emulator.url) for _ in range(CLIENTS)]
    create_table(clients[0])

    outcomes = race(clients, ROUNDS)

    assert_one_winner_each(clients[0], outcomes)


def test_in_process_moto_serves_conditional_transactions_atomically(
    mocked_aws: MockedAws, contention: None
) -> None:
    clients = [boto3.client("dynamodb", config=CLIENT_CONFIG) for _ in range(CLIENTS)]
    create_table(clients[0])

    outcomes = race(clients, ROUNDS)

    assert_one_winner_each(clients[0], outcomes)


def assert_long_poll_waits_unlocked(sqs: Any, dynamodb: Any) -> None:
    """A 5 s long poll on an empty queue: others are served meanwhile, and the
    message one of them sends ends the poll (moto waits inside the request)."""
    url = sqs.create_queue(QueueName="long-poll")["QueueUrl"]
    received: list[Any] = []
    poll = threading.Thread(
        target=lambda: received.extend(
            sqs.receive_message(QueueUrl=url, WaitTimeSeconds=5).get("Messages", [])
        )
    )
    dynamodb.list_tables()  # moto's DynamoDB is ready: the timing below is fair
    started = time.monotonic()
    poll.start()
    time.sleep(0.3)

    dynamodb.list_tables()
    sqs.send_message(QueueUrl=url, MessageBody="hello")
    served = time.monotonic() - started
    poll.join()

    assert served < 2, f"other requests waited {served:.1f}s for the long poll"
    assert [message["Body"] for message in received] == ["hello"]
    assert time.monotonic() - started < 3


@pytest.mark.slow
def test_the_local_stack_aws_serves_others_during_a_long_poll(
    emulator: AwsEmulator,
) -> None:
    clients = AwsClients(emulator.url, "us-east-1")

    assert_long_poll_waits_unlocked(clients.client("sqs"), clients.client("dynamodb"))


def test_in_process_moto_serves_others_during_a_long_poll(
    mocked_aws: MockedAws,
) -> None:
    assert_long_poll_waits_unlocked(boto3.client("sqs"), boto3.client("dynamodb"))
