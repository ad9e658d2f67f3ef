"""API Gateway's REST proxy integration, field by field, without any server.

- `rest_event`: the Lambda proxy event (payload v1) API Gateway builds for a request.
- `http_response`: a Lambda proxy response mapped back to HTTP, or `MalformedResponse`
  (API Gateway's 502) when it breaks the proxy contract.
- `gateway_response`: API Gateway's own answers (401, 403, 413, 429, 502, 504) with
  the API's `GatewayResponses` applied: their status, headers and body templates,
  `$context` variables substituted as API Gateway does.
- `Throttle`: the token buckets of the API's `MethodSettings`, one per method.
- `preflight`: the CORS preflight SAM's `Cors` setting answers (a mock integration).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from local.template.apis import GatewayResponse, MethodThrottle, RestApi
from local.template.intrinsics import short_id

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
_RESPONSE_KEYS = {
    "statusCode",
    "body",
    "headers",
    "multiValueHeaders",
    "isBase64Encoded",
    "base64Encoded",
}
_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive"}
_ERROR_TYPES = {
    "UNAUTHORIZED": "UnauthorizedException",
    "MISSING_AUTHENTICATION_TOKEN": "MissingAuthenticationTokenException",
    "ACCESS_DENIED": "AccessDeniedException",
    "AUTHORIZER_CONFIGURATION_ERROR": "AuthorizerConfigurationException",
    "INTEGRATION_TIMEOUT": "InternalServerErrorException",
    "THROTTLED": "TooManyRequestsException",
    "DEFAULT_5XX": "InternalServerErrorException",
}
# API Gateway's payload limit: a larger request body is refused with 413.
REQUEST_BODY_LIMIT = 10 * 1024 * 1024
# `$context.error.messageString`, `$stageVariables.name`: a dot ends a name only
# when no letter follows it (`$context.requestId.` ends a sentence).
_VARIABLE = re.compile(r"\$(context|stageVariables)\.([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")


@dataclass(frozen=True)
class HttpRequest:
    """What the gateway needs from an HTTP request (headers in arrival order)."""

    method: str
    path: str
    query: bytes
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    scheme: str = "http"
    port: int = 80
    protocol: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        """The last value of a header (case-insensitive), as API Gateway keeps it."""
        found = None
        for key, value in self.headers:
            if key.lower() == name.lower():
                found = value
        return found


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class MalformedResponse(ValueError):
    """The function's answer breaks the proxy contract: API Gateway answers 502."""


def canonical_header(name: str) -> str:
    """`content-type` → `Content-Type` (servers hand us lower-case names)."""
    return "-".join(part[:1].upper() + part[1:] for part in name.split("-"))


def _media_matches(media: str, patterns: tuple[str, ...]) -> bool:
    media = media.split(";", 1)[0].strip().lower()
    if not media:
        return False
    kind = media.split("/", 1)[0]
    for pattern in patterns:
        pattern = pattern.lower()
        if pattern in ("*/*", media) or pattern == f"{kind}/*":
            return True
    return False


def _request_body(
    request: HttpRequest, binary_types: tuple[str, ...]
) -> tuple[str | None, bool]:
    """The event's `body` and `isBase64Encoded`.

    Content types listed in `BinaryMediaTypes` arrive base64-encoded, as on API
    Gateway. Other bodies arrive as text; a body that is not UTF-8 (which API Gateway
    would mangle) is passed base64-encoded rather than corrupted.
    """
    if not request.body:
        return None, False
    content_type = request.header("Content-Type") or ""
    if binary_types and _media_matches(content_type, binary_types):
        return base64.b64encode(request.body).decode(), True
    try:
        return request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        return base64.b64encode(request.body).decode(), True


def _headers(request: HttpRequest) -> tuple[dict[str, str], dict[str, list[str]]]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for raw_name, value in request.headers:
        name = names.setdefault(raw_name.lower(), canonical_header(raw_name))
        multi.setdefault(name, []).append(value)
        single[name] = value
    forwarded_for = single.get("X-Forwarded-For")
    added = {
        "X-Forwarded-For": (
            f"{forwarded_for}, {request.source_ip}"
            if forwarded_for
            else request.source_ip
        ),
        "X-Forwarded-Port": str(request.port),
        "X-Forwarded-Proto": request.scheme,
    }
    if "X-Amzn-Trace-Id" not in single:
        added["X-Amzn-Trace-Id"] = trace_id()
    for name, value in added.items():
        single[name] = value
        multi[name] = [value]
    return single, multi


def _query(raw: bytes) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    if not pairs:
        return None, None
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single, multi


def trace_id(now: float | None = None) -> str:
    moment = int(now if now is not None else time.time())
    return f"Root=1-{moment:08x}-{secrets.token_hex(12)}"


def request_time(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return moment.strftime("%d/%b/%Y:%H:%M:%S +0000")


def rest_event(
    request: HttpRequest,
    *,
    api: RestApi,
    resource: str,
    path_parameters: dict[str, str],
    account_id: str,
    claims: dict[str, str] | None,
    request_id: str | None = None,
    now_ms: int | None = None,
) -> dict[str, Any]:
    """The REST proxy event (payload v1) for `request` routed to `resource`.

    `request.path` and `path_parameters` are the raw, still percent-encoded text of
    the request line: a REST API passes `path` and `pathParameters` on undecoded
    (`/items/a%20b` gives `{"id": "a%20b"}`); only query strings are decoded.
    """
    epoch_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    headers, multi_headers = _headers(request)
    query, multi_query = _query(request.query)
    body, is_base64 = _request_body(request, api.binary_media_types)
    host = headers.get("Host", "localhost")
    identity = {
        "cognitoIdentityPoolId": None,
        "accountId": None,
        "cognitoIdentityId": None,
        "caller": None,
        "sourceIp": request.source_ip,
        "principalOrgId": None,
        "accessKey": None,
        "cognitoAuthenticationType": None,
        "cognitoAuthenticationProvider": None,
        "userArn": None,
        "userAgent": headers.get("User-Agent"),
        "user": None,
    }
    context: dict[str, Any] = {
        "resourceId": short_id(f"{api.api_id}:{resource}", 6),
        "resourcePath": resource,
        "httpMethod": request.method,
        "extendedRequestId": base64.b64encode(secrets.token_bytes(12)).decode()[:16],
        "requestTime": request_time(epoch_ms),
        "path": f"/{api.stage}{request.path}",
        "accountId": account_id,
        "protocol": request.protocol,
        "stage": api.stage,
        "domainPrefix": host.split(":", 1)[0].split(".", 1)[0],
        "requestTimeEpoch": epoch_ms,
        "requestId": request_id or str(uuid.uuid4()),
        "identity": identity,
        "domainName": host,
        "apiId": api.api_id,
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": context,
        "body": body,
        "isBase64Encoded": is_base64,
    }


def _flag(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise MalformedResponse(f"{name} must be a boolean, got {value!r}")


def http_response(
    result: Any, *, binary_media_types: tuple[str, ...] = (), accept: str | None = None
) -> HttpResponse:
    """Map a Lambda proxy response to HTTP the way API Gateway's REST API does.

    `headers` and `multiValueHeaders` merge (a pair present in both appears once). A
    body with `isBase64Encoded: true` is decoded only when the API's
    `BinaryMediaTypes` cover the request's `Accept` or the response's
    `Content-Type`; otherwise the client receives the base64 text, as on AWS.
    `statusCode` is required: without it API Gateway answers 502.
    """
    if not isinstance(result, dict):
        raise MalformedResponse(
            f"the function returned {type(result).__name__}, not an object"
        )
    extra = set(result) - _RESPONSE_KEYS
    if extra:
        raise MalformedResponse(f"unexpected response keys: {', '.join(sorted(extra))}")
    if "statusCode" not in result:
        raise MalformedResponse("statusCode is missing")
    status = result["statusCode"]
    try:
        status = int(status)
    except (TypeError, ValueError):
        raise MalformedResponse(f"statusCode {status!r} is not a number") from None
    if not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status} is not an HTTP status")
    headers: list[tuple[str, str]] = []
    multi = result.get("multiValueHeaders") or {}
    single = result.get("headers") or {}
    if not isinstance(multi, dict) or not isinstance(single, dict):
        raise MalformedResponse("headers and multiValueHeaders must be objects")
    for name, values in multi.items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders[{name!r}] must be a list")
        headers.extend((str(name), _header_value(value)) for value in values)
    for name, value in single.items():
        pair = (str(name), _header_value(value))
        if pair not in headers:
            headers.append(pair)
    headers = [
        (name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP
    ]
    body = result.get("body")
    if body is not None and not isinstance(body, str):
        raise MalformedResponse("body must be a string")
    encoded_flag = result.get("base64Encoded", result.get("isBase64Encoded", False))
    is_base64 = _flag(encoded_flag, "isBase64Encoded")
    response = HttpResponse(status=status, headers=headers)
    if not any(name.lower() == "content-type" for name, _ in headers):
        response.headers.append(("Content-Type", "application/json"))
    raw = (body or "").encode("utf-8")
    if is_base64 and body and binary_media_types:
        content_type = response.header("Content-Type") or ""
        first_accept = (accept or "").split(",", 1)[0]
        if _media_matches(first_accept, binary_media_types) or _media_matches(
            content_type, binary_media_types
        ):
            try:
                raw = base64.b64decode(body, validate=True)
            except binascii.Error:
                raise MalformedResponse("body is not valid base64") from None
    response.body = raw
    return response


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, dict | list):
        raise MalformedResponse(f"header value {value!r} is not a scalar")
    return str(value)


def render_template(template: str, variables: Mapping[str, str]) -> str:
    """A gateway response template with its variables substituted.

    API Gateway does simple substitution here, no VTL: `$context.x` becomes the
    variable's text as is (`$context.error.messageString` is the message already
    JSON-quoted), and a variable it does not know becomes empty.
    """

    def value(match: re.Match[str]) -> str:
        scope, name = match.groups()
        return variables.get(name, "") if scope == "context" else ""

    return _VARIABLE.sub(value, template)


def error_context(
    kind: str,
    message: str,
    request_id: str,
    *,
    api: RestApi | None = None,
    method: str | None = None,
    path: str | None = None,
    resource: str | None = None,
    host: str | None = None,
    source_ip: str | None = None,
    user_agent: str | None = None,
    account_id: str | None = None,
    now_ms: int | None = None,
) -> dict[str, str]:
    """The `$context` variables a gateway response template can use."""
    epoch_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    known = {
        "error.message": message,
        "error.messageString": json.dumps(message),
        "error.responseType": kind,
        "error.validationErrorString": "",
        "requestId": request_id,
        "extendedRequestId": request_id,
        "requestTime": request_time(epoch_ms),
        "requestTimeEpoch": str(epoch_ms),
        "httpMethod": method,
        "resourcePath": resource,
        "domainName": host,
        "identity.sourceIp": source_ip,
        "identity.userAgent": user_agent,
        "accountId": account_id,
    }
    if api is not None:
        known.update(apiId=api.api_id, stage=api.stage)
        if path is not None:
            known["path"] = f"/{api.stage}{path}"
    return {name: text for name, text in known.items() if text is not None}


def gateway_response(
    kind: str,
    status: int,
    message: str,
    *,
    api: RestApi | None,
    request_id: str,
    context: Mapping[str, str] | None = None,
) -> HttpResponse:
    """One of API Gateway's own responses, customised by the API's GatewayResponses.

    The response type's own entry wins, else DEFAULT_4XX or DEFAULT_5XX: its
    `StatusCode` replaces `status`, its headers are added and its
    `application/json` template, rendered with `context` (see `error_context`),
    is the body; without one the body is API Gateway's `{"message": ...}`.
    """
    config: GatewayResponse | None = None
    if api is not None:
        config = api.gateway_responses.get(kind) or api.gateway_responses.get(
            "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        )
    config = config or GatewayResponse()
    body = json.dumps({"message": message})
    template = config.templates.get("application/json")
    if template is not None:
        variables = error_context(kind, message, request_id, api=api)
        variables.update(context or {})
        body = render_template(template, variables)
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", request_id),
        ("x-amzn-ErrorType", _ERROR_TYPES.get(kind, "BadRequestException")),
    ]
    headers.extend(config.headers.items())
    return HttpResponse(
        status=config.status_code or status, headers=headers, body=body.encode()
    )


def preflight(api: RestApi, methods: list[str], request_id: str) -> HttpResponse:
    """The answer of the OPTIONS method SAM adds to every path when `Cors` is set."""
    assert api.cors is not None
    cors = api.cors
    allowed = cors.allow_methods
    if allowed is None:
        expanded: set[str] = set()
        for method in [*methods, "OPTIONS"]:
            expanded.update(ALL_METHODS if method == "ANY" else (method,))
        allowed = ",".join(sorted(expanded))
    headers = [
        ("Content-Type", "application/json"),
        ("x-amzn-RequestId", request_id),
        ("Access-Control-Allow-Origin", cors.allow_origin),
        ("Access-Control-Allow-Methods", allowed),
    ]
    if cors.allow_headers is not None:
        headers.append(("Access-Control-Allow-Headers", cors.allow_headers))
    if cors.max_age is not None:
        headers.append(("Access-Control-Max-Age", cors.max_age))
    if cors.allow_credentials:
        headers.append(("Access-Control-Allow-Credentials", "true"))
    # SAM's mock integration renders the response template `{}`.
    return HttpResponse(status=200, headers=headers, body=b"{}")


@dataclass
class _Bucket:
    tokens: float
    updated: float


class Throttle:
    """API Gateway's throttling of one stage: a token bucket per method.

    Each method gets its own bucket of `burst_limit` tokens refilled at
    `rate_limit` a second, from the most specific `MethodSettings` entry: its
    path and method, its path and `*`, `/*` and its method, then `/*` and `*`.
    A negative limit means no throttling, as on API Gateway.
    """

    def __init__(
        self,
        settings: Iterable[MethodThrottle],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = {(s.resource_path, s.http_method): s for s in settings}
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def setting(self, resource: str, method: str) -> MethodThrottle | None:
        """The entry that throttles `method` on `resource` (a route's template)."""
        for key in ((resource, method), (resource, "*"), ("/*", method), ("/*", "*")):
            if key in self._settings:
                return self._settings[key]
        return None

    def allow(self, resource: str, method: str) -> bool:
        """Take a token for one request; False when the bucket is empty (429)."""
        setting = self.setting(resource, method)
        if setting is None or setting.rate_limit < 0 or setting.burst_limit < 0:
            return True
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get((resource, method))
            if bucket is None:
                bucket = _Bucket(tokens=setting.burst_limit, updated=now)
                self._buckets[(resource, method)] = bucket
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(
                setting.burst_limit, bucket.tokens + elapsed * setting.rate_limit
            )
            bucket.updated = now
            if bucket.tokens < 1:
                return False
            bucket.tokens -= 1
            return True
