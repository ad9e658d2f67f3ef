"""Every handler imports with no environment at all, and documents its routes.

Generating the API document imports each handler; so does a cold start before the
first request. Neither may need AWS, a table name or a secret at import time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from local.template.loader import load_template, resources_of_type
from tests.packaging.lambda_runtime import lambda_environment
from tests.support.handlers import ROOT

TEMPLATE = load_template(ROOT / "template.yaml")
FUNCTIONS = {
    logical_id: resource["Properties"]
    for logical_id, resource in resources_of_type(
        TEMPLATE, "AWS::Serverless::Function"
    ).items()
}


def declared_routes(properties: dict[str, object]) -> set[tuple[str, str]]:
    events = properties.get("Events") or {}
    assert isinstance(events, dict)
    return {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"])
        for event in events.values()
        if event["Type"] == "Api"
    }


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_handler_imports_bare_and_its_document_has_the_template_routes(
    logical_id: str,
) -> None:
    properties = FUNCTIONS[logical_id]
    code_dir = ROOT / str(properties["CodeUri"])
    script = (
        "import json, app\n"
        "schema = app.app.get_openapi_schema()\n"
        "print(json.dumps([[m.upper(), p] for p, ops in schema.paths.items()"
        " for m in ops.model_dump(exclude_none=True)]))\n"
    )
    if not declared_routes(properties):
        # Invoked, not routed (async events): no resolver, no document.
        script = "import app\nassert callable(app.handler)\nprint('[]')\n"

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
    )

    assert result.returncode == 0, result.stderr
    documented = {
        (method, path) for method, path in json.loads(result.stdout.splitlines()[-1])
    }
    assert declared_routes(properties) <= documented


# What each function's cold start must not load: a library or module it never
# calls, or calls only on some routes. Powertools' Tracer() would patch (so import)
# every library X-Ray knows. The composition modules' builders import the services,
# repositories, eBay client and snipe modules they build, so these load with the
# first call that needs them, never at init. httpx and requests load with the
# first call to eBay or Postmark (sniper.ebay.http, sniper.observability.tracer_for).
NEVER_LOADED = ("sqlite3", "pymongo", "sqlalchemy", "httpx", "requests")
BUILT_ON_FIRST_CALL = ("sniper.services", "sniper.repositories", "sniper.snipe")
NOT_LOADED_BY = {
    "UserManagementFunction": (
        "cryptography",
        "sniper.ebay",
        "sniper.composition",
        "sniper.notify",
    ),
    "BidHistoryFunction": (
        "sniper.ebay",
        "sniper.composition",
        "sniper.notify",
        "sniper.models.bids",
    ),
    "EbayOAuthFunction": ("cryptography", "sniper.ebay"),
    "WishlistSyncFunction": ("sniper.ebay",),
    "BidManagementFunction": ("sniper.ebay", "sniper.models.history"),
    "BidExecutorFunction": (
        "sniper.ebay",
        "sniper.notify",
        "aws_lambda_powertools.utilities.idempotency",
    ),
    "TokenRefreshFunction": ("sniper.ebay", "pydantic"),
    "NotificationHandlerFunction": (
        "sniper.ebay",
        "sniper.email",
        "aws_lambda_powertools.utilities.idempotency",
    ),
}


def cold_start(logical_id: str, script: str) -> str:
    """`script`'s last line of output, run where the handler's code lives with
    Lambda's environment (so the Tracer patches as in Lambda)."""
    code_dir = ROOT / str(FUNCTIONS[logical_id]["CodeUri"])
    environment = lambda_environment(logical_id, [code_dir, ROOT / "shared"], code_dir)
    environment["PATH"] = os.environ.get("PATH", "")
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=code_dir,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_a_cold_start_loads_only_what_the_function_calls(logical_id: str) -> None:
    unwanted = (*NEVER_LOADED, *BUILT_ON_FIRST_CALL, *NOT_LOADED_BY[logical_id])
    script = (
        "import sys, app\n"
        f"unwanted = {unwanted!r}\n"
        "print(sorted(m for m in sys.modules"
        " if any(m == u or m.startswith(u + '.') for u in unwanted)))\n"
    )

    assert cold_start(logical_id, script) == "[]"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_a_cold_start_ends_with_garbage_collection_on(logical_id: str) -> None:
    """`sniper.init_phase` turns collection off while the function loads; a
    handler that forgot `init_phase.finished()` would never collect again, and a
    warm container would grow until Lambda killed it."""
    script = (
        "import gc\nimport app\nprint(gc.isenabled(), gc.get_freeze_count() > 10_000)\n"
    )

    assert cold_start(logical_id, script) == "True True"


HTTPX_TRACED = (
    "from sniper.ebay.http import shared_http_client\n"
    "print(type(shared_http_client()._transport).__name__)\n"
)
REQUESTS_TRACED = (  # X-Ray wraps Session.request with wrapt
    "import requests\nprint(type(requests.Session.request).__name__)\n"
)
TRACED_ON_FIRST_USE = {
    "EbayOAuthFunction": (HTTPX_TRACED, "SyncInstrumentedTransport"),
    "WishlistSyncFunction": (HTTPX_TRACED, "SyncInstrumentedTransport"),
    "BidManagementFunction": (HTTPX_TRACED, "SyncInstrumentedTransport"),
    "BidExecutorFunction": (HTTPX_TRACED, "SyncInstrumentedTransport"),
    "TokenRefreshFunction": (HTTPX_TRACED, "SyncInstrumentedTransport"),
    "NotificationHandlerFunction": (REQUESTS_TRACED, "BoundFunctionWrapper"),
}


@pytest.mark.parametrize("logical_id", sorted(TRACED_ON_FIRST_USE))
def test_a_library_loaded_after_init_is_traced_from_its_first_call(
    logical_id: str,
) -> None:
    """httpx and requests are patched for X-Ray when first imported, not at init:
    the first eBay or Postmark call of a container must be traced all the same."""
    probe, traced = TRACED_ON_FIRST_USE[logical_id]

    assert cold_start(logical_id, "import app\n" + probe) == traced
