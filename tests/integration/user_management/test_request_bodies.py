"""Hostile request bodies: every one is a clear 4xx and changes nothing.

The API speaks JSON objects only; the body routes of every function share one
reader (`sniper.api`), so these cases stand for all of them.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from tests.conftest import MockedAws
from tests.support.handlers import ALICE, Invoker, as_user, body_of, sample_event

EMAIL = "alice@example.com"


@pytest.fixture
def invoke(mocked_aws: MockedAws) -> Invoker:
    invoke = Invoker("user_management")
    created = invoke(
        as_user(sample_event("user_management/profile_get.json"), ALICE, EMAIL)
    )
    assert created["statusCode"] == 200
    return invoke


def put(route: str, raw: bytes, content_type: str | None) -> dict[str, Any]:
    event = as_user(sample_event(f"user_management/{route}_put.json"), ALICE, EMAIL)
    try:  # as API Gateway passes it: text, or base64 when it is not UTF-8
        event["body"], event["isBase64Encoded"] = raw.decode(), False
    except UnicodeDecodeError:
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw).decode(), True
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("Content-Type", None)
    if content_type is not None:
        event["headers"]["Content-Type"] = content_type
        event["multiValueHeaders"]["Content-Type"] = [content_type]
    return event


def profile(invoke: Invoker) -> dict[str, Any]:
    answer = invoke(
        as_user(sample_event("user_management/profile_get.json"), ALICE, EMAIL)
    )
    body: dict[str, Any] = body_of(answer)
    return body


MULTIPART = (
    b'--xyz\r\nContent-Disposition: form-data; name="timezone"\r\n\r\n'
    b"Europe/Berlin\r\n--xyz--\r\n"
)


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("multipart/form-data", b'{"timezone": "Europe/Berlin"}'),
        ("multipart/form-data; boundary=xyz", MULTIPART),
        ("application/x-www-form-urlencoded", b"timezone=Europe%2FBerlin"),
        ("text/plain", b'{"timezone": "Europe/Berlin"}'),
        ("application/xml", b"<timezone>Europe/Berlin</timezone>"),
    ],
)
@pytest.mark.parametrize("route", ["profile", "preferences"])
def test_a_body_that_is_not_json_is_415_and_changes_nothing(
    invoke: Invoker, route: str, content_type: str, raw: bytes
) -> None:
    before = profile(invoke)
    body = raw if route == "preferences" else raw.replace(b"timezone", b"email")

    response = invoke(put(route, body, content_type))

    assert response["statusCode"] == 415
    error = body_of(response)
    assert error["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert "application/json" in error["message"]
    assert profile(invoke) == before


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", None]
)
def test_json_is_read_with_or_without_a_charset_or_a_content_type(
    invoke: Invoker, content_type: str | None
) -> None:
    raw = b'{"timezone": "Europe/Berlin"}'

    response = invoke(put("preferences", raw, content_type))

    assert response["statusCode"] == 200
    assert profile(invoke)["preferences"]["timezone"] == "Europe/Berlin"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"preferences": ' * 20_000 + b"{}" + b"}" * 20_000,
        b"[" * 20_000 + b"]" * 20_000,
    ],
)
def test_a_deeply_nested_body_is_400(invoke: Invoker, raw: bytes) -> None:
    response = invoke(put("profile", raw, "application/json"))

    assert response["statusCode"] == 400
    assert "nest" in body_of(response)["message"]


@pytest.mark.parametrize("raw", [b"{not json", b'{"timezone": "UTC",}', b"\xff\xfe"])
def test_a_body_that_is_not_json_text_is_400(invoke: Invoker, raw: bytes) -> None:
    response = invoke(put("preferences", raw, "application/json"))

    assert response["statusCode"] == 400
    assert body_of(response)["message"] == "The request body is not valid UTF-8 JSON."


def test_a_base64_body_that_is_not_base64_is_400(invoke: Invoker) -> None:
    event = put("preferences", b"", "application/json")
    event["body"], event["isBase64Encoded"] = "not*base64", True

    response = invoke(event)

    assert response["statusCode"] == 400


@pytest.mark.parametrize(
    "body",
    [
        [{"timezone": "Europe/Berlin"}],
        [{"timezone": "Europe/Berlin"}, {"timezone": "Asia/Tokyo"}],
    ],
)
def test_a_json_array_is_400_and_changes_nothing(invoke: Invoker, body: Any) -> None:
    before = profile(invoke)

    response = invoke(put("preferences", json.dumps(body).encode(), None))

    assert response["statusCode"] == 400
    assert body_of(response)["errors"][0]["field"] == "body"
    assert profile(invoke) == before


@pytest.mark.parametrize(
    "email",
    [
        "a\u0000@example.com",
        "a@example.com\u200b",
        "\u202eab@example.com",
        "a\x07@x.io",
    ],
)
def test_an_email_with_control_or_invisible_characters_is_400(
    invoke: Invoker, email: str
) -> None:
    raw = json.dumps({"email": email}).encode()

    response = invoke(put("profile", raw, "application/json"))

    assert response["statusCode"] == 400
    assert body_of(response)["errors"][0]["field"] == "email"
    assert profile(invoke)["email"] == EMAIL


def test_an_international_email_is_accepted(invoke: Invoker) -> None:
    raw = json.dumps({"email": "jürgen@exämple.de"}).encode()

    response = invoke(put("profile", raw, "application/json"))

    assert response["statusCode"] == 200
    assert body_of(response)["email"] == "jürgen@exämple.de"


def test_a_huge_bad_timezone_is_not_echoed_back(invoke: Invoker) -> None:
    raw = json.dumps({"timezone": "Europe/" * 50_000}).encode()

    response = invoke(put("preferences", raw, "application/json"))

    assert response["statusCode"] == 400
    assert len(response["body"]) < 2_000
    assert "IANA" in body_of(response)["message"]


def test_sample_event_bodies_still_work(invoke: Invoker) -> None:
    event = as_user(sample_event("user_management/preferences_put.json"), ALICE, EMAIL)
    assert event["isBase64Encoded"] is True
    assert json.loads(base64.b64decode(event["body"]))

    assert invoke(event)["statusCode"] == 200
