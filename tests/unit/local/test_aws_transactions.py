"""The local stack's cheaper rollback of moto's `TransactWriteItems`: a failed
transaction still leaves every item as it was, and no table is copied."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local.stack.aws import roll_back_items_not_tables

TABLE = "transactions"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        undo = roll_back_items_not_tables()
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "userId", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "userId", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(
            TableName=TABLE,
            Item={"userId": {"S": "u"}, "sk": {"S": "BID#1"}, "version": {"N": "1"}},
        )
        try:
            yield client
        finally:
            undo()


def key(sk: str) -> dict[str, Any]:
    return {"userId": {"S": "u"}, "sk": {"S": sk}}


def items(client: Any) -> dict[str, dict[str, Any]]:
    found = client.scan(TableName=TABLE)["Items"]
    return {item["sk"]["S"]: item for item in found}


def bump(sk: str, expected: str) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": key(sk),
            "UpdateExpression": "SET version = version + :one",
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {
                ":one": {"N": "1"},
                ":expected": {"N": expected},
            },
        }
    }


def test_a_failed_transaction_leaves_every_item_as_it_was(dynamodb: Any) -> None:
    before = items(dynamodb)
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(
            TransactItems=[
                bump("BID#1", "1"),  # runs, changing the item in place
                {"Put": {"TableName": TABLE, "Item": key("HISTORY#1")}},
                bump("BID#2", "7"),  # no such item: the condition fails
            ]
        )
    assert items(dynamodb) == before


def test_a_transaction_that_succeeds_writes_everything(dynamodb: Any) -> None:
    dynamodb.transact_write_items(
        TransactItems=[
            bump("BID#1", "1"),
            {"Put": {"TableName": TABLE, "Item": key("HISTORY#1")}},
        ]
    )
    after = items(dynamodb)
    assert after["BID#1"]["version"] == {"N": "2"}
    assert "HISTORY#1" in after


def test_a_refused_duplicate_key_undoes_what_ran_before_it(dynamodb: Any) -> None:
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": key("NEW")}},
                bump("BID#1", "1"),
                bump("BID#1", "2"),
            ]
        )
    after = items(dynamodb)
    assert "NEW" not in after
    assert after["BID#1"]["version"] == {"N": "1"}


def test_no_table_is_copied(dynamodb: Any) -> None:
    import moto.dynamodb.models as dynamodb_models

    models: Any = dynamodb_models
    table = models.dynamodb_backends["123456789012"]["us-east-1"].tables[TABLE]
    assert models.copy.deepcopy(table) is table
    assert models.copy.deepcopy({"a": [1]}) == {"a": [1]}
