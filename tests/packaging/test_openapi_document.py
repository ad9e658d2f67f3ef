"""docs/openapi.json is the contract the frontend reads: current, complete, true.

Current: regenerated from the handlers it equals the committed file (and the
README's table). Complete: every template route has one operation, each with a
summary, tags, an operationId, its security and every status it answers. True:
what the handlers really send on an error validates against the schema the
document gives for that operation and status.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from sniper import composition_bids
from tests.conftest import MockedAws
from tests.packaging.test_handlers_import_cleanly import FUNCTIONS, declared_routes
from tests.support.bids import cursor_secret
from tests.support.handlers import (
    ALICE,
    ROOT,
    Invoker,
    as_user,
    body_of,
    sample_event,
    with_body,
    without_claims,
)
from tools import openapi

COGNITO = "CognitoIdToken"
JSON = "application/json"
ERROR_BODY = "#/components/schemas/ErrorBody"


@pytest.fixture(scope="module")
def outputs() -> openapi.Outputs:
    return openapi.generate()


@pytest.fixture(scope="module")
def document(outputs: openapi.Outputs) -> dict[str, Any]:
    generated: dict[str, Any] = json.loads(outputs.document)
    return generated


def template_routes() -> dict[tuple[str, str], bool]:
    """Every `Api` event of template.yaml, and whether Cognito guards it."""
    routes = {}
    for properties in FUNCTIONS.values():
        for event in (properties.get("Events") or {}).values():
            if event["Type"] != "Api":
                continue
            auth = event["Properties"].get("Auth") or {}
            route = (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
            routes[route] = auth.get("Authorizer") != "NONE"
    assert {route for p in FUNCTIONS.values() for route in declared_routes(p)} == set(
        routes
    )
    return routes


ROUTES = template_routes()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method.upper(), path, operation


def operation_of(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    found: dict[str, Any] = document["paths"][path][method.lower()]
    return found


# ------------------------------------------------------------------ current


def test_the_committed_document_is_what_the_code_declares(
    outputs: openapi.Outputs,
) -> None:
    committed = openapi.DOCUMENT.read_text(encoding="utf-8")
    if committed != outputs.document:
        pytest.fail(openapi.STALE)


def test_the_readme_table_is_what_the_document_says(outputs: openapi.Outputs) -> None:
    if openapi.README.read_text(encoding="utf-8") != outputs.readme:
        pytest.fail(openapi.README_STALE)


def test_the_readme_table_has_a_row_per_route_with_its_statuses(
    document: dict[str, Any], outputs: openapi.Outputs
) -> None:
    table = outputs.readme.split(openapi.TABLE_BEGIN)[1].split(openapi.TABLE_END)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ")][1:]
    assert len(rows) == len(ROUTES)
    create = next(row for row in rows if row.startswith("| POST | `/bids` |"))
    assert "| Cognito | 201, 400, 401," in create
    health = next(row for row in rows if row.startswith("| GET | `/health` |"))
    assert "| none | 200, 429, 500, 502, 504 |" in health


def test_the_gateways_own_answers_are_documented_where_they_can_occur(
    document: dict[str, Any],
) -> None:
    """API Gateway answers 502, 504 and 429 on any route and 413 on a body route,
    in the API's error body (template.yaml GatewayResponses)."""
    for method, path, operation in operations(document):
        statuses = set(operation["responses"])
        assert {"429", "502", "504"} <= statuses, (method, path)
        if "requestBody" in operation:
            assert "413" in statuses, (method, path)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    validate_spec(document)


# ------------------------------------------------------------------ complete


def test_each_template_route_has_exactly_one_operation_and_no_other(
    document: dict[str, Any],
) -> None:
    documented = [(method, path) for method, path, _ in operations(document)]

    assert sorted(documented) == sorted(ROUTES)


def test_each_operation_says_what_it_does_and_has_a_unique_id(
    document: dict[str, Any],
) -> None:
    known_tags = {tag["name"] for tag in document["tags"]}
    ids = []
    for method, path, operation in operations(document):
        where = f"{method} {path}"
        # Powertools' fallback summary is the route itself.
        assert operation.get("summary") not in (None, "", where), where
        assert operation.get("description"), where
        assert operation.get("tags") and set(operation["tags"]) <= known_tags, where
        assert operation["operationId"].isidentifier(), where
        ids.append(operation["operationId"])
    assert len(ids) == len(set(ids))


def test_signed_in_routes_require_the_cognito_token_and_open_ones_nothing(
    document: dict[str, Any],
) -> None:
    scheme = document["components"]["securitySchemes"][COGNITO]
    assert scheme["type"] == "apiKey"
    assert (scheme["in"], scheme["name"]) == ("header", "Authorization")
    assert scheme["x-amazon-apigateway-authtype"] == "cognito_user_pools"
    assert "security" not in document  # no global default to override

    for (method, path), signed_in in ROUTES.items():
        security = operation_of(document, method, path).get("security")
        assert security == ([{COGNITO: []}] if signed_in else None), (method, path)


def test_no_operation_documents_powertools_422(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        assert "422" not in operation["responses"], (method, path)
    schemas = document["components"]["schemas"]
    for powertools_own in (
        "HTTPValidationError",
        "ValidationError",
        "ResponseValidationError",
    ):
        assert powertools_own not in schemas


def test_every_error_status_has_the_one_error_body(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            schema = response["content"][JSON]["schema"]
            assert schema == {"$ref": ERROR_BODY}, (method, path, status)
            assert response["description"], (method, path, status)
            if status == "503":
                assert "Retry-After" in response["headers"], (method, path)


def test_each_route_declares_the_statuses_anyone_may_get(
    document: dict[str, Any],
) -> None:
    for (method, path), signed_in in ROUTES.items():
        operation = operation_of(document, method, path)
        statuses = set(operation["responses"])
        assert {"429", "500"} <= statuses, (method, path)
        if signed_in:
            assert "401" in statuses, (method, path)
        if operation.get("parameters") or operation.get("requestBody"):
            assert "400" in statuses, (method, path)
        if operation.get("requestBody"):
            assert operation["requestBody"]["content"].keys() == {JSON}
            assert "415" in statuses, (method, path)


def test_a_204_is_documented_without_content_and_alone(
    document: dict[str, Any],
) -> None:
    no_content = [
        (method, path)
        for method, path, operation in operations(document)
        if "204" in operation["responses"]
    ]
    assert sorted(no_content) == [
        ("DELETE", "/bids/{bidId}"),
        ("DELETE", "/ebay/auth/unlink"),
        ("DELETE", "/users/account"),
        ("POST", "/ebay/notifications/account-deletion"),
    ]
    for method, path in no_content:
        responses = operation_of(document, method, path)["responses"]
        assert "content" not in responses["204"]
        assert not {"200", "201"} & set(responses)


def test_creating_a_bid_is_201_with_the_bid_and_its_location(
    document: dict[str, Any],
) -> None:
    responses = operation_of(document, "POST", "/bids")["responses"]

    assert "200" not in responses
    created = responses["201"]
    assert created["content"][JSON]["schema"] == {
        "$ref": "#/components/schemas/BidResponse"
    }
    assert "Location" in created["headers"]


def test_serving_requests_never_imports_powertools_openapi_models() -> None:
    """Declaring the contract costs no cold start: the models load for a document."""
    code_dir = ROOT / "functions" / "bid_management"
    script = (
        "import sys, app\n"
        "print('aws_lambda_powertools.event_handler.openapi.models' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=code_dir,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": os.pathsep.join([str(code_dir), str(ROOT / "shared")]),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.split() == ["False"]


# ------------------------------------------------------------------ true


def strict(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of `schema` that also refuses a property the document lacks."""
    components = copy.deepcopy(document["components"])
    for component in components["schemas"].values():
        if component.get("type") == "object":
            component["additionalProperties"] = False
    return Draft202012Validator({**schema, "components": components})


def create_without_amount() -> dict[str, Any]:
    event = as_user(sample_event("bid_management/create_post.json"), ALICE)
    return with_body(event, {"ebayItemId": "110000000001"})


def timeline_of(bid_id: str) -> dict[str, Any]:
    event = as_user(sample_event("bid_history/timeline_get.json"), ALICE)
    event["pathParameters"] = {"bidId": bid_id}
    event["path"] = f"/bid-history/{bid_id}"
    return event


def preferences_as_text() -> dict[str, Any]:
    event = as_user(sample_event("user_management/preferences_put.json"), ALICE)
    event["body"], event["isBase64Encoded"] = '{"timezone": "Europe/Berlin"}', False
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("Content-Type", None)
    event["headers"]["Content-Type"] = "text/plain"
    event["multiValueHeaders"]["Content-Type"] = ["text/plain"]
    return event


def profile_without_identity() -> dict[str, Any]:
    return without_claims(sample_event("user_management/profile_get.json"))


ANSWERS: list[tuple[str, Callable[[], dict[str, Any]], int, str]] = [
    ("bid_management", create_without_amount, 400, "VALIDATION_ERROR"),
    ("bid_history", lambda: timeline_of("not a bid id!"), 400, "VALIDATION_ERROR"),
    (
        "bid_history",
        lambda: timeline_of("3f2b8c1e-5d4a-4b6c-9e7f-0a1b2c3d4e5f"),
        404,
        "NOT_FOUND",
    ),
    ("user_management", preferences_as_text, 415, "UNSUPPORTED_MEDIA_TYPE"),
    ("user_management", profile_without_identity, 401, "UNAUTHORIZED"),
]


@pytest.mark.parametrize(
    ("function", "event_of", "status", "code"),
    ANSWERS,
    ids=[f"{status}-{code}" for _, _, status, code in ANSWERS],
)
def test_an_error_the_api_sends_is_the_body_its_operation_documents(
    document: dict[str, Any],
    mocked_aws: MockedAws,
    monkeypatch: pytest.MonkeyPatch,
    function: str,
    event_of: Callable[[], dict[str, Any]],
    status: int,
    code: str,
) -> None:
    cursor_secret(monkeypatch)
    composition_bids.reset()
    event = event_of()

    response = Invoker(function)(event)

    assert response["statusCode"] == status
    body = body_of(response)
    assert body["code"] == code
    if code == "VALIDATION_ERROR":
        assert body["errors"], "a validation error names the invalid fields"
    documented = operation_of(document, event["httpMethod"], event["resource"])
    answer = documented["responses"][str(status)]
    assert response["multiValueHeaders"]["Content-Type"] == [JSON]
    errors = sorted(
        strict(document, answer["content"][JSON]["schema"]).iter_errors(body),
        key=str,
    )
    assert [error.message for error in errors] == []
    composition_bids.reset()


def test_the_strict_check_refuses_a_body_the_document_does_not_describe(
    document: dict[str, Any],
) -> None:
    """The check above can fail: a Powertools 422 body is not an ErrorBody."""
    validator = strict(document, {"$ref": ERROR_BODY})
    powertools_422 = {"statusCode": 422, "detail": [{"loc": ["body"], "type": "x"}]}

    assert not validator.is_valid(powertools_422)
    assert not validator.is_valid(
        {
            "statusCode": 400,
            "code": "VALIDATION_ERROR",
            "message": "Invalid",
            "errors": [{"field": "email"}],
        }
    )
