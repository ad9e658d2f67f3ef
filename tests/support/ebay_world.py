"""The eBay emulator wired to the functions the way the local stack wires it.

Functions reach the emulator through the same environment variables a deployment
sets for real eBay (`EBAY_*_BASE_URL`, `SECRET_ARN`), with the app keyset in a
moto Secrets Manager secret and a moto KMS key for the tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest
from aws_lambda_powertools.utilities import parameters

from local.ebay_emulator import OAuthApp

APP = OAuthApp()
APP_SECRET_NAME = "ebay-sniper/test/ebay-app"


@dataclass
class EbayWorld:
    """The emulator's admin API and browser-side consent, for test scenarios."""

    url: str
    http: httpx.Client
    key_arn: str

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, f"/__admin{path}", **kwargs)
        assert response.status_code < 300, response.text
        return response

    def listing(self, **spec: Any) -> dict[str, Any]:
        spec.setdefault("seller", "seller1")
        spec.setdefault("endsInSeconds", 3_600)
        result: dict[str, Any] = self.admin("POST", "/listings", json=spec).json()
        return result

    def watch(self, username: str, item_id: str) -> None:
        self.admin("POST", f"/users/{username}/watchlist", json={"itemId": item_id})

    def fault(self, **spec: Any) -> None:
        self.admin("POST", "/faults", json=spec)

    def app_secret(self, **fields: str | None) -> None:
        """Change fields of the app keyset secret (None removes one), as an
        operator would with put-secret-value, and drop the functions' cached copy."""
        manager = boto3.client("secretsmanager")
        value = json.loads(
            manager.get_secret_value(SecretId=APP_SECRET_NAME)["SecretString"]
        )
        value.update(fields)
        value = {name: v for name, v in value.items() if v is not None}
        manager.put_secret_value(
            SecretId=APP_SECRET_NAME, SecretString=json.dumps(value)
        )
        parameters.clear_caches()

    def consent(self, auth_url: str, username: str) -> dict[str, str]:
        """Do what a browser does on eBay's consent page; return code and state."""
        page = self.http.get(auth_url)
        assert page.status_code == 200, page.text
        query = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
        answer = self.http.post(
            "/oauth2/authorize",
            data={**query, "username": username, "decision": "agree"},
        )
        assert answer.status_code == 302, answer.text
        redirect = parse_qs(urlsplit(answer.headers["location"]).query)
        return {"code": redirect["code"][0], "state": redirect["state"][0]}


def point_functions_at(
    url: str, monkeypatch: pytest.MonkeyPatch, app: OAuthApp = APP
) -> str:
    """Set a function's eBay environment to the emulator; returns the KMS key ARN."""
    secret_arn = boto3.client("secretsmanager").create_secret(
        Name=APP_SECRET_NAME,
        SecretString=json.dumps(
            {
                "clientId": app.client_id,
                "clientSecret": app.client_secret,
                "ruName": app.ru_name,
            }
        ),
    )["ARN"]
    key_arn = boto3.client("kms").create_key(Description="tokens")["KeyMetadata"]["Arn"]
    for variable, value in {
        "EBAY_ENVIRONMENT": "sandbox",
        "EBAY_AUTH_BASE_URL": url,
        "EBAY_API_BASE_URL": url,
        "EBAY_IDENTITY_BASE_URL": url,
        "EBAY_TRADING_URL": f"{url}/ws/api.dll",
        "SECRET_ARN": secret_arn,
        "TOKEN_KMS_KEY_ID": key_arn,
    }.items():
        monkeypatch.setenv(variable, value)
    return str(key_arn)
