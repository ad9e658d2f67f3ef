"""Page cursors: signed, bound to their caller and their query, opaque."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from sniper.errors import BadRequestError
from sniper.pagination import (
    FOREIGN_CURSOR,
    INVALID_CURSOR,
    MAX_CURSOR_LENGTH,
    OTHER_QUERY_CURSOR,
    CursorCodec,
    CursorKeyError,
    InvalidCursor,
    secret_key,
)

KEY = b"k" * 48
POSITION = {"sk": "BID#3f2b8c1e", "activeEndKey": "001764032400#3f2b8c1e"}


def codec(key: bytes = KEY) -> CursorCodec:
    return CursorCodec(lambda: key)


def signed(position: Any = POSITION, user: str = "alice", scope: str = "q") -> str:
    cursor = codec().encode(position, user_id=user, scope=scope)
    assert cursor is not None
    return cursor


def decode(cursor: str | None, user: str = "alice", scope: str = "q") -> Any:
    return codec().decode(cursor, user_id=user, scope=scope)


def reencoded(cursor: str, change: Any) -> str:
    """The cursor with its JSON changed and its signature kept."""
    payload, signature = cursor.split(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(document)
    raw = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    return f"{base64.urlsafe_b64encode(raw).rstrip(b'=').decode()}.{signature}"


def test_a_cursor_round_trips_to_its_position() -> None:
    cursor = signed()

    assert decode(cursor) == POSITION
    assert cursor.isascii()
    assert "=" not in cursor and "+" not in cursor and "/" not in cursor


def test_no_position_no_cursor_and_back() -> None:
    assert codec().encode(None, user_id="alice", scope="q") is None
    assert decode(None) is None


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["k"].update(sk="BID#other"),
        lambda d: d.update(u="bob"),
        lambda d: d.update(s="other"),
        lambda d: d.update(v=2),
    ],
)
def test_a_changed_payload_fails_its_signature(change: Any) -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode(reencoded(signed(), change))

    assert raised.value.message == INVALID_CURSOR


def test_a_changed_signature_fails() -> None:
    payload, signature = signed().split(".")
    flipped = ("B" if signature[0] == "A" else "A") + signature[1:]

    with pytest.raises(InvalidCursor):
        decode(f"{payload}.{flipped}")


def test_a_cursor_signed_with_another_key_fails() -> None:
    cursor = codec(b"o" * 48).encode(POSITION, user_id="alice", scope="q")

    with pytest.raises(InvalidCursor):
        decode(cursor)


def test_another_users_cursor_is_refused_though_validly_signed() -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode(signed(user="bob"), user="alice")

    assert raised.value.message == FOREIGN_CURSOR


def test_a_cursor_of_another_query_is_refused() -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode(signed(scope="bid-history:[null]"), scope='bid-history:["WIN"]')

    assert raised.value.message == OTHER_QUERY_CURSOR


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        ".",
        "abc",
        "a.b.c",
        "!!!.###",
        "é.é",
        "x" * (MAX_CURSOR_LENGTH + 1),
        base64.urlsafe_b64encode(b"not json").decode() + ".AAAA",
    ],
)
def test_garbage_is_a_400_not_a_crash(garbage: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode(garbage)

    assert isinstance(raised.value, BadRequestError)
    assert raised.value.status_code == 400


def test_a_validly_signed_document_of_the_wrong_shape_is_refused() -> None:
    for document in ([1, 2], {"v": 1, "u": "alice", "s": "q", "k": "flat"}):
        raw = json.dumps(document).encode()
        payload = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        signature = codec()._sign(payload)
        cursor = (
            f"{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
        )

        with pytest.raises(InvalidCursor):
            decode(cursor)


def test_a_short_key_is_a_deployment_error() -> None:
    with pytest.raises(CursorKeyError, match="at least 32"):
        codec(b"short").encode(POSITION, user_id="alice", scope="q")


def test_the_key_is_read_from_secrets_manager_lazily() -> None:
    with mock_aws():
        parameters.clear_caches()
        arn = boto3.client("secretsmanager").create_secret(
            Name="cursor-key", SecretString="s" * 64
        )["ARN"]
        from_secret = CursorCodec(secret_key(arn))

        cursor = from_secret.encode(POSITION, user_id="alice", scope="q")

        assert codec(b"s" * 64).decode(cursor, user_id="alice", scope="q") == POSITION
        missing = CursorCodec(secret_key(arn + "-missing"))
        with pytest.raises(CursorKeyError, match="cannot read"):
            missing.encode(POSITION, user_id="alice", scope="q")
        parameters.clear_caches()
