"""Loading handlers and sample events the way Lambda and `sam local invoke` do."""

from __future__ import annotations

import base64
import copy
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
# Two callers, as Cognito `sub` claims; ALICE is the sample events' own caller.
ALICE = "9f0c1a2b-3d4e-4f50-8a6b-7c8d9e0f1a2b"
BOB = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
EVENTS = ROOT / "events"


def load_function(name: str) -> ModuleType:
    """Import `functions/<name>/app.py` under a unique module name.

    Every function's module is called `app` in Lambda; importing them side by side
    in one test process needs distinct names.
    """
    module_name = f"function_{name}_app"
    path = ROOT / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def sample_event(relative: str) -> dict[str, Any]:
    """A committed sample event, as `sam local invoke -e` would send it."""
    event: dict[str, Any] = json.loads((EVENTS / relative).read_text())
    return copy.deepcopy(event)


def with_body(event: dict[str, Any], body: Any) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    event["body"] = base64.b64encode(raw).decode()
    event["isBase64Encoded"] = True
    return event


def as_user(
    event: dict[str, Any],
    sub: str,
    email: str | None = None,
    *,
    email_verified: bool = True,
) -> dict[str, Any]:
    """The event as `sub` sends it; Cognito's user name is the sub (email alias)."""
    claims = dict(event["requestContext"].get("authorizer", {}).get("claims", {}))
    claims["sub"] = sub
    claims["cognito:username"] = sub
    if email is None:
        claims.pop("email", None)
        claims.pop("email_verified", None)
    else:
        claims["email"] = email
        claims["email_verified"] = "true" if email_verified else "false"
    event["requestContext"]["authorizer"] = {"claims": claims}
    return event


def without_claims(event: dict[str, Any]) -> dict[str, Any]:
    event["requestContext"].pop("authorizer", None)
    return event


def with_origin(event: dict[str, Any], origin: str) -> dict[str, Any]:
    event["headers"]["Origin"] = origin
    event["multiValueHeaders"]["Origin"] = [origin]
    return event


def body_of(response: dict[str, Any]) -> Any:
    return json.loads(response["body"]) if response.get("body") else None


class StubContext(LambdaContext):
    """The attributes Powertools' Logger reads from a Lambda context."""

    _function_name = "test-function"
    _memory_limit_in_mb = 512
    _invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    _aws_request_id = "00000000-0000-0000-0000-000000000000"


class Invoker:
    """Calls one function's handler as Lambda would, with a fresh module."""

    def __init__(self, function: str) -> None:
        self.module = load_function(function)

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        response: dict[str, Any] = self.module.handler(event, StubContext())
        return response
