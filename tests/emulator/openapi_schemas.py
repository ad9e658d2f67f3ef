"""Validate emulator responses against eBay's own OpenAPI documents.

The copies in `openapi/` are eBay's published documents. Their objects allow any
extra field, so a misspelt field would pass; here every object that lists its
properties is closed (`additionalProperties: false`), so the emulator may only send
fields eBay defines, with eBay's types.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

try:  # libyaml parses browse.yaml in a tenth of the pure-Python time
    from yaml import CSafeLoader as SafeLoader
except ImportError:  # pragma: no cover - wheels without libyaml
    from yaml import SafeLoader  # type: ignore[assignment]

OPENAPI_DIR = Path(__file__).parent / "openapi"


def _closed(node: Any) -> Any:
    if isinstance(node, dict):
        closed = {key: _closed(value) for key, value in node.items()}
        if closed.get("type") == "object" and "properties" in closed:
            closed.setdefault("additionalProperties", False)
        return closed
    if isinstance(node, list):
        return [_closed(item) for item in node]
    return node


@cache
def _registry() -> Registry[Any]:
    registry: Registry[Any] = Registry()
    for path in sorted(OPENAPI_DIR.glob("*.yaml")):
        document = yaml.load(path.read_text(), Loader=SafeLoader)
        contents = {"components": _closed(copy.deepcopy(document["components"]))}
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        registry = registry.with_resource(f"urn:ebay:{path.stem}", resource)
    return registry


def schema_ref(document: str, schema: str) -> dict[str, str]:
    return {"$ref": f"urn:ebay:{document}#/components/schemas/{schema}"}


def validate(instance: Any, document: str, schema: str) -> None:
    """Raise `jsonschema.ValidationError` unless `instance` is a valid `schema`."""
    validator = Draft202012Validator(schema_ref(document, schema), registry=_registry())
    validator.validate(instance)


def validate_errors(instance: Any, document: str) -> None:
    """An eBay REST error body: `{"errors": [Error, ...]}` with the document's Error."""
    wrapper = {
        "type": "object",
        "properties": {
            "errors": {
                "type": "array",
                "minItems": 1,
                "items": schema_ref(document, "Error"),
            }
        },
        "required": ["errors"],
        "additionalProperties": False,
    }
    Draft202012Validator(wrapper, registry=_registry()).validate(instance)
