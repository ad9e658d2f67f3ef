"""eBay OAuth: link, inspect and unlink the caller's eBay account."""

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.api import create_resolver, current_user
from sniper.composition import ebay_account_service
from sniper.models.ebay_accounts import (
    AuthUrlResponse,
    EbayAccountStatus,
    OAuthCallbackRequest,
)
from sniper.observability import logger, metrics, tracer

app = create_resolver()


@app.get("/ebay/auth/url")
@tracer.capture_method
def auth_url() -> AuthUrlResponse:
    return ebay_account_service().start_linking(current_user(app))


@app.post("/ebay/auth/callback")
@tracer.capture_method
def callback(request: OAuthCallbackRequest) -> EbayAccountStatus:
    status = ebay_account_service().complete_linking(
        current_user(app), request.code, request.state
    )
    metrics.add_metric(name="EbayAccountLinked", unit=MetricUnit.Count, value=1)
    return status


@app.delete("/ebay/auth/unlink")
@tracer.capture_method
def unlink() -> Response[None]:
    ebay_account_service().unlink(current_user(app))
    return Response(status_code=204)


@app.get("/ebay/auth/status")
@tracer.capture_method
def status() -> EbayAccountStatus:
    return ebay_account_service().status(current_user(app))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
