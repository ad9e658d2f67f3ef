"""The REST resolver every API function uses, and the one place errors become HTTP.

Each function builds its resolver here, so CORS, validation messages and the error
body look the same across the API.
"""

from __future__ import annotations

import json
import time
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestValidationError,
)
from botocore.exceptions import BotoCoreError, ClientError

from sniper.auth import AuthenticatedUser, user_from_claims
from sniper.errors import BadRequestError, SniperError, UnsupportedMediaTypeError
from sniper.observability import logger
from sniper.openapi import ErrorBody, as_answered, security_schemes
from sniper.settings import api_settings

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

ALLOWED_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key"]
_THROTTLING = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
}
UNREADABLE_BODY = "The request body is not valid UTF-8 JSON."


class SniperResolver(APIGatewayRestResolver):
    """Powertools' REST resolver, documenting the errors this API really sends.

    Powertools documents a 422 `HTTPValidationError` on every route with
    validation on; this API answers invalid input with a 400 `ErrorBody` instead
    (see `register_error_handlers`), which each route declares. The Cognito
    scheme the routes require is named here, when a document is asked for, not
    at every cold start.
    """

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        if not kwargs.get("security_schemes"):
            kwargs["security_schemes"] = security_schemes()
        return as_answered(super().get_openapi_schema(**kwargs))


def create_resolver() -> SniperResolver:
    """A resolver with request validation, CORS for our origins and our errors."""
    origins = api_settings().cors_origins
    cors = CORSConfig(
        allow_origin=origins[0],
        extra_origins=list(origins[1:]),
        allow_headers=ALLOWED_HEADERS,
        max_age=600,
    )
    app = SniperResolver(enable_validation=True, cors=cors)
    # Powertools runs this middleware first on every route with validation; ours
    # differs only in how it reads a body (see JsonBodyValidation).
    app._request_validation_middleware = JsonBodyValidation()  # type: ignore[no-untyped-call]
    register_error_handlers(app)
    app.use(middlewares=[log_request])
    return app


def log_request(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Any:
    """One structured line per request: what was asked, what was answered, how fast."""
    started = time.perf_counter()
    response = next_middleware(app)
    logger.info(
        "Request handled",
        extra={
            "method": app.current_event.http_method,
            "route": app.current_event.resource,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return response


class JsonBodyValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, reading request bodies as JSON objects only.

    Powertools also parses form and multipart bodies (and crashes on a multipart
    type without a boundary), lets a JSON array stand for its first object and
    crashes on a body nested deeper than Python's recursion limit. This API
    speaks JSON objects: another media type is 415, an unreadable body or an
    array 400.
    """

    def _get_body(self, app: Any) -> dict[str, Any]:
        media_type = media_type_of(app.current_event.headers.get("content-type"))
        if media_type and not is_json(media_type):
            raise UnsupportedMediaTypeError(
                f"Send the request body as application/json, not {media_type[:80]}."
            )
        try:
            body = app.current_event.json_body
        except RecursionError:
            raise BadRequestError("The request body nests too deeply.") from None
        except ValueError:  # bad JSON, bad UTF-8, bad base64
            raise BadRequestError(UNREADABLE_BODY) from None
        if isinstance(body, list):
            raise RequestValidationError(
                [
                    {
                        "type": "dict_type",
                        "loc": ("body",),
                        "msg": "Input should be a JSON object, not an array",
                        "input": None,
                    }
                ]
            )
        result: dict[str, Any] = body
        return result


def media_type_of(content_type: str | None) -> str:
    """`application/json` of `Application/JSON; charset=utf-8`; '' when absent."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(media_type: str) -> bool:
    return media_type == content_types.APPLICATION_JSON or media_type.endswith("+json")


def current_user(app: APIGatewayRestResolver) -> AuthenticatedUser:
    """The caller of the request being resolved."""
    claims = app.current_event.request_context.authorizer.claims
    return user_from_claims(claims)


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body = ErrorBody.model_validate(
        {"statusCode": status, "code": code, "message": message, "errors": errors}
    )
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=body.model_dump_json(exclude_none=True),
        headers=headers,
    )


def describe_validation_errors(errors: Any) -> list[dict[str, str]]:
    """Pydantic's error list as `{field, location, message}`, naming the field."""
    described = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ())]
        where = location[0] if location else "request"
        field = ".".join(location[1:]) or where
        described.append(
            {"field": field, "location": where, "message": str(error.get("msg", ""))}
        )
    return described


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    """Map every failure to a 4xx/5xx with a message a user can act on.

    Validation errors are 400 (the specification's answer for a bad input), not
    Powertools' 422. The last handler catches everything else: an error escaping
    the resolver would become a Lambda error, which API Gateway answers with a
    bodiless 502.
    """

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[str]:
        details = describe_validation_errors(error.errors())
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return error_response(
            HTTPStatus.BAD_REQUEST,
            "VALIDATION_ERROR",
            f"Invalid request: {summary}",
            errors=details,
        )

    @app.exception_handler(SniperError)
    def _domain_error(error: SniperError) -> Response[str]:
        return error_response(
            error.status_code, error.code, error.message, headers=error.headers
        )

    @app.exception_handler([UnicodeDecodeError, json.JSONDecodeError])
    def _unreadable_body(error: Exception) -> Response[str]:
        return error_response(
            HTTPStatus.BAD_REQUEST,
            "BAD_REQUEST",
            UNREADABLE_BODY,
        )

    @app.exception_handler([ClientError, BotoCoreError])
    def _aws_error(error: Exception) -> Response[str]:
        code = ""
        if isinstance(error, ClientError):
            code = str(error.response.get("Error", {}).get("Code", ""))
        logger.exception("AWS call failed", extra={"aws_error_code": code})
        if code in _THROTTLING:
            return error_response(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "SERVICE_UNAVAILABLE",
                "The service is busy; try again in a moment.",
                headers={"Retry-After": "1"},
            )
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            "A storage call failed; try again.",
        )

    @app.exception_handler(ServiceError)
    def _framework_error(error: ServiceError) -> Response[str]:
        """Powertools' own errors (an unknown route or method) in our error body."""
        code = "NOT_FOUND" if error.status_code == HTTPStatus.NOT_FOUND else "ERROR"
        return error_response(error.status_code, code, str(error.msg))

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[str]:
        """The last resort: logged with the correlation id, told without internals."""
        logger.exception("Unexpected error", extra={"error_type": type(error).__name__})
        request_id = app.current_event.request_context.request_id or "unknown"
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            f"Something went wrong on our side; try again. Request id: {request_id}.",
        )
