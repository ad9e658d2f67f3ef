"""Opaque page cursors, signed and bound to the caller and to the query.

A cursor is `base64url(JSON {"v", "u": user id, "s": scope, "k": position})`, a dot
and `base64url(HMAC-SHA256)` over it. The position is where the last page ended (a
DynamoDB key without its user id; the repository puts the caller's id back), so:
- a tampered or garbled cursor fails the signature check: 400;
- another user's cursor, even validly signed, names another user: 400; and since
  the key is rebuilt with the caller's own id, it could never reach their data;
- a cursor of another query (other filters) names another scope: 400.

The key is a Secrets Manager secret the template generates (`CursorKeySecret`), named
by `CURSOR_SECRET_ARN` and read through Powertools Parameters (cached five minutes).
Rotating it invalidates the cursors in flight: clients start again from page one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sniper.errors import BadRequestError

T = TypeVar("T")

VERSION = 1
MAX_CURSOR_LENGTH = 2048
MIN_KEY_LENGTH = 32
KEY_MAX_AGE_SECONDS = 300
_DOMAIN = b"sniper-cursor-v1."

INVALID_CURSOR = "The cursor is not valid: request the first page again without it."
FOREIGN_CURSOR = "The cursor was issued to another user: leave it out."
OTHER_QUERY_CURSOR = (
    "The cursor belongs to a query with other filters: repeat that query's "
    "filters or leave the cursor out."
)


class InvalidCursor(BadRequestError):
    """A cursor we did not issue, or issued for another caller or query."""

    def __init__(self, message: str = INVALID_CURSOR) -> None:
        super().__init__(message)


class CursorKeyError(RuntimeError):
    """The signing key is missing or too short: a deployment problem, not the
    caller's."""


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing and where the next one starts (None: no more)."""

    items: list[T]
    cursor: dict[str, Any] | None = field(default=None)


class CursorCodec:
    """Signs positions into cursors and checks cursors back into positions."""

    def __init__(self, key: Callable[[], bytes]) -> None:
        # A callable, so the secret is read on first use, not when building.
        self._key = key

    def encode(
        self, position: Mapping[str, Any] | None, *, user_id: str, scope: str
    ) -> str | None:
        """The cursor for `position`; None when there is no next page."""
        if position is None:
            return None
        document = {"v": VERSION, "u": user_id, "s": scope, "k": dict(position)}
        payload = _b64encode(
            json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
        )
        return f"{payload}.{_b64encode(self._sign(payload))}"

    def decode(
        self, cursor: str | None, *, user_id: str, scope: str
    ) -> dict[str, Any] | None:
        """The position a cursor names; None for no cursor (the first page)."""
        if cursor is None:
            return None
        if not cursor or len(cursor) > MAX_CURSOR_LENGTH or cursor.count(".") != 1:
            raise InvalidCursor()
        payload, signature = cursor.split(".")
        try:
            given = _b64decode(signature)
            raw = _b64decode(payload)
        except (binascii.Error, ValueError):
            raise InvalidCursor() from None
        if not hmac.compare_digest(given, self._sign(payload)):
            raise InvalidCursor()
        try:
            document = json.loads(raw)
        except ValueError:
            raise InvalidCursor() from None
        if not isinstance(document, dict) or document.get("v") != VERSION:
            raise InvalidCursor()
        if document.get("u") != user_id:
            raise InvalidCursor(FOREIGN_CURSOR)
        if document.get("s") != scope:
            raise InvalidCursor(OTHER_QUERY_CURSOR)
        position = document.get("k")
        if not isinstance(position, dict):
            raise InvalidCursor()
        return position

    def _sign(self, payload: str) -> bytes:
        key = self._key()
        if len(key) < MIN_KEY_LENGTH:
            raise CursorKeyError(
                f"the cursor signing key has {len(key)} bytes; at least "
                f"{MIN_KEY_LENGTH} are needed"
            )
        return hmac.digest(key, _DOMAIN + payload.encode("ascii"), hashlib.sha256)


def secret_key(secret_arn: str) -> Callable[[], bytes]:
    """The signing key from a Secrets Manager secret, through Parameters' cache."""

    def read() -> bytes:
        # Imported here: Parameters pulls in boto3, which importing this module
        # (and OpenAPI generation) should not pay for.
        from aws_lambda_powertools.utilities import parameters

        try:
            value = parameters.get_secret(secret_arn, max_age=KEY_MAX_AGE_SECONDS)
        except parameters.GetParameterError as error:
            raise CursorKeyError(f"cannot read the cursor key {secret_arn}") from error
        return value.encode() if isinstance(value, str) else bytes(value)

    return read


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    padded = text + "=" * (-len(text) % 4)
    return base64.b64decode(padded, altchars=b"-_", validate=True)
