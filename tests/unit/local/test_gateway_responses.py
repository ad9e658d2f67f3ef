"""API Gateway's own answers as the template declares them, rendered locally.

The gateway responses of `template.yaml` must each be the API's error body
(`sniper.api.ErrorBody`) with the CORS header, so the frontend parses one shape;
the local gateway must render them from the template, substituting `$context`
variables, and throttle each method by the template's `MethodSettings`.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from local.stack.apigw import (
    REQUEST_BODY_LIMIT,
    Throttle,
    gateway_response,
    render_template,
)
from local.stack.console import Console
from local.stack.gateway import Gateway
from local.stack.identity import LocalIdentity, load_or_create_key
from local.template.apis import (
    ApiRoute,
    Authorizer,
    GatewayResponse,
    MethodThrottle,
    RestApi,
    rest_apis,
)
from local.template.intrinsics import Resolver
from local.template.loader import load_template
from sniper.api import ErrorBody
from tests.unit.local.test_gateway_app import Lambdas, Web

ROOT = Path(__file__).resolve().parents[3]
ORIGIN = "http://localhost:3000"
# What the frontend is promised for each answer API Gateway gives itself.
EXPECTED = {
    "UNAUTHORIZED": (401, "UNAUTHORIZED"),
    "ACCESS_DENIED": (403, "FORBIDDEN"),
    "WAF_FILTERED": (403, "FORBIDDEN"),
    "MISSING_AUTHENTICATION_TOKEN": (404, "ROUTE_NOT_FOUND"),
    "RESOURCE_NOT_FOUND": (404, "ROUTE_NOT_FOUND"),
    "REQUEST_TOO_LARGE": (413, "REQUEST_TOO_LARGE"),
    "THROTTLED": (429, "THROTTLED"),
    "INTEGRATION_TIMEOUT": (504, "GATEWAY_TIMEOUT"),
    "DEFAULT_4XX": (400, "BAD_REQUEST"),
    "DEFAULT_5XX": (502, "GATEWAY_ERROR"),
}
# The variables API Gateway offers gateway response templates (a typo renders "").
KNOWN_VARIABLES = {
    "error.message",
    "error.messageString",
    "error.responseType",
    "error.validationErrorString",
    "requestId",
    "extendedRequestId",
    "httpMethod",
    "path",
    "resourcePath",
    "stage",
    "apiId",
    "accountId",
    "domainName",
    "requestTime",
    "requestTimeEpoch",
    "identity.sourceIp",
    "identity.userAgent",
}


@pytest.fixture(scope="module")
def sniper_api() -> RestApi:
    template = load_template(ROOT / "template.yaml")
    return rest_apis(template, Resolver(template, {"Stage": "local"}))["SniperApi"]


@pytest.fixture(scope="module")
def identity() -> LocalIdentity:
    key, _ = load_or_create_key(None)
    return LocalIdentity(key, "http://testserver/local", "web")


def body_of(response: Any) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.body)
    return body


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_gateway_response_is_the_api_error_body_with_cors(
    sniper_api: RestApi, kind: str
) -> None:
    status, code = EXPECTED[kind]
    # A message with JSON's special characters must still give valid JSON.
    response = gateway_response(
        kind, 400, 'say "hi"\\ now', api=sniper_api, request_id="req-1"
    )

    body = body_of(response)
    assert response.status == status
    assert set(body) == {"statusCode", "code", "message"}
    assert ErrorBody.model_validate(body).statusCode == status
    assert body["code"] == code
    assert body["message"]
    assert response.header("Access-Control-Allow-Origin") == ORIGIN
    assert response.header("Content-Type") == "application/json"


def test_the_template_uses_only_variables_api_gateway_knows(
    sniper_api: RestApi,
) -> None:
    used = {
        name
        for config in sniper_api.gateway_responses.values()
        for template in config.templates.values()
        for name in re.findall(r"\$context\.([\w.]*\w)", template)
    }

    assert used
    assert used <= KNOWN_VARIABLES


def test_the_message_and_request_id_are_substituted(sniper_api: RestApi) -> None:
    unauthorized = gateway_response(
        "UNAUTHORIZED",
        401,
        "The incoming token has expired",
        api=sniper_api,
        request_id="r",
    )
    failed = gateway_response(
        "DEFAULT_5XX", 502, "Internal server error", api=sniper_api, request_id="abc-1"
    )

    assert body_of(unauthorized)["message"] == "The incoming token has expired"
    assert body_of(failed)["message"].endswith("Request id: abc-1.")


def test_the_throttled_answer_says_when_to_come_back(sniper_api: RestApi) -> None:
    response = gateway_response(
        "THROTTLED", 429, "Too Many Requests", api=sniper_api, request_id="r"
    )

    assert response.header("Retry-After") == "1"
    assert response.header("x-amzn-ErrorType") == "TooManyRequestsException"


def test_rendering_follows_the_template_not_a_copy_of_it() -> None:
    api = RestApi(
        logical_id="A",
        api_id="a1",
        stage="beta",
        gateway_responses={
            "DEFAULT_4XX": GatewayResponse(
                status_code=418,
                headers={"X-Kind": "teapot"},
                templates={
                    "application/json": (
                        '{"t": "$context.error.responseType", "s": "$context.stage",'
                        ' "p": "$context.path", "m": $context.error.messageString,'
                        ' "u": "$context.notAVariable", "v": "$stageVariables.x"}'
                    )
                },
            )
        },
    )

    response = gateway_response(
        "UNAUTHORIZED",
        401,
        "no",
        api=api,
        request_id="r",
        context={"path": "/beta/items/1"},
    )

    assert response.status == 418
    assert response.header("X-Kind") == "teapot"
    assert body_of(response) == {
        "t": "UNAUTHORIZED",
        "s": "beta",
        "p": "/beta/items/1",
        "m": "no",
        "u": "",
        "v": "",
    }


def test_a_dot_after_a_variable_ends_the_sentence() -> None:
    rendered = render_template(
        "id $context.requestId. $context.error.messageString",
        {"requestId": "r1", "error.messageString": '"m"', "error.message": "x"},
    )

    assert rendered == 'id r1. "m"'


def test_without_gateway_responses_the_body_is_api_gateways() -> None:
    response = gateway_response(
        "MISSING_AUTHENTICATION_TOKEN",
        403,
        "Missing Authentication Token",
        api=None,
        request_id="r",
    )

    assert response.status == 403
    assert body_of(response) == {"message": "Missing Authentication Token"}


def test_the_templates_method_settings_become_throttles(sniper_api: RestApi) -> None:
    throttle = Throttle(sniper_api.throttling)
    deletion = "/ebay/notifications/account-deletion"

    own = throttle.setting(deletion, "POST")
    every = throttle.setting("/bids", "GET")

    assert own is not None and (own.rate_limit, own.burst_limit) == (5, 10)
    assert every is not None and (every.rate_limit, every.burst_limit) == (25, 50)
    assert throttle.setting(deletion, "GET") == every


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_the_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    throttle = Throttle([MethodThrottle("/*", "*", 2, 3)], clock=clock)

    burst = [throttle.allow("/x", "GET") for _ in range(4)]
    clock.now += 0.5  # one token back at 2 a second
    refilled = [throttle.allow("/x", "GET") for _ in range(2)]

    assert burst == [True, True, True, False]
    assert refilled == [True, False]
    assert throttle.allow("/x", "POST")  # every method has its own bucket
    assert throttle.allow("/y", "GET")


def test_a_negative_limit_turns_throttling_off() -> None:
    throttle = Throttle([MethodThrottle("/*", "*", -1, -1)])

    assert all(throttle.allow("/x", "GET") for _ in range(100))


# ---------------------------------------------------------------- over HTTP
def gateway(
    identity: LocalIdentity, api: RestApi, lambdas: Lambdas | None = None
) -> Web:
    routes = [
        ApiRoute(
            api=api,
            path="/open",
            method="POST",
            function="Fn",
            event="E",
            authorizer=None,
        ),
        ApiRoute(
            api=api,
            path="/closed",
            method="GET",
            function="Fn",
            event="E",
            authorizer="Cognito",
        ),
    ]
    app = Gateway(
        routes,
        lambdas or Lambdas(),  # type: ignore[arg-type]
        identity,
        Console(io.StringIO()),
        ThreadPoolExecutor(2),
        account_id="123456789012",
    )
    return Web(app)


@pytest.fixture
def local_api(sniper_api: RestApi) -> RestApi:
    """The template's API with its gateway responses, throttled to a burst of 2."""
    return replace(
        sniper_api,
        authorizers={"Cognito": Authorizer("Cognito", "cognito")},
        throttling=(MethodThrottle("/*", "*", 0.001, 2),),
    )


def test_an_unknown_route_is_404_naming_the_method(
    identity: LocalIdentity, local_api: RestApi
) -> None:
    web = gateway(identity, local_api)

    unknown = web.request("DELETE", "/nothing")
    wrong_method = web.get("/open")

    assert (unknown.status_code, wrong_method.status_code) == (404, 404)
    assert unknown.json()["message"].startswith("No route matches DELETE ")
    assert wrong_method.json()["code"] == "ROUTE_NOT_FOUND"
    assert unknown.headers["access-control-allow-origin"] == ORIGIN


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def test_a_body_over_10_mb_is_413_and_never_reaches_the_function(
    identity: LocalIdentity, local_api: RestApi
) -> None:
    lambdas = Lambdas()
    web = gateway(identity, local_api, lambdas)

    declared = web.post("/open", content=b"x" * (REQUEST_BODY_LIMIT + 1))
    # Chunked: no Content-Length to go by, the body itself is measured.
    chunked = web.post("/open", content=chunks(b"x" * REQUEST_BODY_LIMIT, b"x"))
    at_the_limit = web.post("/open", content=b"x" * REQUEST_BODY_LIMIT)

    for too_large in (declared, chunked):
        assert too_large.status_code == 413
        assert too_large.json()["code"] == "REQUEST_TOO_LARGE"
        assert too_large.headers["access-control-allow-origin"] == ORIGIN
    assert "content-length" not in chunked.request.headers
    assert at_the_limit.status_code == 200
    assert len(lambdas.events) == 1


def test_past_the_burst_a_method_is_throttled_with_the_template_body(
    identity: LocalIdentity, local_api: RestApi
) -> None:
    lambdas = Lambdas()
    web = gateway(identity, local_api, lambdas)

    statuses = [web.post("/open").status_code for _ in range(3)]
    throttled = web.post("/open")

    assert statuses == [200, 200, 429]
    assert throttled.json() == {
        "statusCode": 429,
        "code": "THROTTLED",
        "message": "Too many requests; try again in a moment.",
    }
    assert throttled.headers["retry-after"] == "1"
    assert len(lambdas.events) == 2


def test_the_authorizer_and_a_failed_function_answer_the_template_bodies(
    identity: LocalIdentity, local_api: RestApi
) -> None:
    web = gateway(identity, local_api, Lambdas({"body": "no statusCode"}))

    unauthorized = web.get("/closed")
    failed = web.post("/open")

    assert unauthorized.status_code == 401
    assert unauthorized.json() == {
        "statusCode": 401,
        "code": "UNAUTHORIZED",
        "message": "Unauthorized",
    }
    assert failed.status_code == 502
    assert failed.json()["code"] == "GATEWAY_ERROR"
    assert failed.json()["message"].endswith(
        f"Request id: {failed.headers['x-amzn-requestid']}."
    )
