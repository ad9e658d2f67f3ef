"""Settings read once from the environment, with errors that name what is missing.

Handlers import without any variable set (OpenAPI generation imports every handler);
a missing variable fails on first use, naming the variable, not deep inside boto3.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

DEFAULT_CORS_ORIGINS = ("http://localhost:3000",)


class MissingSettingError(RuntimeError):
    """A required environment variable is absent or empty."""

    def __init__(self, name: str, purpose: str) -> None:
        super().__init__(f"environment variable {name} is not set; it names {purpose}")
        self.name = name


def _required(environ: Mapping[str, str], name: str, purpose: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise MissingSettingError(name, purpose)
    return value


def _origins(raw: str | None) -> tuple[str, ...]:
    if raw is None or not raw.strip():
        return DEFAULT_CORS_ORIGINS
    return tuple(origin.strip() for origin in raw.split(",") if origin.strip())


@dataclass(frozen=True)
class ApiSettings:
    """What every API function needs before it can answer a request."""

    stage: str
    cors_origins: tuple[str, ...]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ApiSettings:
        return cls(
            stage=environ.get("STAGE", "dev"),
            cors_origins=_origins(environ.get("CORS_ORIGINS")),
        )


@dataclass(frozen=True)
class TableNames:
    """The DynamoDB tables; each is required only by the code that touches it."""

    environ: Mapping[str, str]

    @property
    def users(self) -> str:
        return _required(self.environ, "USERS_TABLE", "the Users table")

    @property
    def bids(self) -> str:
        return _required(self.environ, "BIDS_TABLE", "the Bids table")

    @property
    def bid_history(self) -> str:
        return _required(self.environ, "BID_HISTORY_TABLE", "the BidHistory table")


@cache
def token_key_id() -> str:
    """The KMS key that encrypts eBay tokens at rest."""
    return _required(os.environ, "TOKEN_KMS_KEY_ID", "the KMS key for eBay tokens")


@cache
def user_pool_id() -> str:
    """The Cognito user pool whose users the API serves (account deletion)."""
    return _required(os.environ, "USER_POOL_ID", "the Cognito user pool")


# An account's tombstone outlives every token issued before its deletion: Cognito's
# ID tokens live one hour by default and one day at most.
DEFAULT_TOMBSTONE_SECONDS = 86_400


@cache
def tombstone_seconds() -> int:
    raw = os.environ.get("ACCOUNT_TOMBSTONE_SECONDS", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else DEFAULT_TOMBSTONE_SECONDS


@cache
def api_settings() -> ApiSettings:
    """The API settings of this container, read once."""
    return ApiSettings.from_environ(os.environ)


@cache
def table_names() -> TableNames:
    """The table names of this container, read once."""
    return TableNames(dict(os.environ))


def reset_caches() -> None:
    """Forget settings read so far; tests change the environment between cases."""
    api_settings.cache_clear()
    table_names.cache_clear()
    token_key_id.cache_clear()
    user_pool_id.cache_clear()
    tombstone_seconds.cache_clear()
