"""The REST proxy event, the response mapping and API Gateway's own responses."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from local.stack.apigw import (
    HttpRequest,
    MalformedResponse,
    canonical_header,
    gateway_response,
    http_response,
    preflight,
    request_time,
    rest_event,
)
from local.template.apis import CorsSettings, GatewayResponse, RestApi
from tests.support.handlers import sample_event

API = RestApi(
    logical_id="SniperApi",
    api_id="abc123",
    stage="dev",
    cors=CorsSettings(
        allow_origin="http://localhost:3000",
        allow_headers="Authorization,Content-Type",
        max_age="600",
    ),
    gateway_responses={
        "DEFAULT_4XX": GatewayResponse(
            headers={"Access-Control-Allow-Origin": "http://x"}
        )
    },
)
CLAIMS = {"sub": "u-1", "email": "alice@example.com"}


def request(**changes: Any) -> HttpRequest:
    values: dict[str, Any] = {
        "method": "GET",
        "path": "/users/profile",
        "query": b"",
        "headers": [
            ("host", "127.0.0.1:3000"),
            ("accept", "application/json"),
            ("user-agent", "Mozilla/5.0"),
            ("authorization", "Bearer t"),
            ("origin", "http://localhost:3000"),
        ],
        "body": b"",
        "source_ip": "127.0.0.1",
        "port": 3000,
    }
    values.update(changes)
    return HttpRequest(**values)


def event_for(http: HttpRequest, **options: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "api": API,
        "resource": "/users/profile",
        "path_parameters": {},
        "account_id": "123456789012",
        "claims": CLAIMS,
        "request_id": "req-1",
        "now_ms": 1_428_582_896_000,
    }
    arguments.update(options)
    return rest_event(http, **arguments)


def shape(value: Any) -> Any:
    """Keys all the way down (values and header names aside)."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return type(value).__name__ if value is not None else None


def test_the_event_has_the_shape_sam_generates() -> None:
    sample = sample_event("user_management/profile_get.json")

    event = event_for(request())

    top = set(sample) - {"headers", "multiValueHeaders"}
    assert top <= set(event)
    assert set(sample["requestContext"]) - {"authorizer"} <= set(
        event["requestContext"]
    )
    assert set(sample["requestContext"]["identity"]) <= set(
        event["requestContext"]["identity"]
    )
    for field in ("body", "queryStringParameters", "pathParameters", "stageVariables"):
        assert event[field] is None, field
    assert event["isBase64Encoded"] is False


def test_event_fields_one_by_one() -> None:
    event = event_for(request())

    assert event["resource"] == "/users/profile"
    assert event["path"] == "/users/profile"
    assert event["httpMethod"] == "GET"
    context = event["requestContext"]
    assert context["path"] == "/dev/users/profile"
    assert context["stage"] == "dev"
    assert context["resourcePath"] == "/users/profile"
    assert context["httpMethod"] == "GET"
    assert context["requestId"] == "req-1"
    assert context["accountId"] == "123456789012"
    assert context["apiId"] == "abc123"
    assert context["protocol"] == "HTTP/1.1"
    assert context["requestTimeEpoch"] == 1_428_582_896_000
    assert context["requestTime"] == "09/Apr/2015:12:34:56 +0000"
    assert context["domainName"] == "127.0.0.1:3000"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["identity"]["userAgent"] == "Mozilla/5.0"
    assert context["authorizer"] == {"claims": CLAIMS}


def test_headers_are_title_cased_last_value_wins_and_forwarding_is_added() -> None:
    http = request(
        headers=[("x-tag", "a"), ("X-Tag", "b"), ("content-type", "text/plain")]
    )

    event = event_for(http)

    assert event["headers"]["X-Tag"] == "b"
    assert event["multiValueHeaders"]["X-Tag"] == ["a", "b"]
    assert event["headers"]["Content-Type"] == "text/plain"
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert event["headers"]["X-Forwarded-Port"] == "3000"
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    assert event["headers"]["X-Amzn-Trace-Id"].startswith("Root=1-")
    assert canonical_header("idempotency-key") == "Idempotency-Key"


def test_query_strings_single_and_multi_value() -> None:
    event = event_for(request(query=b"a=1&a=2&b=%20x&flag"))

    assert event["queryStringParameters"] == {"a": "2", "b": " x", "flag": ""}
    assert event["multiValueQueryStringParameters"] == {
        "a": ["1", "2"],
        "b": [" x"],
        "flag": [""],
    }


def test_path_parameters_and_an_open_route() -> None:
    event = event_for(
        request(path="/bids/b-1"),
        resource="/bids/{bidId}",
        path_parameters={"bidId": "b-1"},
        claims=None,
    )

    assert event["pathParameters"] == {"bidId": "b-1"}
    assert "authorizer" not in event["requestContext"]


def test_text_bodies_as_text_and_binary_ones_base64() -> None:
    text = event_for(request(method="PUT", body=b'{"a": "\xc3\xa9"}'))
    binary = event_for(request(method="PUT", body=b"\xff\xfe"))
    declared = RestApi(
        logical_id="A", api_id="a", stage="s", binary_media_types=("image/*",)
    )
    png = event_for(
        request(method="PUT", body=b"png", headers=[("content-type", "image/png")]),
        api=declared,
    )

    assert (text["body"], text["isBase64Encoded"]) == ('{"a": "é"}', False)
    assert binary["isBase64Encoded"] is True
    assert base64.b64decode(binary["body"]) == b"\xff\xfe"
    assert png["isBase64Encoded"] is True
    assert base64.b64decode(png["body"]) == b"png"


def test_response_headers_and_multi_value_headers_merge() -> None:
    response = http_response(
        {
            "statusCode": 201,
            "headers": {"X-One": "1", "Set-Cookie": "a=1"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "X-Many": [1, 2]},
            "body": "{}",
        }
    )

    assert response.status == 201
    assert ("Set-Cookie", "a=1") in response.headers
    assert ("Set-Cookie", "b=2") in response.headers
    assert len([h for h in response.headers if h[0] == "Set-Cookie"]) == 2
    assert [v for k, v in response.headers if k == "X-Many"] == ["1", "2"]
    assert response.header("Content-Type") == "application/json"
    assert response.body == b"{}"


def test_powertools_style_response_maps_back() -> None:
    response = http_response(
        {
            "statusCode": 204,
            "body": "",
            "isBase64Encoded": False,
            "multiValueHeaders": {"Content-Type": ["application/json"]},
        }
    )

    assert (response.status, response.body) == (204, b"")


def test_base64_bodies_decode_only_for_binary_media_types() -> None:
    encoded = base64.b64encode(b"\x89PNG").decode()
    payload = {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": encoded,
        "isBase64Encoded": True,
    }

    as_text = http_response(payload)
    as_binary = http_response(payload, binary_media_types=("image/png",))
    by_accept = http_response(payload, binary_media_types=("*/*",), accept="image/png")

    assert as_text.body == encoded.encode()
    assert as_binary.body == b"\x89PNG"
    assert by_accept.body == b"\x89PNG"


@pytest.mark.parametrize(
    "result",
    [
        "not an object",
        {"statusCode": "abc"},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "extra": 1},
        {"statusCode": 200, "headers": {"X": None}},
        {"statusCode": 200, "isBase64Encoded": "maybe"},
        {"statusCode": 99},
        {"body": "no statusCode"},
        {},
    ],
)
def test_malformed_responses(result: Any) -> None:
    with pytest.raises(MalformedResponse):
        http_response(result)


def test_gateway_responses_carry_the_templates_headers() -> None:
    unauthorized = gateway_response(
        "UNAUTHORIZED", 401, "Unauthorized", api=API, request_id="r"
    )
    internal = gateway_response(
        "DEFAULT_5XX", 502, "Internal server error", api=API, request_id="r"
    )

    assert unauthorized.status == 401
    assert json.loads(unauthorized.body) == {"message": "Unauthorized"}
    assert unauthorized.header("Access-Control-Allow-Origin") == "http://x"
    assert unauthorized.header("x-amzn-ErrorType") == "UnauthorizedException"
    assert internal.header("Access-Control-Allow-Origin") is None


def test_gateway_response_templates_and_status_overrides() -> None:
    api = RestApi(
        logical_id="A",
        api_id="a",
        stage="s",
        gateway_responses={
            "UNAUTHORIZED": GatewayResponse(
                status_code=403,
                templates={
                    "application/json": '{"error": $context.error.messageString}'
                },
            )
        },
    )

    response = gateway_response(
        "UNAUTHORIZED", 401, "Unauthorized", api=api, request_id="r"
    )

    assert response.status == 403
    assert json.loads(response.body) == {"error": "Unauthorized"}


def test_preflight_from_cors_settings() -> None:
    response = preflight(API, ["GET", "PUT"], "r")

    assert response.status == 200
    assert response.header("Access-Control-Allow-Origin") == "http://localhost:3000"
    assert response.header("Access-Control-Allow-Methods") == "GET,OPTIONS,PUT"
    assert (
        response.header("Access-Control-Allow-Headers") == "Authorization,Content-Type"
    )
    assert response.header("Access-Control-Max-Age") == "600"
    assert response.header("Access-Control-Allow-Credentials") is None
    assert (response.header("Content-Type"), response.body) == (
        "application/json",
        b"{}",
    )


def test_request_time_format() -> None:
    assert request_time(0) == "01/Jan/1970:00:00:00 +0000"
    assert shape({"a": {"b": None}}) == {"a": {"b": None}}
