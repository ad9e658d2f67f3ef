"""eBay OAuth: link, inspect and unlink the caller's eBay account; and eBay's
account deletion notifications, which eBay itself calls (no Cognito token)."""

from sniper import init_phase  # first: init runs without GC pauses

# isort: split

import base64
import binascii
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.api import create_resolver, current_user
from sniper.composition_ebay_accounts import (
    account_deletion_service,
    ebay_account_service,
)
from sniper.errors import BadRequestError
from sniper.models.ebay_accounts import (
    AuthUrlResponse,
    ChallengeResponse,
    EbayAccountStatus,
    NoticeOutcome,
    OAuthCallbackRequest,
)
from sniper.observability import logger, metrics, tracer_for
from sniper.openapi import (
    ACCOUNT_DELETED,
    EBAY_ACCOUNT,
    EBAY_FAILURES,
    EBAY_NOT_CONFIGURED,
    EBAY_NOTIFICATIONS,
    SIGNED_IN,
    Failure,
    error_responses,
    no_content,
    ok,
)

tracer = tracer_for("botocore", "httpx")
app = create_resolver()

ACCOUNT_DELETION = "/ebay/notifications/account-deletion"

# Whatever the environment says, X-Ray keeps neither these routes' answers (the
# OAuth state, the linked account) nor their exception objects, whose attributes
# can hold an eBay request with its token.
traced = tracer.capture_method(capture_response=False, capture_error=False)


@app.get(
    "/ebay/auth/url",
    summary="Start linking an eBay account",
    description=(
        "eBay's consent page (bidding, identity and public scopes) to send the "
        "browser to. The `state` is random, single-use, bound to the caller and "
        "valid 10 minutes; eBay hands it back with the code."
    ),
    tags=[EBAY_ACCOUNT],
    operation_id="getEbayAuthUrl",
    security=SIGNED_IN,
    responses={
        **ok("The consent URL and its state."),
        **error_responses(401, 503, EBAY_NOT_CONFIGURED),
    },
)
@traced
def auth_url() -> AuthUrlResponse:
    return ebay_account_service().start_linking(current_user(app))


@app.post(
    "/ebay/auth/callback",
    summary="Finish linking with the code from eBay's redirect",
    description=(
        "Consumes the state, exchanges the code for tokens, asks eBay who the user "
        "is and stores the tokens encrypted. One eBay account links to one user, "
        "and a user links one eBay account at a time (unlink first)."
    ),
    tags=[EBAY_ACCOUNT],
    operation_id="completeEbayLinking",
    security=SIGNED_IN,
    responses={
        **ok("The linked account."),
        **error_responses(
            400,
            Failure(400, "A bad, reused, expired or foreign `state` is `BAD_REQUEST`."),
            401,
            Failure(401, "`UNAUTHORIZED` also when eBay refused the code."),
            ACCOUNT_DELETED,
            Failure(
                409,
                "`CONFLICT`: the eBay account is linked to another user, or the "
                "caller already links another eBay account (unlink it first).",
            ),
            415,
            *EBAY_FAILURES,
        ),
    },
)
@traced
def callback(request: OAuthCallbackRequest) -> EbayAccountStatus:
    status = ebay_account_service().complete_linking(
        current_user(app), request.code, request.state
    )
    metrics.add_metric(name="EbayAccountLinked", unit=MetricUnit.Count, value=1)
    return status


@app.delete(
    "/ebay/auth/unlink",
    summary="Unlink the caller's eBay account",
    description=(
        "Forgets the tokens, frees the eBay account and cancels the bids that have "
        "not left for eBay. Repeatable."
    ),
    tags=[EBAY_ACCOUNT],
    operation_id="unlinkEbayAccount",
    security=SIGNED_IN,
    responses={
        **no_content("No eBay account is linked any more."),
        **error_responses(
            401,
            Failure(409, "`CONFLICT`: the link changed meanwhile; try again."),
            503,
        ),
    },
)
@traced
def unlink() -> Response[None]:
    ebay_account_service().unlink(current_user(app))
    return Response(status_code=204)


@app.get(
    "/ebay/auth/status",
    summary="Whether an eBay account is linked, and until when",
    description=(
        "`tokenExpiresAt` is when the link dies unless re-linked (about 18 "
        "months); access tokens renew themselves. `needsRelink` once the link "
        "expired or eBay refused it."
    ),
    tags=[EBAY_ACCOUNT],
    operation_id="getEbayAccountStatus",
    security=SIGNED_IN,
    responses={
        **ok("The link's state (`isLinked: false` when there is none)."),
        **error_responses(401, 503),
    },
)
@traced
def status() -> EbayAccountStatus:
    return ebay_account_service().status(current_user(app))


@app.get(
    ACCOUNT_DELETION,
    summary="Answer eBay's endpoint validation challenge",
    description=(
        "eBay calls this (no Cognito token) when the endpoint is registered: the "
        "answer is the hex SHA-256 of the challenge code, the verification token "
        "and the endpoint URL."
    ),
    tags=[EBAY_NOTIFICATIONS],
    operation_id="answerEbayChallenge",
    responses={
        **ok("The challenge's answer."),
        **error_responses(
            400,
            Failure(
                503,
                "`SERVICE_UNAVAILABLE`: the verification token or endpoint URL is "
                "not configured.",
            ),
        ),
    },
)
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


@app.post(
    ACCOUNT_DELETION,
    summary="Receive eBay's marketplace account deletion notice",
    description=(
        "eBay calls this (no Cognito token) with a `MARKETPLACE_ACCOUNT_DELETION` "
        "notice signed in `X-EBAY-SIGNATURE` (ECDSA, the key from eBay's "
        "Notification API). Once verified, the link, tokens and guard of that eBay "
        "user are deleted and their bids that have not left cancelled. Unknown "
        "users, repeats and other topics are acknowledged too."
    ),
    tags=[EBAY_NOTIFICATIONS],
    operation_id="receiveEbayAccountDeletion",
    responses={
        **no_content("The notice is acknowledged."),
        **error_responses(
            Failure(
                400,
                "`BAD_REQUEST`: not a JSON object, or a deletion notice without a "
                "user id.",
            ),
            Failure(
                412,
                "`PRECONDITION_FAILED`: the signature is missing, malformed, wrong "
                "or names a key eBay does not know.",
            ),
            Failure(
                503,
                "`SERVICE_UNAVAILABLE`: storage is busy, or eBay's key cannot be "
                "fetched now; eBay redelivers.",
            ),
        ),
    },
)
@traced
def account_deletion_notice() -> Response[None]:
    event = app.current_event
    service = account_deletion_service()
    outcome = service.receive(
        raw_body(event.body, event.is_base64_encoded),
        event.headers.get(service.signature_header),
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


init_phase.finished()  # last: init is over
