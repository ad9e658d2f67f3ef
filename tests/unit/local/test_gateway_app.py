"""The gateway's ASGI app with a scripted Lambda (no processes, no ports)."""

from __future__ import annotations

import asyncio
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.stack.console import Console
from local.stack.containers import Outcome
from local.stack.gateway import Gateway
from local.stack.identity import LocalIdentity, load_or_create_key
from local.template.apis import ApiRoute, Authorizer, CorsSettings, RestApi
from local.template.functions import FunctionSpec

SPEC = FunctionSpec(
    logical_id="Fn",
    name="fn",
    arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
    runtime="python3.11",
    handler="app.handler",
    code_dir=Path(),
    layer_dirs=(),
    memory_mb=128,
    timeout_s=3,
    environment={},
)


class Lambdas:
    functions = {"Fn": SPEC}

    def __init__(self, answer: Any = None, delay: float = 0) -> None:
        self.answer = answer or {"statusCode": 200, "body": "{}"}
        self.delay = delay
        self.events: list[dict[str, Any]] = []

    def invoke(self, spec: FunctionSpec, payload: str, **_: Any) -> Outcome:
        self.events.append(json.loads(payload))
        time.sleep(self.delay)
        return Outcome(json.dumps(self.answer))


def api(**changes: Any) -> RestApi:
    values: dict[str, Any] = {
        "logical_id": "Api",
        "api_id": "a1",
        "stage": "dev",
        "cors": CorsSettings(allow_origin="http://localhost:3001"),
        "default_authorizer": "Cognito",
        "authorizers": {
            "Cognito": Authorizer("Cognito", "cognito"),
            "Custom": Authorizer("Custom", "lambda"),
        },
    }
    values.update(changes)
    return RestApi(**values)


@pytest.fixture(scope="module")
def identity() -> LocalIdentity:
    key, _ = load_or_create_key(None)
    return LocalIdentity(key, "http://testserver/local", "web")


class Web:
    """A synchronous face on httpx's ASGI transport (the app runs in-process)."""

    def __init__(self, app: Gateway) -> None:
        self._app = app

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=self._app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as c:
                return await c.request(method, url, **options)

        return asyncio.run(send())

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def options(self, url: str, **options: Any) -> httpx.Response:
        return self.request("OPTIONS", url, **options)


def client(
    identity: LocalIdentity,
    lambdas: Lambdas,
    routes: list[tuple[str, str, str | None, int]],
    console: Console | None = None,
    **api_changes: Any,
) -> Web:
    the_api = api(**api_changes)
    gateway = Gateway(
        [
            ApiRoute(
                api=the_api,
                path=path,
                method=method,
                function="Fn",
                event="E",
                authorizer=authorizer,
                timeout_ms=timeout_ms,
            )
            for path, method, authorizer, timeout_ms in routes
        ],
        lambdas,  # type: ignore[arg-type]
        identity,
        console or Console(io.StringIO()),
        ThreadPoolExecutor(4),
        account_id="123456789012",
    )
    return Web(gateway)


def test_a_slow_function_gets_the_integration_timeout(identity: LocalIdentity) -> None:
    web = client(identity, Lambdas(delay=0.5), [("/slow", "GET", None, 100)])

    response = web.get("/slow")

    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}


def test_preflight_needs_a_token_when_the_api_says_so(identity: LocalIdentity) -> None:
    web = client(
        identity, Lambdas(), [("/x", "GET", "Cognito", 29000)], authorize_preflight=True
    )
    token = identity.issue("alice").id_token

    refused = web.options("/x")
    allowed = web.options("/x", headers={"Authorization": token})

    assert refused.status_code == 401
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://localhost:3001"
    assert allowed.headers["access-control-allow-methods"] == "GET,OPTIONS"


def test_a_bare_token_without_bearer_is_accepted(identity: LocalIdentity) -> None:
    lambdas = Lambdas()
    web = client(identity, lambdas, [("/x", "GET", "Cognito", 29000)])

    response = web.get("/x", headers={"Authorization": identity.issue("bob").id_token})

    assert response.status_code == 200
    claims = lambdas.events[0]["requestContext"]["authorizer"]["claims"]
    assert claims["cognito:username"] == "bob"


def test_an_authorizer_that_is_not_emulated_refuses(identity: LocalIdentity) -> None:
    web = client(identity, Lambdas(), [("/x", "GET", "Custom", 29000)])

    assert web.get("/x").status_code == 500


def test_the_token_endpoint(identity: LocalIdentity) -> None:
    web = client(identity, Lambdas(), [])

    issued = web.post("/local/token", json={"username": "alice", "groups": ["a"]})
    missing = web.post("/local/token", json={"email": "x@example.com"})
    preflight = web.options("/local/token", headers={"Origin": "http://localhost:3001"})

    assert issued.status_code == 200
    body = issued.json()
    assert body["tokenType"] == "Bearer"
    assert body["audience"] == "web"
    assert identity.verify(body["idToken"])["cognito:groups"] == ["a"]
    assert missing.status_code == 400
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "http://localhost:3001"


def test_response_headers_are_sent_as_the_function_set_them(
    identity: LocalIdentity,
) -> None:
    answer = {
        "statusCode": 202,
        "multiValueHeaders": {
            "Set-Cookie": ["a=1", "b=2"],
            "Content-Type": ["text/plain"],
        },
        "body": "accepted",
    }
    web = client(identity, Lambdas(answer), [("/x", "POST", None, 29000)])

    response = web.post("/x")

    assert response.status_code == 202
    assert response.text == "accepted"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers["content-type"] == "text/plain"
    assert response.headers["x-amzn-requestid"]


def test_path_and_path_parameters_arrive_percent_encoded(
    identity: LocalIdentity,
) -> None:
    # A REST API routes on the path as sent and passes `path`/`pathParameters` on
    # undecoded (live capture: `/capture/space%20value` -> `proxy:
    # "capture/space%20value"`); an encoded slash stays inside its segment.
    lambdas = Lambdas()
    web = client(
        identity,
        lambdas,
        [
            ("/items/{itemId}", "GET", None, 29000),
            ("/files/{proxy+}", "GET", None, 29000),
        ],
    )

    item = web.get("/items/v1%7C123%2F0%20x?q=a%20b+c")
    files = web.get("/files/a%20b/c%2Fd")

    assert (item.status_code, files.status_code) == (200, 200)
    event, greedy = lambdas.events
    assert event["path"] == "/items/v1%7C123%2F0%20x"
    assert event["pathParameters"] == {"itemId": "v1%7C123%2F0%20x"}
    assert event["requestContext"]["path"] == "/dev/items/v1%7C123%2F0%20x"
    assert event["queryStringParameters"] == {"q": "a b c"}
    assert greedy["pathParameters"] == {"proxy": "a%20b/c%2Fd"}


def test_a_response_without_status_code_is_502(identity: LocalIdentity) -> None:
    web = client(identity, Lambdas({"body": "hello"}), [("/x", "GET", None, 29000)])

    response = web.get("/x")

    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_a_502_names_the_lambda_error_in_the_log(identity: LocalIdentity) -> None:
    # A function that cannot run (CodeUri missing) answers 502 like AWS; the log
    # line says why instead of a bare "failed".
    class Broken(Lambdas):
        def invoke(self, spec: FunctionSpec, payload: str, **_: Any) -> Outcome:
            return Outcome.failure(
                "Runtime.InvalidEntrypoint", "CodeUri fn/ is missing"
            )

    output = io.StringIO()
    web = client(identity, Broken(), [("/x", "GET", None, 29000)], Console(output))

    assert web.get("/x").status_code == 502
    assert "Runtime.InvalidEntrypoint: CodeUri fn/ is missing" in output.getvalue()
