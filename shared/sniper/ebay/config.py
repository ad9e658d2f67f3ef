"""Where eBay lives for this deployment, and the app's eBay credentials.

Hosts follow ``EBAY_ENVIRONMENT`` (sandbox or production); each can be overridden
so that the local stack can point every call at one emulator origin. The app's
keys (client id, client secret, RuName) come only from a Secrets Manager secret
(``SECRET_ARN``), never from plain environment variables; so do the verification
token and endpoint URL registered for eBay's account deletion notifications.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, SecretStr, ValidationError

from sniper.ebay.errors import EbayConfigError, invalid_fields
from sniper.models.base import Model

SECRET_MAX_AGE_SECONDS = 300
DEFAULT_MARKETPLACE_ID = "EBAY_US"


class EbayEnvironment(StrEnum):
    """eBay's two worlds: the sandbox (test users, fake money) and production."""

    SANDBOX = "sandbox"
    PRODUCTION = "production"


class EbayEndpoints(Model):
    """Base URLs of eBay's services, without trailing slashes."""

    model_config = ConfigDict(frozen=True)

    auth_base_url: str
    api_base_url: str
    identity_base_url: str
    trading_url: str

    @property
    def consent_url(self) -> str:
        """The page where a user grants the app access (authorization code)."""
        return f"{self.auth_base_url}/oauth2/authorize"

    @property
    def token_url(self) -> str:
        """The OAuth token endpoint (all grants)."""
        return f"{self.api_base_url}/identity/v1/oauth2/token"


_DEFAULT_HOSTS: dict[EbayEnvironment, dict[str, str]] = {
    EbayEnvironment.PRODUCTION: {
        "auth_base_url": "https://auth.ebay.com",
        "api_base_url": "https://api.ebay.com",
        "identity_base_url": "https://apiz.ebay.com",
    },
    EbayEnvironment.SANDBOX: {
        "auth_base_url": "https://auth.sandbox.ebay.com",
        "api_base_url": "https://api.sandbox.ebay.com",
        "identity_base_url": "https://apiz.sandbox.ebay.com",
    },
}

_OVERRIDES = {
    "auth_base_url": "EBAY_AUTH_BASE_URL",
    "api_base_url": "EBAY_API_BASE_URL",
    "identity_base_url": "EBAY_IDENTITY_BASE_URL",
}


class EbaySettings(Model):
    """The eBay part of a function's environment, read once per container."""

    model_config = ConfigDict(frozen=True)

    environment: EbayEnvironment
    endpoints: EbayEndpoints
    marketplace_id: str = DEFAULT_MARKETPLACE_ID
    secret_arn: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EbaySettings:
        """Read ``EBAY_ENVIRONMENT``, the URL overrides, the marketplace and
        ``SECRET_ARN``; fail with a clear message on anything unusable."""
        env = os.environ if environ is None else environ
        environment = _environment(env.get("EBAY_ENVIRONMENT"))
        urls = dict(_DEFAULT_HOSTS[environment])
        for field, variable in _OVERRIDES.items():
            if env.get(variable):
                urls[field] = _base_url(variable, env[variable])
        trading = env.get("EBAY_TRADING_URL")
        urls["trading_url"] = (
            _base_url("EBAY_TRADING_URL", trading)
            if trading
            else f"{urls['api_base_url']}/ws/api.dll"
        )
        marketplace = env.get("EBAY_MARKETPLACE_ID") or DEFAULT_MARKETPLACE_ID
        if not marketplace.startswith("EBAY_"):
            raise EbayConfigError(
                f"EBAY_MARKETPLACE_ID must look like EBAY_US, got {marketplace!r}"
            )
        return cls(
            environment=environment,
            endpoints=EbayEndpoints(**urls),
            marketplace_id=marketplace,
            secret_arn=env.get("SECRET_ARN") or None,
        )


def _environment(value: str | None) -> EbayEnvironment:
    if not value:
        raise EbayConfigError(
            "EBAY_ENVIRONMENT is not set: use 'sandbox' or 'production'"
        )
    try:
        return EbayEnvironment(value.strip().lower())
    except ValueError:
        raise EbayConfigError(
            f"EBAY_ENVIRONMENT must be 'sandbox' or 'production', got {value!r}"
        ) from None


def _base_url(variable: str, value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise EbayConfigError(f"{variable} must be an http(s) URL, got {value!r}")
    if parts.query or parts.fragment:
        raise EbayConfigError(f"{variable} must not have a query or fragment")
    return value.strip().rstrip("/")


VERIFICATION_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,80}")
"""What eBay's developer portal accepts as a deletion endpoint's verification token."""


class DeletionEndpoint(Model):
    """What the app registered with eBay for account deletion notifications: the
    endpoint URL, exactly as registered, and its verification token."""

    model_config = ConfigDict(frozen=True)

    url: str
    verification_token: SecretStr


class EbayAppCredentials(Model):
    """The app's eBay keyset: the secret's JSON
    ``{"clientId": ..., "clientSecret": ..., "ruName": ...}``, optionally with
    ``"verificationToken"`` and ``"deletionEndpointUrl"`` (account deletion
    notifications; checked only when used, so a slip there never stops linking)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    client_id: str = Field(alias="clientId", min_length=1)
    client_secret: SecretStr = Field(alias="clientSecret", min_length=1)
    ru_name: str = Field(alias="ruName", min_length=1)
    verification_token: SecretStr | None = Field(
        default=None, alias="verificationToken"
    )
    deletion_endpoint_url: str | None = Field(default=None, alias="deletionEndpointUrl")

    def deletion_endpoint(self) -> DeletionEndpoint:
        """The registered deletion endpoint; ``EbayConfigError`` naming the field
        when it is missing or is not what eBay's portal accepts."""
        token = (
            self.verification_token.get_secret_value()
            if self.verification_token
            else ""
        )
        url = (self.deletion_endpoint_url or "").strip()
        missing = [
            name
            for name, value in (
                ("verificationToken", token),
                ("deletionEndpointUrl", url),
            )
            if not value
        ]
        if missing:
            raise EbayConfigError(
                "account deletion notifications are not configured: the eBay secret "
                f"lacks {' and '.join(missing)}"
            )
        if not VERIFICATION_TOKEN_PATTERN.fullmatch(token):
            raise EbayConfigError(
                "the eBay secret's verificationToken must be 32 to 80 characters of "
                "A-Z, a-z, 0-9, '_' and '-'"
            )
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.netloc or parts.fragment:
            raise EbayConfigError(
                "the eBay secret's deletionEndpointUrl must be the http(s) URL "
                "registered with eBay"
            )
        return DeletionEndpoint(url=url, verification_token=SecretStr(token))


def load_app_credentials(secret_arn: str | None) -> EbayAppCredentials:
    """Read the keyset through Powertools Parameters (cached for five minutes,
    so a rotated secret is picked up without a cold start)."""
    if not secret_arn:
        raise EbayConfigError("SECRET_ARN is not set: no eBay app credentials")
    # Imported here: Parameters pulls in boto3, which the import of this module
    # (and schema generation) should not pay for.
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(
            secret_arn, transform="json", max_age=SECRET_MAX_AGE_SECONDS
        )
    except parameters.GetParameterError as exc:
        raise EbayConfigError(f"cannot read the eBay secret {secret_arn}") from exc
    except parameters.TransformParameterError:
        raise EbayConfigError(
            f"the eBay secret {secret_arn} is not a JSON object"
        ) from None
    return credentials_from_secret(value, source=secret_arn)


def credentials_from_secret(value: Any, *, source: str) -> EbayAppCredentials:
    """Validate the secret's JSON; name missing fields, never echo values."""
    if not isinstance(value, dict):
        raise EbayConfigError(f"the eBay secret {source} is not a JSON object")
    try:
        return EbayAppCredentials.model_validate(value)
    except ValidationError as exc:
        # pydantic's own message quotes the input, i.e. the secret: build ours.
        raise EbayConfigError(
            f"the eBay secret {source} lacks or has empty field(s): "
            f"{invalid_fields(exc.errors())} (expected clientId, clientSecret, ruName;"
            " optional verificationToken, deletionEndpointUrl)"
        ) from None
