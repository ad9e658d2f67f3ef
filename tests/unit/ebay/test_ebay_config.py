"""Settings from the environment and app credentials from Secrets Manager."""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from ebay_test_support import CLIENT_ID, CLIENT_SECRET, RU_NAME
from moto import mock_aws

from sniper.ebay import (
    EbayAppCredentials,
    EbayClient,
    EbayConfigError,
    EbayEnvironment,
    EbaySettings,
    load_app_credentials,
)


def test_production_uses_ebays_production_hosts() -> None:
    settings = EbaySettings.from_env({"EBAY_ENVIRONMENT": "production"})
    endpoints = settings.endpoints
    assert settings.environment is EbayEnvironment.PRODUCTION
    assert endpoints.consent_url == "https://auth.ebay.com/oauth2/authorize"
    assert endpoints.token_url == "https://api.ebay.com/identity/v1/oauth2/token"
    assert endpoints.api_base_url == "https://api.ebay.com"
    assert endpoints.identity_base_url == "https://apiz.ebay.com"
    assert endpoints.trading_url == "https://api.ebay.com/ws/api.dll"
    assert settings.marketplace_id == "EBAY_US"


def test_sandbox_uses_ebays_sandbox_hosts() -> None:
    endpoints = EbaySettings.from_env({"EBAY_ENVIRONMENT": "sandbox"}).endpoints
    assert endpoints.consent_url == "https://auth.sandbox.ebay.com/oauth2/authorize"
    assert (
        endpoints.token_url == "https://api.sandbox.ebay.com/identity/v1/oauth2/token"
    )
    assert endpoints.identity_base_url == "https://apiz.sandbox.ebay.com"
    assert endpoints.trading_url == "https://api.sandbox.ebay.com/ws/api.dll"


def test_one_emulator_origin_can_replace_every_host() -> None:
    origin = "http://127.0.0.1:8765"
    settings = EbaySettings.from_env(
        {
            "EBAY_ENVIRONMENT": "sandbox",
            "EBAY_AUTH_BASE_URL": origin,
            "EBAY_API_BASE_URL": origin + "/",
            "EBAY_IDENTITY_BASE_URL": origin,
            "EBAY_MARKETPLACE_ID": "EBAY_GB",
        }
    )
    endpoints = settings.endpoints
    assert endpoints.consent_url == f"{origin}/oauth2/authorize"
    assert endpoints.token_url == f"{origin}/identity/v1/oauth2/token"
    assert endpoints.identity_base_url == origin
    # Trading follows the REST host unless it is overridden itself.
    assert endpoints.trading_url == f"{origin}/ws/api.dll"
    assert settings.marketplace_id == "EBAY_GB"


def test_trading_url_can_be_overridden_alone() -> None:
    endpoints = EbaySettings.from_env(
        {"EBAY_ENVIRONMENT": "production", "EBAY_TRADING_URL": "http://t.test/ws"}
    ).endpoints
    assert endpoints.trading_url == "http://t.test/ws"
    assert endpoints.api_base_url == "https://api.ebay.com"


@pytest.mark.parametrize("value", ["", "prod", "live", "staging"])
def test_unknown_environment_is_a_clear_error(value: str) -> None:
    with pytest.raises(EbayConfigError, match="EBAY_ENVIRONMENT"):
        EbaySettings.from_env({"EBAY_ENVIRONMENT": value})


def test_missing_environment_is_a_clear_error() -> None:
    with pytest.raises(EbayConfigError, match="EBAY_ENVIRONMENT is not set"):
        EbaySettings.from_env({})


def test_a_malformed_override_is_named() -> None:
    with pytest.raises(EbayConfigError, match="EBAY_API_BASE_URL"):
        EbaySettings.from_env(
            {"EBAY_ENVIRONMENT": "sandbox", "EBAY_API_BASE_URL": "localhost:8765"}
        )


SECRET_NAME = "ebay-sniper/ebay-app"
SECRET = {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "ruName": RU_NAME}


@pytest.fixture
def secrets_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()  # type: ignore[no-untyped-call]  # Powertools' provider must be created inside moto
    with mock_aws():
        yield boto3.client("secretsmanager")
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def _create_secret(client: Any, value: dict[str, str]) -> str:
    response = client.create_secret(Name=SECRET_NAME, SecretString=json.dumps(value))
    return str(response["ARN"])


def test_credentials_come_from_the_secret(secrets_manager: Any) -> None:
    arn = _create_secret(secrets_manager, SECRET)
    credentials = load_app_credentials(arn)
    assert credentials.client_id == CLIENT_ID
    assert credentials.client_secret.get_secret_value() == CLIENT_SECRET
    assert credentials.ru_name == RU_NAME


def test_the_secret_is_cached_between_calls(secrets_manager: Any) -> None:
    arn = _create_secret(secrets_manager, SECRET)
    load_app_credentials(arn)
    secrets_manager.put_secret_value(
        SecretId=arn, SecretString=json.dumps({**SECRET, "clientId": "rotated"})
    )
    assert load_app_credentials(arn).client_id == CLIENT_ID  # from the cache
    parameters.clear_caches()  # type: ignore[no-untyped-call]
    assert load_app_credentials(arn).client_id == "rotated"


def test_a_missing_field_is_named_without_echoing_the_secret(
    secrets_manager: Any,
) -> None:
    arn = _create_secret(
        secrets_manager, {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}
    )
    with pytest.raises(EbayConfigError, match="ruName") as caught:
        load_app_credentials(arn)
    assert CLIENT_SECRET not in str(caught.value)
    assert CLIENT_SECRET not in repr(caught.value)
    # A logged traceback must not show pydantic's error, which quotes the input.
    assert CLIENT_SECRET not in "".join(traceback.format_exception(caught.value))


def test_a_secret_that_is_not_json_is_refused(secrets_manager: Any) -> None:
    response = secrets_manager.create_secret(
        Name="plain", SecretString=f"clientSecret={CLIENT_SECRET}"
    )
    with pytest.raises(EbayConfigError, match="not a JSON object") as caught:
        load_app_credentials(response["ARN"])
    assert CLIENT_SECRET not in "".join(traceback.format_exception(caught.value))


def test_an_unknown_secret_is_a_config_error(secrets_manager: Any) -> None:
    with pytest.raises(EbayConfigError, match="cannot read"):
        load_app_credentials(
            "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf"
        )


def test_no_secret_arn_is_a_config_error() -> None:
    with pytest.raises(EbayConfigError, match="SECRET_ARN"):
        load_app_credentials(None)


def test_the_client_secret_never_shows_in_a_repr() -> None:
    credentials = EbayAppCredentials.model_validate(SECRET)
    assert CLIENT_SECRET not in repr(credentials)
    assert CLIENT_SECRET not in str(credentials)
    assert CLIENT_SECRET not in credentials.model_dump_json()


def test_the_client_is_built_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EBAY_ENVIRONMENT", "sandbox")
    monkeypatch.setenv("EBAY_MARKETPLACE_ID", "EBAY_DE")
    monkeypatch.setenv("SECRET_ARN", "arn:aws:secretsmanager:us-east-1:1:secret:x")
    client = EbayClient.from_env()
    assert client.settings.environment is EbayEnvironment.SANDBOX
    assert client.settings.marketplace_id == "EBAY_DE"
    assert repr(client) == "EbayClient(environment='sandbox', marketplace='EBAY_DE')"
