"""Swagger UI at `/docs` on the API port: the committed API document, tried locally.

The page and its assets come from the pinned npm package in `local/docs_ui/`
(`make docs-ui`), never from a CDN, so `/docs` works offline. The document is
`docs/openapi.json` as committed, read on each request (a regenerated document shows
on reload), with `servers` rewritten to the stack's own URL so "Try it out" calls this
stack (same origin: no CORS), and a note on getting a local token for Authorize.
Anything missing answers 503 with the command that fixes it; the stack never fails
because of the docs.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route, Router
from starlette.types import Receive, Scope, Send

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
ASSETS = ROOT / "local" / "docs_ui" / "node_modules" / "swagger-ui-dist"
DOCS_PATH = "/docs"

# The files of swagger-ui-dist the page uses (and their source maps): nothing else
# under node_modules is reachable, whatever the request's path.
_ASSET_NAMES = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui.css.map",
        "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.map",
        "favicon-16x16.png",
        "favicon-32x32.png",
        "oauth2-redirect.html",
        "oauth2-redirect.js",
    }
)
_NO_CACHE = {"Cache-Control": "no-cache"}

_INDEX = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} (local stack)</title>
  <link rel="stylesheet" href="{prefix}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{prefix}/favicon-32x32.png">
  <style>body {{ margin: 0; }}</style>
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{prefix}/swagger-ui-bundle.js"></script>
  <script src="{prefix}/initializer.js"></script>
</body>
</html>
"""

# validatorUrl null: no call to validator.swagger.io (the page must work offline).
_INITIALIZER = """window.ui = SwaggerUIBundle({{
  url: "{prefix}/openapi.json",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  persistAuthorization: true,
  displayRequestDuration: true,
  validatorUrl: null,
}});
"""

_UNAVAILABLE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>API docs unavailable</title></head>
<body style="font-family: sans-serif; margin: 2em">
  <h1>Swagger UI is not available</h1>
  <ul>{items}</ul>
  <p>Then reload this page; the stack need not restart.</p>
</body>
</html>
"""


def local_document(document: dict[str, Any], origin: str) -> dict[str, Any]:
    """The document as served at `/docs/openapi.json`: this stack as its server.

    The committed `servers` name deployed stages; "Try it out" must call the stack
    that serves the page. The description gains how to get a local token.
    """
    served = dict(document)
    served["servers"] = [{"url": origin, "description": "this local stack"}]
    info = dict(served.get("info") or {})
    note = (
        "**On the local stack** (`make dev`), requests go to "
        f"{origin}. For a signed-in route, get an ID token with `make token` "
        "(`make token USER=bob EMAIL=bob@example.com`) or "
        f"`POST {origin}/local/token` with "
        '`{"username": "alice", "email": "alice@example.com"}` (its `idToken`), '
        "then paste it into **Authorize**, bare or as `Bearer <idToken>`. "
        "It is kept across reloads until it expires (one hour)."
    )
    existing = str(info.get("description") or "").rstrip()
    info["description"] = f"{existing}\n\n{note}" if existing else note
    served["info"] = info
    return served


def _origin(request: Request) -> str:
    return str(request.base_url).rstrip("/")


class SwaggerUi:
    """The ASGI app of `/docs`, mounted by the gateway before the API's routes."""

    def __init__(
        self,
        *,
        document: Path = DOCUMENT,
        assets: Path = ASSETS,
        prefix: str = DOCS_PATH,
    ) -> None:
        self.document = document
        self.assets = assets
        self.prefix = prefix
        read = ["GET", "HEAD"]
        self._router = Router(
            routes=[
                Route(prefix, self._index, methods=read),
                Route(f"{prefix}/", self._index, methods=read),
                Route(f"{prefix}/openapi.json", self._document, methods=read),
                Route(f"{prefix}/initializer.js", self._initializer, methods=read),
                Route(f"{prefix}/{{name}}", self._asset, methods=read),
            ]
        )

    def owns(self, path: str) -> bool:
        """Whether `path` is the docs' (`/docs`, `/docs/...`)."""
        return path == self.prefix or path.startswith(f"{self.prefix}/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._router(scope, receive, send)

    # ------------------------------------------------------------ what is missing
    def _missing(self) -> list[str]:
        missing = []
        if not (self.assets / "swagger-ui-bundle.js").is_file():
            missing.append(
                "Swagger UI's files are not installed "
                f"(<code>{self.assets}</code>): run <code>make docs-ui</code>."
            )
        if not self.document.is_file():
            missing.append(
                f"The API document <code>{self.document}</code> is missing: run "
                "<code>make openapi</code>."
            )
        return missing

    def _unavailable(self, missing: list[str]) -> Response:
        items = "".join(f"<li>{item}</li>" for item in missing)
        return HTMLResponse(
            _UNAVAILABLE.format(items=items), status_code=503, headers=_NO_CACHE
        )

    def _read_document(self) -> dict[str, Any] | str:
        """The committed document, or why it cannot be served."""
        try:
            document = json.loads(self.document.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return f"{self.document} is missing: run make openapi"
        except (OSError, ValueError) as error:
            return f"{self.document} is unreadable ({error}): run make openapi"
        if not isinstance(document, dict):
            return f"{self.document} is not a JSON object: run make openapi"
        return document

    # ------------------------------------------------------------ routes
    async def _index(self, request: Request) -> Response:
        missing = self._missing()
        if missing:
            return self._unavailable(missing)
        document = self._read_document()
        title = "API"
        if isinstance(document, dict):
            title = str((document.get("info") or {}).get("title") or title)
        html = _INDEX.format(title=escape(title), prefix=self.prefix)
        return HTMLResponse(html, headers=_NO_CACHE)

    async def _initializer(self, request: Request) -> Response:
        return Response(
            _INITIALIZER.format(prefix=self.prefix),
            media_type="text/javascript",
            headers=_NO_CACHE,
        )

    async def _document(self, request: Request) -> Response:
        document = self._read_document()
        if isinstance(document, str):
            return JSONResponse({"message": document}, 503, headers=_NO_CACHE)
        served = local_document(document, _origin(request))
        return JSONResponse(served, headers=_NO_CACHE)

    async def _asset(self, request: Request) -> Response:
        name = str(request.path_params["name"])
        if name not in _ASSET_NAMES:
            return Response("Not Found", 404, media_type="text/plain")
        path = self.assets / name
        if not path.is_file():
            return self._unavailable(self._missing() or [f"{path} is missing."])
        return FileResponse(path, headers=_NO_CACHE)
