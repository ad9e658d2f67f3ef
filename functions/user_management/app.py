"""User Management: the caller's profile, preferences and account, plus /health."""

from sniper import init_phase  # first: init runs without GC pauses

# isort: split

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from sniper.api import create_resolver, current_user
from sniper.composition_users import user_service
from sniper.models.base import Model
from sniper.models.users import (
    PreferencesUpdate,
    UpdateUserRequest,
    UserProfileResponse,
)
from sniper.observability import logger, metrics, tracer_for
from sniper.openapi import (
    ACCOUNT_DELETED,
    HEALTH,
    SIGNED_IN,
    USERS,
    Failure,
    error_responses,
    no_content,
    ok,
)
from sniper.settings import api_settings

tracer = tracer_for("botocore")
app = create_resolver()


class HealthResponse(Model):
    """The API answers, and from which stage."""

    status: str = Field(description="`ok` whenever the API answers.")
    stage: str = Field(description="The deployed stage: `dev`, `prod`, `local`...")


@app.get(
    "/health",
    summary="Check that the API is up",
    description="No token needed; touches no storage.",
    tags=[HEALTH],
    operation_id="getHealth",
    responses={**ok("The API is up."), **error_responses()},
)
def health() -> HealthResponse:
    return HealthResponse(status="ok", stage=api_settings().stage)


@app.get(
    "/users/profile",
    summary="Read the caller's profile",
    description=(
        "Created from the token's claims (`email`, `email_verified`) on the first "
        "call. Claims the token's verified email for an unverified profile when "
        "no other account holds it."
    ),
    tags=[USERS],
    operation_id="getProfile",
    security=SIGNED_IN,
    responses={
        **ok("The profile, with `emailVerified` and complete preferences."),
        **error_responses(
            401,
            ACCOUNT_DELETED,
            Failure(404, "`NOT_FOUND`: no profile yet, and the token has no email."),
            Failure(409, "`CONFLICT`: another account holds the token's email."),
            503,
        ),
    },
)
@tracer.capture_method
def get_profile() -> UserProfileResponse:
    return user_service().get_profile(current_user(app))


@app.put(
    "/users/profile",
    summary="Change the caller's email and/or preferences",
    description=(
        "A new email claims the address only when it is the one the identity "
        "provider verified for the caller; any other is stored unverified "
        "(`emailVerified: false`) and no email is sent to it. Emails with control "
        "or invisible characters are refused."
    ),
    tags=[USERS],
    operation_id="updateProfile",
    security=SIGNED_IN,
    responses={
        **ok("The changed profile."),
        **error_responses(
            400,
            401,
            ACCOUNT_DELETED,
            404,
            Failure(409, "`CONFLICT`: the verified email belongs to another user."),
            415,
            503,
        ),
    },
)
@tracer.capture_method
def update_profile(request: UpdateUserRequest) -> UserProfileResponse:
    return user_service().update_profile(current_user(app), request)


@app.put(
    "/users/preferences",
    summary="Change some of the caller's preferences",
    description="Only the fields sent change; the others keep their values.",
    tags=[USERS],
    operation_id="updatePreferences",
    security=SIGNED_IN,
    responses={
        **ok("The profile with the changed preferences."),
        **error_responses(400, 401, ACCOUNT_DELETED, 404, 409, 415, 503),
    },
)
@tracer.capture_method
def update_preferences(update: PreferencesUpdate) -> UserProfileResponse:
    return user_service().update_preferences(current_user(app), update)


@app.delete(
    "/users/account",
    summary="Delete the caller's account and all their data",
    description=(
        "Cancels the bids that have not left for eBay, erases every item the user "
        "owns in every table (eBay tokens included) and deletes the Cognito user. "
        "Repeatable; the token stops working (`ACCOUNT_DELETED`)."
    ),
    tags=[USERS],
    operation_id="deleteAccount",
    security=SIGNED_IN,
    responses={
        **no_content("The account and its data are gone."),
        **error_responses(401, 503),
    },
)
@tracer.capture_method
def delete_account() -> Response[None]:
    user_service().delete_account(current_user(app))
    metrics.add_metric(name="AccountDeleted", unit=MetricUnit.Count, value=1)
    logger.info("Account deleted")
    return Response(status_code=204)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


init_phase.finished()  # last: init is over
