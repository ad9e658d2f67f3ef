"""REST APIs and their routes, read from `AWS::Serverless::Api` and `Api` events.

A route is one `Type: Api` event of a function: a path template (`{param}`,
`{proxy+}`), a method (or `ANY`) and the authorizer that guards it. Each API carries
its stage, CORS settings (the quoted literals API Gateway uses, unquoted here),
authorizers, gateway responses, binary media types and the throttling of its
`MethodSettings`. Events without `RestApiId` belong to SAM's implicit
`ServerlessRestApi` (stage `Prod`), configured by `Globals.Api` alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from local.template.functions import merge_globals, merged_properties
from local.template.intrinsics import Resolver, TemplateError
from local.template.loader import resources_of_type

IMPLICIT_API = "ServerlessRestApi"
IMPLICIT_STAGE = "Prod"
NO_AUTH = "NONE"


def unquote(value: Any) -> str:
    """API Gateway's static values are quoted: `"'GET,POST'"` means `GET,POST`."""
    text = str(value).strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1]
    return text


@dataclass(frozen=True)
class CorsSettings:
    allow_origin: str
    allow_methods: str | None = None
    allow_headers: str | None = None
    max_age: str | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class Authorizer:
    name: str
    kind: str  # "cognito", "lambda" or "iam"
    header: str = "Authorization"
    validation_expression: str | None = None
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class GatewayResponse:
    status_code: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    templates: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MethodThrottle:
    """The throttling of one `MethodSettings` entry (`/*`, `*`: every path, method)."""

    resource_path: str  # decoded: `/*` or `/ebay/notifications/account-deletion`
    http_method: str  # upper case, or `*`
    rate_limit: float  # requests per second, refilled continuously
    burst_limit: float  # the bucket's size


@dataclass(frozen=True)
class RestApi:
    logical_id: str
    api_id: str
    stage: str
    cors: CorsSettings | None = None
    default_authorizer: str | None = None
    authorizers: dict[str, Authorizer] = field(default_factory=dict)
    authorize_preflight: bool = True
    gateway_responses: dict[str, GatewayResponse] = field(default_factory=dict)
    binary_media_types: tuple[str, ...] = ()
    throttling: tuple[MethodThrottle, ...] = ()


@dataclass(frozen=True)
class ApiRoute:
    api: RestApi
    path: str
    method: str  # upper case, or ANY
    function: str  # logical id
    event: str
    authorizer: str | None  # None: open
    scopes: tuple[str, ...] = ()
    timeout_ms: int = 29000


def _cors(value: Any) -> CorsSettings | None:
    if value is None:
        return None
    if isinstance(value, str):
        return CorsSettings(allow_origin=unquote(value))
    origin = value.get("AllowOrigin")
    if origin is None:
        raise TemplateError("Cors needs AllowOrigin")

    def optional(key: str) -> str | None:
        return unquote(value[key]) if value.get(key) is not None else None

    credentials = value.get("AllowCredentials", False)
    return CorsSettings(
        allow_origin=unquote(origin),
        allow_methods=optional("AllowMethods"),
        allow_headers=optional("AllowHeaders"),
        max_age=optional("MaxAge"),
        allow_credentials=str(credentials).lower() == "true",
    )


def _authorizer(name: str, config: dict[str, Any]) -> Authorizer:
    identity = config.get("Identity") or {}
    header = str(identity.get("Header", "Authorization"))
    expression = identity.get("ValidationExpression")
    scopes = tuple(str(scope) for scope in config.get("AuthorizationScopes") or ())
    if "UserPoolArn" in config:
        kind = "cognito"
    elif "FunctionArn" in config:
        kind = "lambda"
    else:
        kind = "unknown"
    return Authorizer(
        name=name,
        kind=kind,
        header=header,
        validation_expression=str(expression) if expression else None,
        scopes=scopes,
    )


def _gateway_responses(value: dict[str, Any]) -> dict[str, GatewayResponse]:
    responses = {}
    for kind, config in (value or {}).items():
        parameters = (config or {}).get("ResponseParameters") or {}
        headers = {
            name: unquote(header)
            for name, header in (parameters.get("Headers") or {}).items()
        }
        status = config.get("StatusCode")
        responses[kind] = GatewayResponse(
            status_code=int(unquote(status)) if status is not None else None,
            headers=headers,
            templates={
                str(k): str(v)
                for k, v in (config.get("ResponseTemplates") or {}).items()
            },
        )
    return responses


# API Gateway's account-level defaults, for a setting that gives only one limit.
ACCOUNT_RATE_LIMIT = 10000.0
ACCOUNT_BURST_LIMIT = 5000.0


def _throttling(settings: Any) -> tuple[MethodThrottle, ...]:
    """The `MethodSettings` entries that throttle.

    A setting's path is a slash, then the resource path with `~1` for `/`
    (`/~1bids~1{bidId}`); `/*` is every path.
    """
    found = []
    for setting in settings or ():
        rate = setting.get("ThrottlingRateLimit")
        burst = setting.get("ThrottlingBurstLimit")
        if rate is None and burst is None:
            continue
        encoded = str(setting.get("ResourcePath", "/*"))
        path = encoded
        if encoded != "/*":
            path = encoded[1:].replace("~1", "/").replace("~0", "~")
        found.append(
            MethodThrottle(
                resource_path=path,
                http_method=str(setting.get("HttpMethod", "*")).upper(),
                rate_limit=float(rate) if rate is not None else ACCOUNT_RATE_LIMIT,
                burst_limit=(
                    float(burst) if burst is not None else ACCOUNT_BURST_LIMIT
                ),
            )
        )
    return tuple(found)


def _api_properties(template: dict[str, Any], logical_id: str | None) -> dict[str, Any]:
    globals_ = (template.get("Globals") or {}).get("Api") or {}
    own: dict[str, Any] = {}
    if logical_id is not None:
        own = template["Resources"][logical_id].get("Properties") or {}
    return {
        key: merge_globals(globals_.get(key), own.get(key)) for key in {*globals_, *own}
    }


def rest_api(
    template: dict[str, Any], logical_id: str | None, resolver: Resolver
) -> RestApi:
    """One API (`None`: SAM's implicit API), settings resolved."""
    properties = resolver.resolve(_api_properties(template, logical_id))
    auth = properties.get("Auth") or {}
    authorizers = {
        name: _authorizer(name, config or {})
        for name, config in (auth.get("Authorizers") or {}).items()
    }
    default = auth.get("DefaultAuthorizer")
    if default is not None and default not in authorizers and default != "AWS_IAM":
        raise TemplateError(f"DefaultAuthorizer {default} is not among the Authorizers")
    if default == "AWS_IAM":
        authorizers["AWS_IAM"] = Authorizer(name="AWS_IAM", kind="iam")
    binary = tuple(
        str(kind).replace("~1", "/")
        for kind in properties.get("BinaryMediaTypes") or ()
    )
    name = logical_id or IMPLICIT_API
    stage = properties.get("StageName", IMPLICIT_STAGE if logical_id is None else None)
    if stage is None:
        raise TemplateError(f"API {name} has no StageName")
    return RestApi(
        logical_id=name,
        api_id=str(resolver.ref(name)),
        stage=str(stage),
        cors=_cors(properties.get("Cors")),
        default_authorizer=str(default) if default else None,
        authorizers=authorizers,
        authorize_preflight=str(
            auth.get("AddDefaultAuthorizerToCorsPreflight", True)
        ).lower()
        == "true",
        gateway_responses=_gateway_responses(properties.get("GatewayResponses") or {}),
        binary_media_types=binary,
        throttling=_throttling(properties.get("MethodSettings")),
    )


def rest_apis(template: dict[str, Any], resolver: Resolver) -> dict[str, RestApi]:
    """Every active `AWS::Serverless::Api`, by logical id."""
    return {
        logical_id: rest_api(template, logical_id, resolver)
        for logical_id in resources_of_type(template, "AWS::Serverless::Api")
        if resolver.is_active(logical_id)
    }


def _api_of(event_properties: dict[str, Any]) -> str | None:
    api = event_properties.get("RestApiId")
    if api is None:
        return None
    if isinstance(api, dict) and "Ref" in api:
        return str(api["Ref"])
    raise TemplateError(f"RestApiId {api!r} must be a !Ref to an AWS::Serverless::Api")


def api_routes(template: dict[str, Any], resolver: Resolver) -> list[ApiRoute]:
    """Every `Type: Api` event of every active function, in template order."""
    apis = rest_apis(template, resolver)
    routes = []
    functions = resources_of_type(template, "AWS::Serverless::Function")
    for function_id in functions:
        if not resolver.is_active(function_id):
            continue
        events = merged_properties(template, function_id).get("Events") or {}
        for event_name, event in events.items():
            if event.get("Type") != "Api":
                continue
            raw = event.get("Properties") or {}
            api_id = _api_of(raw)
            if api_id is None:
                if IMPLICIT_API not in apis:
                    apis[IMPLICIT_API] = rest_api(template, None, resolver)
                api = apis[IMPLICIT_API]
            elif api_id in apis:
                api = apis[api_id]
            else:
                raise TemplateError(
                    f"{function_id}.{event_name}: RestApiId {api_id} is not an "
                    "AWS::Serverless::Api of this template"
                )
            properties = resolver.resolve(
                {k: v for k, v in raw.items() if k != "RestApiId"}
            )
            missing = [key for key in ("Path", "Method") if key not in properties]
            if missing:
                raise TemplateError(
                    f"{function_id}.{event_name}: an Api event needs "
                    f"{' and '.join(missing)}"
                )
            auth = properties.get("Auth") or {}
            authorizer = auth.get("Authorizer", api.default_authorizer)
            if authorizer == NO_AUTH:
                authorizer = None
            if authorizer is not None and authorizer not in api.authorizers:
                raise TemplateError(
                    f"{function_id}.{event_name}: authorizer {authorizer} is not "
                    f"declared on {api.logical_id}"
                )
            scopes = auth.get("AuthorizationScopes")
            if scopes is None and authorizer is not None:
                scopes = api.authorizers[authorizer].scopes
            routes.append(
                ApiRoute(
                    api=api,
                    path=str(properties["Path"]),
                    method=str(properties["Method"]).upper(),
                    function=function_id,
                    event=event_name,
                    authorizer=authorizer,
                    scopes=tuple(str(scope) for scope in scopes or ()),
                    timeout_ms=int(properties.get("TimeoutInMillis", 29000)),
                )
            )
    return routes
