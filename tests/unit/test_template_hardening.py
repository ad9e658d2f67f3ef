"""template.yaml settings that keep secrets out of traces and eBay's quota safe."""

from __future__ import annotations

from typing import Any

import pytest

from local.template.functions import function_specs
from local.template.intrinsics import Resolver
from local.template.loader import load_template
from tests.support.handlers import ROOT

DELETION_PATH = "/ebay/notifications/account-deletion"
TRACER_OFF = {
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template(ROOT / "template.yaml")


def test_globals_turn_off_tracer_response_and_error_capture(
    template: dict[str, Any],
) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]

    assert {name: variables.get(name) for name in TRACER_OFF} == TRACER_OFF


def test_every_function_runs_with_tracer_capture_off(
    template: dict[str, Any],
) -> None:
    specs = function_specs(template, Resolver(template, {"Stage": "local"}), ROOT)

    assert specs
    for logical_id, spec in specs.items():
        environment = {name: spec.environment.get(name) for name in TRACER_OFF}
        assert environment == TRACER_OFF, logical_id


def method_settings(template: dict[str, Any]) -> list[dict[str, Any]]:
    settings: list[dict[str, Any]] = template["Resources"]["SniperApi"]["Properties"][
        "MethodSettings"
    ]
    return settings


def resource_path(setting: dict[str, Any]) -> str:
    """The path a method setting names: a slash, then the path with / as ~1."""
    encoded: str = setting["ResourcePath"]
    return encoded[1:].replace("~1", "/").replace("~0", "~")


def test_the_account_deletion_post_has_its_own_tight_throttling(
    template: dict[str, Any],
) -> None:
    resolver = Resolver(template, {"Stage": "local"})
    settings = method_settings(template)
    (own,) = [s for s in settings if resource_path(s) == DELETION_PATH]
    (every,) = [s for s in settings if s["ResourcePath"] == "/*"]
    events = [
        event.properties
        for spec in function_specs(template, resolver, ROOT).values()
        for event in spec.events.values()
        if event.type == "Api"
    ]

    assert own["HttpMethod"] == "POST"
    assert own["ResourcePath"] == "/~1ebay~1notifications~1account-deletion"
    assert (own["ThrottlingRateLimit"], own["ThrottlingBurstLimit"]) == (5, 10)
    assert every["HttpMethod"] == "*"
    assert float(resolver.resolve(every["ThrottlingRateLimit"])) > 5
    # The setting names a route that exists: the unauthenticated notice POST.
    (route,) = [
        e for e in events if e["Path"] == DELETION_PATH and e["Method"] == "POST"
    ]
    assert route["Auth"] == {"Authorizer": "NONE"}
