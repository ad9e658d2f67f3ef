"""The local API Gateway: the template's `Api` events served over HTTP (Starlette).

For each request it does what API Gateway's REST API does: picks the most specific
resource and method (403 "Missing Authentication Token" when none), answers CORS
preflights from the API's `Cors`, runs the Cognito authorizer against the local
identity (401), builds the proxy event, invokes the function in its container, and
maps the proxy response back (502 when the function fails or answers malformed, 504
after the 29-second integration timeout), refuses bodies over 10 MB (413) and
throttles each method by the API's `MethodSettings` (429). Gateway responses are
the API's `GatewayResponses`: status, headers and rendered body templates.

Besides the API it serves the local identity: the JWKS at `/.well-known/jwks.json`
(and under the issuer), OpenID discovery, and `POST /local/token`; and Swagger UI at
`/docs` (`local.stack.docs`).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from local.stack.apigw import (
    REQUEST_BODY_LIMIT,
    HttpRequest,
    HttpResponse,
    MalformedResponse,
    Throttle,
    error_context,
    gateway_response,
    http_response,
    preflight,
    rest_event,
)
from local.stack.console import Console
from local.stack.containers import Outcome
from local.stack.docs import SwaggerUi
from local.stack.identity import LocalIdentity, TokenRejected, claims_for_api_gateway
from local.stack.lambda_service import LocalLambda
from local.stack.routing import RouteTable
from local.template.apis import ApiRoute, RestApi

INTEGRATION_TIMEOUT_MS = 29000
TOKEN_PATH = "/local/token"
_BEARER = re.compile(r"^bearer\s+", re.IGNORECASE)


def raw_path(scope: Scope) -> str:
    """The request's path as sent, still percent-encoded (`/items/a%2Fb`).

    API Gateway routes and fills `path`/`pathParameters` from this text, so an
    encoded slash stays inside its segment; Starlette's `path` is already decoded.
    """
    raw = scope.get("raw_path")
    if raw:
        return bytes(raw).decode("latin-1")
    return quote(str(scope.get("path", "/")), safe="/:@!$&'()*+,;=-._~")


def _starlette_response(response: HttpResponse) -> Response:
    result = Response(content=response.body, status_code=response.status)
    for name, value in response.headers:
        if "\r" in value or "\n" in value:
            continue
        result.raw_headers.append(
            (name.lower().encode("latin-1"), value.encode("utf-8"))
        )
    return result


def _failure(outcome: Outcome) -> str:
    """`errorType: errorMessage` of a Lambda error, for the `api |` line."""
    try:
        body = json.loads(outcome.payload)
        text = f"{body.get('errorType', 'Error')}: {body.get('errorMessage', '')}"
    except (ValueError, AttributeError):
        text = "error"
    return text if len(text) <= 200 else text[:197] + "..."


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    response = Response(
        content=json.dumps(body), status_code=status, media_type="application/json"
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class Gateway:
    """The ASGI application of the API port."""

    def __init__(
        self,
        routes: list[ApiRoute],
        lambdas: LocalLambda,
        identity: LocalIdentity,
        console: Console,
        executor: Executor,
        *,
        account_id: str,
        apis: list[RestApi] | None = None,
        clock: Callable[[], float] = time.time,
        docs: SwaggerUi | None = None,
    ) -> None:
        self._lambdas = lambdas
        self._identity = identity
        self._console = console
        self._executor = executor
        self._account_id = account_id
        self._clock = clock
        self.docs = docs or SwaggerUi()
        self.table: RouteTable[ApiRoute] = RouteTable()
        for route in routes:
            if not self.table.add(route.path, route.method, route):
                console.warn(
                    f"{route.method} {route.path} ({route.function}.{route.event}) is "
                    "declared twice; the first declaration is served"
                )
        all_apis = list(apis or [])
        all_apis.extend(r.api for r in routes if r.api not in all_apis)
        self._default_api = all_apis[0] if all_apis else None
        self._throttles = {a.logical_id: Throttle(a.throttling) for a in all_apis}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = raw_path(scope)
        if self.docs.owns(path) and self.table.resource(path) is None:
            # Swagger UI (local only): before the API, unless the template routes it.
            await self.docs(scope, receive, send)
            return
        request = Request(scope, receive)
        started = self._clock()
        response, note = await self._handle(request)
        elapsed = (self._clock() - started) * 1000
        self._console.line(
            "api",
            f"{request.method} {request.url.path} -> {response.status_code}"
            f"{f' ({note})' if note else ''} {elapsed:.0f} ms",
        )
        await response(scope, receive, send)

    async def _handle(self, request: Request) -> tuple[Response, str]:
        path = request.url.path
        if request.method in ("GET", "HEAD") and path in (
            "/.well-known/jwks.json",
            "/local/.well-known/jwks.json",
        ):
            return _json(
                200, self._identity.jwks, {"Access-Control-Allow-Origin": "*"}
            ), ""
        if (
            request.method in ("GET", "HEAD")
            and path == "/local/.well-known/openid-configuration"
        ):
            body = self._identity.openid_configuration()
            return _json(200, body, {"Access-Control-Allow-Origin": "*"}), ""
        if path == TOKEN_PATH:
            return await self._token(request), "local identity"
        return await self._api(request)

    # ------------------------------------------------------------ local identity
    async def _token(self, request: Request) -> Response:
        cors = {
            "Access-Control-Allow-Origin": request.headers.get("origin", "*"),
            "Access-Control-Allow-Methods": "POST,OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type,Authorization",
            "Vary": "Origin",
        }
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=cors)
        if request.method != "POST":
            return _json(405, {"message": "POST a JSON body to get a token"}, cors)
        try:
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, dict):
                raise ValueError("the body must be a JSON object")
            username = str(body.get("username") or body.get("user") or "").strip()
            if not username:
                raise ValueError('"username" is required')
            groups = body.get("groups")
            extra = body.get("claims")
            verified = body.get("emailVerified", True)
            if not isinstance(verified, bool):
                raise ValueError('"emailVerified" must be true or false')
            issued = self._identity.issue(
                username,
                body.get("email") or None,
                lifetime_s=int(body.get("expiresIn", 3600)),
                groups=[str(g) for g in groups] if isinstance(groups, list) else None,
                extra=extra if isinstance(extra, dict) else None,
                email_verified=verified,
            )
        except (ValueError, TypeError) as error:
            return _json(400, {"message": str(error)}, cors)
        answer = {
            "idToken": issued.id_token,
            "accessToken": issued.access_token,
            "tokenType": "Bearer",
            "expiresIn": issued.expires_in,
            "sub": issued.claims["sub"],
            "username": username,
            "email": issued.claims.get("email"),
            "emailVerified": issued.claims.get("email_verified"),
            "issuer": self._identity.issuer,
            "audience": self._identity.client_id,
        }
        return _json(200, answer, cors)

    # ------------------------------------------------------------ the API
    async def _api(self, request: Request) -> tuple[Response, str]:
        request_id = str(uuid.uuid4())
        path = raw_path(request.scope)
        if await self._too_large(request):
            return self._error(
                "REQUEST_TOO_LARGE", 413, "Request Too Long", None, request_id, request
            ), "body over 10 MB"
        resource = self.table.resource(path)
        if resource is None:
            return self._error(
                "MISSING_AUTHENTICATION_TOKEN",
                403,
                "Missing Authentication Token",
                None,
                request_id,
                request,
            ), ""
        api = next(iter(self.table.targets(resource))).api
        methods = self.table.methods(resource)
        if request.method == "OPTIONS" and "OPTIONS" not in methods and api.cors:
            if api.authorize_preflight and api.default_authorizer:
                rejected = self._authorize(
                    request, api, api.default_authorizer, (), request_id
                )
                if isinstance(rejected, Response):
                    return rejected, "preflight"
            return _starlette_response(preflight(api, methods, request_id)), "preflight"
        match = self.table.find(path, request.method)
        if match is None:
            return self._error(
                "MISSING_AUTHENTICATION_TOKEN",
                403,
                "Missing Authentication Token",
                api,
                request_id,
                request,
            ), ""
        route = match.target
        throttle = self._throttles.get(api.logical_id)
        if throttle is not None and not throttle.allow(match.resource, request.method):
            return self._error(
                "THROTTLED", 429, "Too Many Requests", api, request_id, request
            ), "throttled"
        claims: dict[str, str] | None = None
        if route.authorizer is not None:
            verdict = self._authorize(
                request, api, route.authorizer, route.scopes, request_id
            )
            if isinstance(verdict, Response):
                return verdict, "authorizer"
            claims = verdict
        http_request = HttpRequest(
            method=request.method,
            path=path,
            query=request.scope.get("query_string", b""),
            headers=[
                (k.decode("latin-1"), v.decode("latin-1"))
                for k, v in request.headers.raw
            ],
            body=await request.body(),
            source_ip=request.client.host if request.client else "127.0.0.1",
            scheme=request.url.scheme,
            port=int((request.scope.get("server") or ("", 80))[1] or 80),
            protocol=f"HTTP/{request.scope.get('http_version', '1.1')}",
        )
        event = rest_event(
            http_request,
            api=api,
            resource=match.resource,
            path_parameters=match.parameters,
            account_id=self._account_id,
            claims=claims,
            request_id=request_id,
        )
        spec = self._lambdas.functions[route.function]
        timeout = min(route.timeout_ms, INTEGRATION_TIMEOUT_MS) / 1000
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(
            self._executor,
            lambda: self._lambdas.invoke(
                spec, json.dumps(event), request_id=request_id
            ),
        )
        try:
            outcome: Outcome = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            return self._error(
                "INTEGRATION_TIMEOUT",
                504,
                "Endpoint request timed out",
                api,
                request_id,
                request,
            ), route.function
        if outcome.error:
            return self._error(
                "DEFAULT_5XX", 502, "Internal server error", api, request_id, request
            ), f"{route.function} failed: {_failure(outcome)}"
        try:
            mapped = http_response(
                json.loads(outcome.payload),
                binary_media_types=api.binary_media_types,
                accept=request.headers.get("accept"),
            )
        except (MalformedResponse, ValueError) as error:
            self._console.line(
                "api", f"malformed Lambda proxy response from {route.function}: {error}"
            )
            return self._error(
                "DEFAULT_5XX", 502, "Internal server error", api, request_id, request
            ), route.function
        mapped.headers.append(("x-amzn-RequestId", request_id))
        return _starlette_response(mapped), route.function

    def _authorize(
        self,
        request: Request,
        api: RestApi,
        name: str,
        scopes: tuple[str, ...],
        request_id: str,
    ) -> dict[str, str] | Response:
        authorizer = api.authorizers.get(name)
        if authorizer is None or authorizer.kind != "cognito":
            kind = authorizer.kind if authorizer else "unknown"
            self._console.warn(
                f"authorizer {name} ({kind}) is not emulated; request refused"
            )
            return self._error(
                "AUTHORIZER_CONFIGURATION_ERROR",
                500,
                f"Authorizer {name} is not emulated locally",
                api,
                request_id,
                request,
            )
        raw = (request.headers.get(authorizer.header) or "").strip()
        token = _BEARER.sub("", raw).strip()
        if not token:
            return self._error(
                "UNAUTHORIZED", 401, "Unauthorized", api, request_id, request
            )
        try:
            claims = self._identity.verify(token, scopes=scopes)
        except TokenRejected as rejected:
            self._console.line("api", f"token refused: {rejected.reason}")
            return self._error(
                "UNAUTHORIZED", 401, rejected.message, api, request_id, request
            )
        return claims_for_api_gateway(claims)

    async def _too_large(self, request: Request) -> bool:
        """Whether the body is over API Gateway's 10 MB. A declared length over
        it is drained unkept, so a huge upload costs no memory and the client,
        done sending, reads the 413 instead of a reset connection."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > REQUEST_BODY_LIMIT:
            async for _ in request.stream():
                pass
            return True
        return len(await request.body()) > REQUEST_BODY_LIMIT

    def _error(
        self,
        kind: str,
        status: int,
        message: str,
        api: RestApi | None,
        request_id: str,
        request: Request | None = None,
    ) -> Response:
        """A gateway response, its template fed what API Gateway knows of `request`."""
        api = api or self._default_api
        context = error_context(
            kind,
            message,
            request_id,
            api=api,
            method=request.method if request else None,
            path=raw_path(request.scope) if request else None,
            host=request.headers.get("host") if request else None,
            source_ip=request.client.host if request and request.client else None,
            user_agent=request.headers.get("user-agent") if request else None,
            account_id=self._account_id,
        )
        return _starlette_response(
            gateway_response(
                kind, status, message, api=api, request_id=request_id, context=context
            )
        )
