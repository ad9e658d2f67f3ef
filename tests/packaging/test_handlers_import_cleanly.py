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
