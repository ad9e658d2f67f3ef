"""Resolving intrinsics against local names and parameters."""

from __future__ import annotations

from typing import Any

import pytest

from local.template.intrinsics import Pseudo, Resolver, TemplateError
from local.template.loader import load_template
from tests.support.handlers import ROOT

TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Stage": {"Type": "String", "Default": "dev"},
        "Origins": {"Type": "String", "Default": "http://a.test,http://b.test"},
        "Zones": {"Type": "CommaDelimitedList", "Default": "x,y"},
        "Required": {"Type": "String"},
        "Existing": {"Type": "String", "Default": ""},
    },
    "Conditions": {
        "Create": {"Fn::Equals": [{"Ref": "Existing"}, ""]},
        "Prod": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "CreateInProd": {"Fn::And": [{"Condition": "Create"}, {"Condition": "Prod"}]},
        "NotProd": {"Fn::Not": [{"Condition": "Prod"}]},
    },
    "Mappings": {"Sizes": {"dev": {"Memory": 256}}},
    "Resources": {
        "Table": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {"TableName": {"Fn::Sub": "users-${Stage}"}},
        },
        "Fn": {
            "Type": "AWS::Serverless::Function",
            "Properties": {"FunctionName": {"Fn::Sub": "fn-${Stage}"}},
        },
        "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "Pool": {"Type": "AWS::Cognito::UserPool", "Condition": "Create"},
        "Api": {"Type": "AWS::Serverless::Api", "Properties": {}},
    },
}


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(TEMPLATE, {"Required": "given"})


def test_ref_to_parameters_pseudo_parameters_and_resources(resolver: Resolver) -> None:
    assert resolver.resolve({"Ref": "Stage"}) == "dev"
    assert resolver.resolve({"Ref": "Zones"}) == ["x", "y"]
    assert resolver.resolve({"Ref": "AWS::Region"}) == "us-east-1"
    assert resolver.resolve({"Ref": "Table"}) == "users-dev"
    assert resolver.resolve({"Ref": "Fn"}) == "fn-dev"
    assert resolver.resolve({"Ref": "Queue"}) == (
        "https://sqs.us-east-1.amazonaws.com/123456789012/Queue"
    )


def test_parameter_overrides_win_and_unknown_ones_are_refused() -> None:
    resolver = Resolver(TEMPLATE, {"Stage": "local", "Required": "x"})

    assert resolver.resolve({"Ref": "Table"}) == "users-local"
    with pytest.raises(TemplateError, match="Nope"):
        Resolver(TEMPLATE, {"Nope": "1"})


def test_a_required_parameter_without_value_is_an_error_on_use() -> None:
    resolver = Resolver(TEMPLATE)

    with pytest.raises(TemplateError, match="Required"):
        resolver.resolve({"Ref": "Required"})


def test_get_att_arns(resolver: Resolver) -> None:
    assert resolver.resolve({"Fn::GetAtt": ["Table", "Arn"]}) == (
        "arn:aws:dynamodb:us-east-1:123456789012:table/users-dev"
    )
    assert resolver.resolve({"Fn::GetAtt": ["Fn", "Arn"]}) == (
        "arn:aws:lambda:us-east-1:123456789012:function:fn-dev"
    )
    assert resolver.resolve({"Fn::GetAtt": ["FnRole", "Arn"]}) == (
        "arn:aws:iam::123456789012:role/local-FnRole"
    )


def test_sub_in_both_forms_with_attributes_and_escapes(resolver: Resolver) -> None:
    assert resolver.resolve({"Fn::Sub": "${AWS::AccountId}:${Table}:${Fn.Arn}"}) == (
        "123456789012:users-dev:arn:aws:lambda:us-east-1:123456789012:function:fn-dev"
    )
    assert resolver.resolve({"Fn::Sub": ["'${Origin}'", {"Origin": "x"}]}) == "'x'"
    assert resolver.resolve({"Fn::Sub": "${!Literal}"}) == "${Literal}"


def test_select_split_join_and_find_in_map(resolver: Resolver) -> None:
    first_origin = {"Fn::Select": [0, {"Fn::Split": [",", {"Ref": "Origins"}]}]}

    assert resolver.resolve(first_origin) == "http://a.test"
    assert resolver.resolve({"Fn::Select": ["1", {"Ref": "Zones"}]}) == "y"
    assert resolver.resolve({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}) == "a-dev"
    assert (
        resolver.resolve({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Memory"]})
        == 256
    )
    with pytest.raises(TemplateError, match="out of range"):
        resolver.resolve({"Fn::Select": [5, ["a"]]})


def test_conditions_and_if_with_no_value(resolver: Resolver) -> None:
    assert resolver.condition("Create") is True
    assert resolver.condition("CreateInProd") is False
    assert resolver.condition("NotProd") is True
    resolved = resolver.resolve(
        {
            "Keep": {"Fn::If": ["Create", "yes", "no"]},
            "Drop": {"Fn::If": ["Prod", "x", {"Ref": "AWS::NoValue"}]},
            "List": ["a", {"Fn::If": ["Prod", "b", {"Ref": "AWS::NoValue"}]}],
        }
    )
    assert resolved == {"Keep": "yes", "List": ["a"]}
    assert resolver.is_active("Pool") is True
    assert Resolver(TEMPLATE, {"Existing": "arn:pool"}).is_active("Pool") is False


def test_physical_ids_take_precedence_over_derived_names() -> None:
    class Created:
        def ref(self, logical_id: str) -> Any:
            return "https://local/queue" if logical_id == "Queue" else None

        def get_att(self, logical_id: str, attribute: str) -> Any:
            return "arn:created" if logical_id == "Queue" else None

    resolver = Resolver(TEMPLATE, {"Required": "x"}, physical=Created())

    assert resolver.resolve({"Ref": "Queue"}) == "https://local/queue"
    assert resolver.resolve({"Fn::GetAtt": ["Queue", "Arn"]}) == "arn:created"
    assert resolver.resolve({"Ref": "Table"}) == "users-dev"


def test_unknown_references_and_intrinsics_are_clear_errors(resolver: Resolver) -> None:
    with pytest.raises(TemplateError, match="Missing"):
        resolver.resolve({"Ref": "Missing"})
    with pytest.raises(TemplateError, match="ImportValue"):
        resolver.resolve({"Fn::ImportValue": "x"})


def test_pseudo_parameters_follow_the_stack() -> None:
    resolver = Resolver(
        TEMPLATE, {"Required": "x"}, pseudo=Pseudo(region="eu-west-1", account_id="1")
    )

    assert resolver.resolve({"Fn::GetAtt": ["Table", "Arn"]}) == (
        "arn:aws:dynamodb:eu-west-1:1:table/users-dev"
    )


def test_the_real_template_resolves_its_cors_settings() -> None:
    template = load_template(ROOT / "template.yaml")
    resolver = Resolver(
        template, {"CorsOrigins": "http://localhost:3001,https://x.test"}
    )
    cors = template["Resources"]["SniperApi"]["Properties"]["Cors"]

    assert resolver.resolve(cors["AllowOrigin"]) == "'http://localhost:3001'"
