"""Functions and API routes as the local stack reads them from a template."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from local.template.apis import api_routes, rest_apis, unquote
from local.template.functions import function_specs, merge_globals
from local.template.intrinsics import Resolver, TemplateError
from local.template.loader import load_template
from local.template.tables import create_tables, table_definitions
from tests.support.handlers import ROOT


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def test_globals_merge_maps_add_lists_and_override_scalars() -> None:
    merged = merge_globals(
        {"Variables": {"A": "1", "B": "2"}, "Layers": ["g"], "Timeout": 3},
        {"Variables": {"B": "x"}, "Layers": ["own"], "Timeout": 9},
    )

    assert merged == {
        "Variables": {"A": "1", "B": "x"},
        "Layers": ["g", "own"],
        "Timeout": 9,
    }
    assert merge_globals({"Ref": "A"}, {"Ref": "B"}) == {"Ref": "B"}


def test_functions_get_globals_their_environment_and_layers(
    template: dict[str, Any],
) -> None:
    resolver = Resolver(template, {"Stage": "local"})

    specs = function_specs(template, resolver, ROOT)

    spec = specs["UserManagementFunction"]
    assert spec.name == "ebay-sniper-user-management-local"
    assert spec.arn.endswith(":function:ebay-sniper-user-management-local")
    assert spec.handler == "app.handler"
    assert spec.runtime == "python3.11"
    assert (spec.memory_mb, spec.timeout_s) == (512, 30)
    assert spec.code_dir == ROOT / "functions" / "user_management"
    assert spec.layer_dirs == (ROOT / "shared", ROOT / "layers" / "dependencies")
    assert spec.environment["USERS_TABLE"] == "ebay-sniper-users-local"
    assert spec.environment["STAGE"] == "local"
    assert spec.environment["POWERTOOLS_SERVICE_NAME"] == "user_management"
    assert spec.environment["POWERTOOLS_METRICS_NAMESPACE"] == "EbaySniper-local"
    assert spec.runnable


def test_functions_that_cannot_run_locally_say_why(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "Node": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Runtime": "nodejs20.x",
                    "CodeUri": "missing/",
                    "Handler": "x",
                },
            }
        }
    }

    spec = function_specs(template, Resolver(template), tmp_path)["Node"]

    assert not spec.runnable
    assert any("nodejs20.x" in problem for problem in spec.problems)
    assert any("missing/" in problem for problem in spec.problems)


def test_routes_come_from_api_events_with_their_authorizer(
    template: dict[str, Any],
) -> None:
    routes = api_routes(template, Resolver(template, {"Stage": "local"}))

    by_key = {(route.method, route.path): route for route in routes}
    assert by_key[("GET", "/health")].authorizer is None
    profile = by_key[("GET", "/users/profile")]
    assert profile.authorizer == "CognitoAuthorizer"
    assert profile.function == "UserManagementFunction"
    assert profile.api.stage == "local"


def test_the_api_settings_are_unquoted(template: dict[str, Any]) -> None:
    (api,) = rest_apis(template, Resolver(template)).values()

    assert api.cors is not None
    assert api.cors.allow_origin == "http://localhost:3000"
    assert api.cors.allow_methods == "GET,POST,PUT,DELETE,OPTIONS"
    assert api.cors.max_age == "600"
    assert api.authorize_preflight is False
    assert api.authorizers["CognitoAuthorizer"].kind == "cognito"
    assert api.gateway_responses["DEFAULT_4XX"].headers == {
        "Access-Control-Allow-Origin": "http://localhost:3000"
    }
    assert unquote("'a'") == "a"
    assert unquote("plain") == "plain"


def test_events_without_rest_api_id_use_the_implicit_api() -> None:
    template = {
        "Globals": {"Api": {"Cors": "'*'", "BinaryMediaTypes": ["image~1png"]}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Events": {
                        "E": {
                            "Type": "Api",
                            "Properties": {"Path": "/x", "Method": "any"},
                        }
                    }
                },
            }
        },
    }

    (route,) = api_routes(template, Resolver(template))

    assert route.method == "ANY"
    assert route.api.logical_id == "ServerlessRestApi"
    assert route.api.stage == "Prod"
    assert route.api.cors is not None and route.api.cors.allow_origin == "*"
    assert route.api.binary_media_types == ("image/png",)
    assert route.authorizer is None


def test_an_event_naming_an_undeclared_authorizer_is_an_error(
    template: dict[str, Any],
) -> None:
    broken = copy.deepcopy(template)
    events = broken["Resources"]["UserManagementFunction"]["Properties"]["Events"]
    events["Health"]["Properties"]["Auth"] = {"Authorizer": "Nope"}

    with pytest.raises(TemplateError, match="Nope"):
        api_routes(broken, Resolver(broken))


def test_an_api_event_without_path_or_method_is_an_error(
    template: dict[str, Any],
) -> None:
    broken = copy.deepcopy(template)
    events = broken["Resources"]["UserManagementFunction"]["Properties"]["Events"]
    del events["Health"]["Properties"]["Path"]

    with pytest.raises(TemplateError, match=r"UserManagementFunction\.Health.*Path"):
        api_routes(broken, Resolver(broken))


def test_a_template_that_is_not_yaml_says_where(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text("Resources:\n  Fn: [\n")

    with pytest.raises(ValueError, match=r"(?s)not valid YAML.*line 3"):
        load_template(path)


def test_tables_resolve_through_the_resolver_or_the_stage(
    template: dict[str, Any],
) -> None:
    with_stage = table_definitions(template, "test")
    with_resolver = table_definitions(
        template, "", Resolver(template, {"Stage": "local"})
    )

    assert with_stage["UsersTable"]["TableName"] == "ebay-sniper-users-test"
    assert with_resolver["UsersTable"]["TableName"] == "ebay-sniper-users-local"
    assert (
        with_resolver["UsersTable"]["KeySchema"]
        == with_stage["UsersTable"]["KeySchema"]
    )


def test_create_tables_is_idempotent(template: dict[str, Any]) -> None:
    from moto import mock_aws

    with mock_aws():
        import boto3

        client = boto3.client("dynamodb")
        first = create_tables(client, template, "x")
        second = create_tables(client, template, "x")

    assert first == second
    assert {"UsersTable", "BidsTable", "BidHistoryTable"} <= set(first)
