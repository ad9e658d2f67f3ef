"""User Management: the caller's profile, preferences and account, plus /health."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from sniper.api import create_resolver, current_user
from sniper.composition import user_service
from sniper.models.users import (
    PreferencesUpdate,
    UpdateUserRequest,
    UserProfileResponse,
)
from sniper.observability import logger, metrics, tracer
from sniper.settings import api_settings

app = create_resolver()


class HealthResponse(BaseModel):
    status: str
    stage: str


@app.get("/health")
def health() -> HealthResponse:
    return HealthResponse(status="ok", stage=api_settings().stage)


@app.get("/users/profile")
@tracer.capture_method
def get_profile() -> UserProfileResponse:
    return user_service().get_profile(current_user(app))


@app.put("/users/profile")
@tracer.capture_method
def update_profile(request: UpdateUserRequest) -> UserProfileResponse:
    return user_service().update_profile(current_user(app), request)


@app.put("/users/preferences")
@tracer.capture_method
def update_preferences(update: PreferencesUpdate) -> UserProfileResponse:
    return user_service().update_preferences(current_user(app), update)


@app.delete("/users/account")
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
