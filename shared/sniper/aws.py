"""boto3 resources and clients, created once per container on first use.

Creating them lazily keeps imports free of AWS calls; caching them keeps connections
warm across invocations. Endpoints come from boto3's standard settings
(`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`), which is how the local stack
points the same code at its own services.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3)
# DynamoDB throttling passes in milliseconds, and a snipe's commit has seconds, not
# the 1 + 2 + 4 s that standard mode may wait: legacy mode's DynamoDB back-off starts
# at 50 ms and doubles, so six attempts wait at most 1.55 s in all (the fault
# campaign lost 3 of 5 thrice-throttled commits with standard mode, none with this).
_DYNAMODB_CONFIG = Config(
    retries={"mode": "legacy", "max_attempts": 6}, connect_timeout=3
)


@cache
def dynamodb_resource() -> Any:
    return boto3.resource("dynamodb", config=_DYNAMODB_CONFIG)


@cache
def dynamodb_client() -> Any:
    return boto3.client("dynamodb", config=_DYNAMODB_CONFIG)


@cache
def kms_client() -> Any:
    return boto3.client("kms", config=_CONFIG)


@cache
def cognito_client() -> Any:
    return boto3.client("cognito-idp", config=_CONFIG)


@cache
def scheduler_client() -> Any:
    return boto3.client("scheduler", config=_CONFIG)


@cache
def lambda_client() -> Any:
    return boto3.client("lambda", config=_CONFIG)


def table(name: str) -> Any:
    """A DynamoDB table handle; cheap, so it is not cached itself."""
    return dynamodb_resource().Table(name)


def reset_clients() -> None:
    """Forget cached clients; tests start a fresh moto mock per case."""
    dynamodb_resource.cache_clear()
    dynamodb_client.cache_clear()
    kms_client.cache_clear()
    cognito_client.cache_clear()
    scheduler_client.cache_clear()
    lambda_client.cache_clear()
