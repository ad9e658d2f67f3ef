"""Write the API's one OpenAPI document, docs/openapi.json, and the README's table.

`python -m tools.openapi` (`make openapi`) imports each API function's handler, asks
its resolver for its document and merges them with Powertools' `OpenAPIMerge`, so
the document is the code's own contract: the frontend reads it, never Python.
`--check` writes nothing and fails when either file is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = ROOT / "docs" / "openapi.json"
README = ROOT / "README.md"
TEMPLATE = ROOT / "template.yaml"
TABLE_BEGIN = "<!-- api-table:begin -->"
TABLE_END = "<!-- api-table:end -->"
STALE = "docs/openapi.json is stale: run make openapi"
README_STALE = "the README's API table is stale: run make openapi"

TITLE = "eBay Sniper API"
DESCRIPTION = """\
The backend of an eBay auction sniper: the caller's profile, the link to their eBay \
account, their eBay watch list, their snipes (bids placed seconds before an auction \
ends) and the history of those bids.

- **Sign-in**: every operation except `/health` and eBay's notification endpoint \
needs `Authorization: Bearer <Cognito ID token>`, checked by API Gateway.
- **Errors**: every error, whatever the route or status, has one body, `ErrorBody` \
(`statusCode`, `code`, `message`, `errors[]` naming each invalid field). Invalid \
input is 400 `VALIDATION_ERROR`, never 422.
- **Units**: amounts are integer cents of the item's currency; times are Unix seconds.
- **Lists** are pages: `limit` items and an opaque `nextCursor` (null on the last page).
"""
TAG_DESCRIPTIONS = {
    "health": "Whether the API is up; no sign-in.",
    "users": "The caller's profile, preferences and account.",
    "ebay-account": "Linking the caller's eBay account through eBay's OAuth consent.",
    "ebay-notifications": "Endpoints eBay itself calls (no Cognito token).",
    "wishlist": "The caller's eBay watch list and live item details.",
    "bids": "The caller's snipes: create, list, read, edit, cancel.",
    "bid-history": "What happened to the caller's bids, newest first.",
}
LOCAL_SERVER = "http://127.0.0.1:3000"
STAGE_SERVER = "https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}"


class DocumentError(RuntimeError):
    """The document cannot be written as the code stands; the message says why."""


@dataclass(frozen=True)
class Route:
    """One `Api` event of template.yaml: what API Gateway routes to a function."""

    method: str
    path: str
    code_dir: Path
    signed_in: bool


def template_routes() -> list[Route]:
    """Every API route of template.yaml, in template order."""
    from local.template.apis import api_routes
    from local.template.functions import merged_properties
    from local.template.intrinsics import Resolver
    from local.template.loader import load_template

    template = load_template(TEMPLATE)
    return [
        Route(
            method=route.method.upper(),
            path=route.path,
            code_dir=ROOT
            / str(merged_properties(template, route.function)["CodeUri"]).strip("/"),
            signed_in=route.authorizer is not None,
        )
        for route in api_routes(template, Resolver(template))
    ]


def api_version() -> str:
    with (ROOT / "pyproject.toml").open("rb") as stream:
        return str(tomllib.load(stream)["project"]["version"])


@contextmanager
def importable_handlers() -> Iterator[None]:
    """The layer's package importable, as /opt/python is in Lambda.

    OpenAPIMerge imports each `app.py` with its folder on sys.path and would take a
    module already imported as `app` for it: none may be, while it works.
    """
    shared = str(ROOT / "shared")
    added = shared not in sys.path
    if added:
        sys.path.insert(0, shared)
    stray = sys.modules.pop("app", None)
    try:
        yield
    finally:
        if stray is not None:
            sys.modules["app"] = stray
        if added:
            sys.path.remove(shared)


def build_document(routes: list[Route]) -> dict[str, Any]:
    """The merged document of the functions serving `routes`, as JSON data."""
    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge
    from aws_lambda_powertools.event_handler.openapi.models import (
        Server,
        ServerVariable,
        Tag,
    )

    with importable_handlers():
        from sniper.openapi import security_schemes

        merge = OpenAPIMerge(
            title=TITLE,
            version=api_version(),
            description=DESCRIPTION,
            servers=[
                Server(url=LOCAL_SERVER, description="The local stack (`make dev`)"),
                Server(
                    url=STAGE_SERVER,
                    description="A deployed stage (`sam deploy`)",
                    variables={
                        "restApiId": ServerVariable(
                            default="restApiId",
                            description="The stack's API id (output `ApiUrl`)",
                        ),
                        "region": ServerVariable(default="us-east-1"),
                        "stage": ServerVariable(
                            default="dev", enum=["dev", "prod"], description="Stage"
                        ),
                    },
                ),
            ],
            tags=[
                Tag(name=name, description=text)
                for name, text in TAG_DESCRIPTIONS.items()
            ],
            security_schemes=security_schemes(),
            on_conflict="error",
        )
        for code_dir in dict.fromkeys(route.code_dir for route in routes):
            merge.add_file(code_dir / "app.py", resolver_name="app")
        # OpenAPIMerge only warns when a handler fails to import: that is an error.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    failures = [
        str(w.message).split(". If your handler")[0]
        for w in caught
        if "Failed to load" in str(w.message)
    ]
    if failures:
        raise DocumentError("\n".join(failures))

    missing = [
        f"{route.method} {route.path}"
        for route in routes
        if route.method.lower() not in document.get("paths", {}).get(route.path, {})
    ]
    if missing:
        raise DocumentError(f"the document lacks template routes: {', '.join(missing)}")
    return document


def render_document(document: dict[str, Any]) -> str:
    """Deterministic JSON: a regenerated document differs only where the API did."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_table(document: dict[str, Any], routes: list[Route]) -> str:
    """The README's route table: one row per operation, in template order."""
    rows = [
        "| method | path | summary | auth | statuses |",
        "|---|---|---|---|---|",
    ]
    for route in routes:
        operation = document["paths"][route.path][route.method.lower()]
        statuses = ", ".join(sorted(operation["responses"], key=int))
        auth = "Cognito" if operation.get("security") else "none"
        summary = operation.get("summary", "").replace("|", "\\|")
        rows.append(
            f"| {route.method} | `{route.path}` | {summary} | {auth} | {statuses} |"
        )
    return "\n".join(rows) + "\n"


def with_table(readme: str, table: str) -> str:
    """The README with `table` between the API table's markers."""
    begin, end = readme.find(TABLE_BEGIN), readme.find(TABLE_END)
    if begin < 0 or end < begin:
        raise DocumentError(f"README.md needs {TABLE_BEGIN} ... {TABLE_END}")
    head = readme[: begin + len(TABLE_BEGIN)]
    return f"{head}\n{table}{readme[end:]}"


@dataclass(frozen=True)
class Outputs:
    document: str
    readme: str


def generate() -> Outputs:
    """Both files as the code says they should read now."""
    routes = template_routes()
    document = build_document(routes)
    readme = with_table(
        README.read_text(encoding="utf-8"), render_table(document, routes)
    )
    return Outputs(document=render_document(document), readme=readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="write nothing; fail if a file is stale"
    )
    args = parser.parse_args(argv)
    try:
        outputs = generate()
    except DocumentError as error:
        print(f"openapi: {error}", file=sys.stderr)
        return 2
    current = DOCUMENT.read_text(encoding="utf-8") if DOCUMENT.exists() else ""
    if args.check:
        stale = [STALE] if current != outputs.document else []
        if README.read_text(encoding="utf-8") != outputs.readme:
            stale.append(README_STALE)
        for message in stale:
            print(message, file=sys.stderr)
        return 1 if stale else 0
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(outputs.document, encoding="utf-8")
    README.write_text(outputs.readme, encoding="utf-8")
    print(f"wrote {DOCUMENT.relative_to(ROOT)} and the API table of README.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
