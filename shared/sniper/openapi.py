"""What every route declares in the API document, in one line per route.

The frontend reads docs/openapi.json, never Python: each status a route can answer
is declared here once, with the one error body (`ErrorBody`, which `sniper.api`
sends), so a route's decorator only lists its statuses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.openapi.types import (
    COMPONENT_REF_PREFIX,
    OpenAPIResponse,
    OpenAPIResponseHeader,
)
from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema

from sniper.models.base import Model

if TYPE_CHECKING:
    # Powertools' OpenAPI models cost a cold start ~150 ms: imported only when
    # a document is generated, never to serve a request.
    from aws_lambda_powertools.event_handler.openapi.models import (
        OpenAPI,
        SecurityScheme,
    )


class FieldError(Model):
    """One invalid input of a 400 `VALIDATION_ERROR`."""

    field: str = Field(description="The field, dotted for nested ones: `email`.")
    location: str = Field(
        description="Where it was sent: `body`, `query`, `path` or `header`."
    )
    message: str = Field(description="What is wrong with it, for a person.")


class ErrorBody(Model):
    """The body of every error response, whatever the route or status."""

    statusCode: int = Field(description="The HTTP status, repeated.")
    code: str = Field(
        description="What went wrong, for code: `VALIDATION_ERROR`, `NOT_FOUND`..."
    )
    message: str = Field(description="What went wrong, for a person; safe to show.")
    # Absent rather than null when there are none (sniper.api drops None).
    errors: list[FieldError] | SkipJsonSchema[None] = Field(
        default=None, description="Only for `VALIDATION_ERROR`: each invalid field."
    )


COGNITO = "CognitoIdToken"


def security_schemes() -> dict[str, SecurityScheme]:
    """API Gateway's Cognito user-pool authorizer, as OpenAPI describes it."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    return {
        COGNITO: APIKey(
            name="Authorization",
            **{"in": APIKeyIn.header},
            description=(
                "The Cognito user pool's ID token of the signed-in user, checked "
                "by API Gateway's Cognito authorizer (signature, expiry, issuer, "
                "audience). `Bearer <idToken>` or the bare token."
            ),
            openapi_extensions={"x-amazon-apigateway-authtype": "cognito_user_pools"},
        )
    }


# The requirement of every route behind the Cognito authorizer.
SIGNED_IN: list[dict[str, list[str]]] = [{COGNITO: []}]

# Tags, one per function: the frontend's client groups operations by them.
USERS = "users"
HEALTH = "health"
EBAY_ACCOUNT = "ebay-account"
EBAY_NOTIFICATIONS = "ebay-notifications"
WISHLIST = "wishlist"
BIDS = "bids"
BID_HISTORY = "bid-history"

RETRY_AFTER = "Retry-After"

# What each error status means wherever it occurs; the codes are ErrorBody.code.
ERROR_MEANINGS: dict[int, str] = {
    400: (
        "`VALIDATION_ERROR`: an input is invalid, each one named in `errors[]` "
        "(`field`, `location`, `message`). `BAD_REQUEST`: an unreadable body, or "
        "a request that cannot be honoured as asked; the message says why."
    ),
    401: "`UNAUTHORIZED`: no valid Cognito ID token (API Gateway's authorizer).",
    404: "`NOT_FOUND`: nothing of the caller's has this id.",
    409: "`CONFLICT`: the current state forbids it; the message names the conflict.",
    412: "`PRECONDITION_FAILED`: a precondition of the request failed.",
    415: (
        "`UNSUPPORTED_MEDIA_TYPE`: the body was sent as another type than "
        "`application/json`."
    ),
    429: "`THROTTLED`: API Gateway's throttling; retry with back-off.",
    500: (
        "`INTERNAL_ERROR`: something failed on our side; the message carries the "
        "request id to quote, never internals."
    ),
    502: "`UPSTREAM_ERROR`: eBay failed; try again later.",
    503: (
        "`SERVICE_UNAVAILABLE`: storage is busy (throttled); retry after "
        "`Retry-After` seconds."
    ),
    504: "A dependency did not answer in time.",
}
RETRY_AFTER_HEADER: OpenAPIResponseHeader = {
    "description": "Seconds to wait before trying again.",
    "schema": {"type": "integer", "minimum": 1},
}


@dataclass(frozen=True)
class Failure:
    """One reason a route answers `status`, beyond (or instead of) its meaning."""

    status: int
    meaning: str


# The gateway's own answers (template.yaml GatewayResponses), on every route.
GATEWAY_ERROR = Failure(
    502,
    "`GATEWAY_ERROR`: API Gateway got no valid answer from the function; try again.",
)
GATEWAY_TIMEOUT = Failure(
    504,
    "`GATEWAY_TIMEOUT`: no answer within API Gateway's 29 s. A change may still "
    "have happened: read before you send it again.",
)
# A body route (one that declares 415) can also be too large for API Gateway.
TOO_LARGE = Failure(
    413, "`REQUEST_TOO_LARGE`: the body is larger than the 10 MB API Gateway accepts."
)
# Every route behind API Gateway can answer these, whatever it declares.
ALWAYS: tuple[int | Failure, ...] = (429, 500, GATEWAY_ERROR, GATEWAY_TIMEOUT)

ACCOUNT_DELETED = Failure(
    401,
    "`ACCOUNT_DELETED`: the account was deleted while the token was still valid.",
)
EBAY_LINK_NEEDED = Failure(
    401,
    "`EBAY_NOT_LINKED`: no eBay account is linked. `EBAY_RELINK_REQUIRED`: eBay "
    "no longer accepts the link; link the account again.",
)
EBAY_NOT_CONFIGURED = Failure(
    503, "`SERVICE_UNAVAILABLE` also when the eBay integration is not configured."
)
# What eBay's failures become (sniper.services.ebay_failures), on every route
# that calls eBay.
EBAY_FAILURES: tuple[int | Failure, ...] = (
    Failure(
        502,
        "`UPSTREAM_ERROR`: eBay refused the call. `EBAY_UNAVAILABLE`: eBay "
        "answered with a server error. `EBAY_UNREACHABLE`: eBay could not be "
        "reached. Each may pass: try again in a moment.",
    ),
    503,
    Failure(
        503, "`EBAY_RATE_LIMITED`: eBay's call limit was reached, until `Retry-After`."
    ),
    EBAY_NOT_CONFIGURED,
    Failure(504, "`EBAY_TIMEOUT`: eBay did not answer in time; try again."),
)


def error_responses(*failures: int | Failure) -> dict[int, OpenAPIResponse]:
    """The error answers of a route, each with the ErrorBody schema.

    An `int` stands for its general meaning (`ERROR_MEANINGS`), a `Failure` adds
    what the status also means on this route; a `Failure` alone replaces the
    general meaning. 429, 500 and the gateway's 502 and 504 are always added: API
    Gateway throttles and times out every route and the last-resort handler can
    answer on any; a body route (415) also gets 413. A 503 carries `Retry-After`.
    """
    meanings: dict[int, list[str]] = {}
    extra = (TOO_LARGE,) if 415 in failures else ()
    for failure in (*failures, *extra, *ALWAYS):
        if isinstance(failure, int):
            status, meaning = failure, ERROR_MEANINGS[failure]
        else:
            status, meaning = failure.status, failure.meaning
        said = meanings.setdefault(status, [])
        if meaning not in said:
            said.append(meaning)

    responses: dict[int, OpenAPIResponse] = {}
    for status in sorted(meanings):
        response: OpenAPIResponse = {
            "description": " ".join(
                [f"{HTTPStatus(status).phrase}.", *meanings[status]]
            ),
            "content": {content_types.APPLICATION_JSON: {"model": ErrorBody}},
        }
        if status == HTTPStatus.SERVICE_UNAVAILABLE:
            response["headers"] = {RETRY_AFTER: RETRY_AFTER_HEADER}
        responses[status] = response
    return responses


def ok(description: str) -> dict[int, OpenAPIResponse]:
    """A 200 whose JSON body is the route's return model."""
    return {HTTPStatus.OK: {"description": description}}


def created(
    description: str, model: type[BaseModel], *, location: str
) -> dict[int, OpenAPIResponse]:
    """A 201 with `model` as its body and the new resource's `Location`."""
    return {
        HTTPStatus.CREATED: {
            "description": description,
            "headers": {
                "Location": {"description": location, "schema": {"type": "string"}}
            },
            "content": {content_types.APPLICATION_JSON: {"model": model}},
        }
    }


def no_content(description: str) -> dict[int, OpenAPIResponse]:
    """A 204: no body at all (the document drops the content Powertools infers)."""
    return {HTTPStatus.NO_CONTENT: {"description": description}}


# Powertools' own error schemas: never sent by this API (validation is a 400
# ErrorBody; a response failing its model is a 500 ErrorBody).
# In this order: the first two refer to the third.
POWERTOOLS_ERROR_SCHEMAS = (
    "HTTPValidationError",
    "ResponseValidationError",
    "ValidationError",
)
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def as_answered(document: OpenAPI) -> OpenAPI:
    """A resolver's document, corrected to what the API really answers.

    Powertools documents a 422 `HTTPValidationError` on every validated route,
    but `sniper.api` answers invalid input with a 400 `ErrorBody` (each route
    declares it): the 422 goes, and so do Powertools' error schemas nothing
    refers to any more. A 204 has no content (RFC 9110), whatever Powertools
    infers from the handler's return type.
    """
    from aws_lambda_powertools.event_handler.openapi.models import Response

    for path_item in (document.paths or {}).values():
        for method in METHODS:
            operation = getattr(path_item, method, None)
            if operation is None or not operation.responses:
                continue
            if _is_powertools_422(operation.responses.get(422)):
                del operation.responses[422]
            no_content = operation.responses.get(HTTPStatus.NO_CONTENT)
            if isinstance(no_content, Response):
                no_content.content = None
    schemas = document.components.schemas if document.components else None
    for name in POWERTOOLS_ERROR_SCHEMAS:
        if schemas is not None and not _referred_to(document, name):
            schemas.pop(name, None)
    return document


def _referred_to(document: OpenAPI, schema: str) -> bool:
    """Whether anything but `schema` itself refers to `schema`."""
    data = document.model_dump(mode="json", by_alias=True, exclude_none=True)
    data.get("components", {}).get("schemas", {}).pop(schema, None)
    return f'"{COMPONENT_REF_PREFIX}{schema}"' in json.dumps(data)


def _is_powertools_422(response: object) -> bool:
    from aws_lambda_powertools.event_handler.openapi.models import Response

    if not isinstance(response, Response) or not response.content:
        return False
    return any(
        media.schema_ is not None
        and getattr(media.schema_, "ref", None)
        == f"{COMPONENT_REF_PREFIX}HTTPValidationError"
        for media in response.content.values()
    )
