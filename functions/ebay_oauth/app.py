"""eBay OAuth: link, inspect and unlink the caller's eBay account; and eBay's
account deletion notifications, which eBay itself calls (no Cognito token)."""

import base64
import binascii
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.api import create_resolver, current_user
from sniper.composition import account_deletion_service, ebay_account_service
from sniper.ebay import SIGNATURE_HEADER
from sniper.errors import BadRequestError
from sniper.models.ebay_accounts import (
    AuthUrlResponse,
    EbayAccountStatus,
    OAuthCallbackRequest,
)
from sniper.observability import logger, metrics, tracer
from sniper.services.account_deletion import ChallengeResponse, NoticeOutcome

app = create_resolver()

ACCOUNT_DELETION = "/ebay/notifications/account-deletion"

# Whatever the environment says, X-Ray keeps neither these routes' answers (the
# OAuth state, the linked account) nor their exception objects, whose attributes
# can hold an eBay request with its token.
traced = tracer.capture_method(capture_response=False, capture_error=False)


@app.get("/ebay/auth/url")
@traced
def auth_url() -> AuthUrlResponse:
    return ebay_account_service().start_linking(current_user(app))


@app.post("/ebay/auth/callback")
@traced
def callback(request: OAuthCallbackRequest) -> EbayAccountStatus:
    status = ebay_account_service().complete_linking(
        current_user(app), request.code, request.state
    )
    metrics.add_metric(name="EbayAccountLinked", unit=MetricUnit.Count, value=1)
    return status


@app.delete("/ebay/auth/unlink")
@traced
def unlink() -> Response[None]:
    ebay_account_service().unlink(current_user(app))
    return Response(status_code=204)


@app.get("/ebay/auth/status")
@traced
def status() -> EbayAccountStatus:
    return ebay_account_service().status(current_user(app))


@app.get(ACCOUNT_DELETION)
@traced
def account_deletion_challenge(
    challenge_code: Annotated[
        str,
        Query(
            min_length=1,
            max_length=1024,
            description="eBay's endpoint validation challenge",
        ),
    ],
) -> ChallengeResponse:
    return account_deletion_service().answer_challenge(challenge_code)


@app.post(ACCOUNT_DELETION)
@traced
def account_deletion_notice() -> Response[None]:
    event = app.current_event
    outcome = account_deletion_service().receive(
        raw_body(event.body, event.is_base64_encoded),
        event.headers.get(SIGNATURE_HEADER),
    )
    metrics.add_metric(name="EbayNoticeReceived", unit=MetricUnit.Count, value=1)
    if outcome is NoticeOutcome.DELETED:
        metrics.add_metric(name="EbayLinkDeletedByEbay", unit=MetricUnit.Count, value=1)
    return Response(status_code=204)


def raw_body(body: str | None, is_base64_encoded: bool | None) -> bytes:
    """The request body's bytes as eBay sent them: its signature covers them."""
    if not body:
        return b""
    if not is_base64_encoded:
        # A lone surrogate from the event's JSON stays an invalid byte (then 400).
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error:
        raise BadRequestError("The request body is not valid base64.") from None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_response=False, capture_error=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
