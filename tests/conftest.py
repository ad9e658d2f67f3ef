"""Test-wide setup: no real AWS, tables created from template.yaml under moto."""

from __future__ import annotations

import os

# Before any sniper import: Powertools reads its settings when first imported.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "EbaySniperTests",
        "POWERTOOLS_SERVICE_NAME": "tests",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "CORS_ORIGINS": "http://localhost:3000,https://app.example.com",
        "STAGE": "test",
    }
)
for variable in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(variable, None)

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from local.template.loader import load_template
from local.template.tables import create_tables
from sniper import aws, composition, settings
from tests.support.atomic_moto import atomic_moto
from tests.support.handlers import ROOT

TABLE_ENV = {
    "UsersTable": "USERS_TABLE",
    "BidsTable": "BIDS_TABLE",
    "BidHistoryTable": "BID_HISTORY_TABLE",
    "IdempotencyTable": "IDEMPOTENCY_TABLE",
}


@dataclass
class MockedAws:
    """The mocked account: physical table names by logical id."""

    tables: dict[str, str]

    def table(self, logical_id: str) -> Any:
        return boto3.resource("dynamodb").Table(self.tables[logical_id])

    def all_items(self, logical_id: str) -> list[dict[str, Any]]:
        """Every item of a table (a Scan: fine in a test, never on a request path)."""
        return list(self.table(logical_id).scan()["Items"])


def reset_containers() -> None:
    """Forget what a warm Lambda container would keep between invocations."""
    settings.reset_caches()
    aws.reset_clients()
    composition.reset()
    parameters.clear_caches()


@pytest.fixture
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockedAws]:
    """moto's AWS (one request at a time) with the template's tables, and settings
    pointing at them."""
    with mock_aws(), atomic_moto():
        template = load_template(ROOT / "template.yaml")
        names = create_tables(boto3.client("dynamodb"), template, stage="test")
        for logical_id, variable in TABLE_ENV.items():
            if logical_id in names:
                monkeypatch.setenv(variable, names[logical_id])
        reset_containers()
        yield MockedAws(tables=names)
        reset_containers()


@pytest.fixture
def user_pool(mocked_aws: MockedAws, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto's Cognito pool with the two test callers signed up (user name = sub)."""
    from tests.support.handlers import ALICE, BOB

    cognito = boto3.client("cognito-idp")
    pool_id = str(cognito.create_user_pool(PoolName="sniper")["UserPool"]["Id"])
    for sub in (ALICE, BOB):
        cognito.admin_create_user(UserPoolId=pool_id, Username=sub)
    monkeypatch.setenv("USER_POOL_ID", pool_id)
    return pool_id


def user_pool_users(pool_id: str) -> set[str]:
    """The user names still in the pool."""
    users = boto3.client("cognito-idp").list_users(UserPoolId=pool_id)["Users"]
    return {str(user["Username"]) for user in users}
