"""Bid History: the caller's bid history, newest first, and one bid's timeline."""

from sniper import init_phase  # first: init runs without GC pauses

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.api import create_resolver, current_user
from sniper.composition_bids import bid_history_service
from sniper.models.history import (
    MAX_HISTORY_TIMESTAMP,
    BidHistoryResponse,
    HistoryQuery,
)
from sniper.models.pages import DEFAULT_PAGE_SIZE, EBAY_ITEM_ID_PATTERN, MAX_PAGE_SIZE
from sniper.models.statuses import HistoryAction
from sniper.observability import logger, metrics, tracer_for
from sniper.openapi import BID_HISTORY, SIGNED_IN, Failure, error_responses, ok
from sniper.pagination import MAX_CURSOR_LENGTH

tracer = tracer_for("botocore")
app = create_resolver()

BID_ID = r"^[A-Za-z0-9_-]{1,64}$"


@app.get(
    "/bid-history",
    summary="The caller's bid history, newest first",
    description=(
        "Entries CREATE, UPDATE, CANCEL, PLACE, WIN, LOSE, FAIL, filtered by "
        "`action`, `ebayItemId` and a time range. Pages of `limit`; pass "
        "`nextCursor` back as `cursor`."
    ),
    tags=[BID_HISTORY],
    operation_id="listBidHistory",
    security=SIGNED_IN,
    responses={
        **ok("One page of history entries."),
        **error_responses(
            400,
            Failure(
                400,
                "`BAD_REQUEST`: `from` after `to`, or a tampered, foreign or other "
                "query's cursor.",
            ),
            401,
            503,
        ),
    },
)
@tracer.capture_method
def history(
    action: Annotated[
        HistoryAction | None, Query(description="Only entries of this action")
    ] = None,
    ebayItemId: Annotated[  # noqa: N803 - the query parameter's public name
        str | None,
        Query(pattern=EBAY_ITEM_ID_PATTERN, description="Only this eBay item"),
    ] = None,
    from_: Annotated[
        int | None,
        Query(
            alias="from",
            ge=0,
            le=MAX_HISTORY_TIMESTAMP,
            description="Unix seconds, incl.",
        ),
    ] = None,
    to: Annotated[
        int | None,
        Query(ge=0, le=MAX_HISTORY_TIMESTAMP, description="Unix seconds, incl."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_LENGTH, description="nextCursor of the last page"),
    ] = None,
) -> BidHistoryResponse:
    query = HistoryQuery(
        action=action,
        ebay_item_id=ebayItemId,
        from_ts=from_,
        to_ts=to,
        limit=limit,
        cursor=cursor,
    )
    return bid_history_service().history_of(current_user(app), query)


@app.get(
    "/bid-history/<bidId>",
    summary="One bid's whole timeline, oldest first",
    description="Every history entry of one of the caller's bids, in one page.",
    tags=[BID_HISTORY],
    operation_id="getBidTimeline",
    security=SIGNED_IN,
    responses={
        **ok("The bid's entries."),
        **error_responses(400, 401, 404, 503),
    },
)
@tracer.capture_method
def timeline(
    bidId: Annotated[  # noqa: N803 - the path parameter's public name
        str, Path(pattern=BID_ID, description="The bid's id")
    ],
) -> BidHistoryResponse:
    return bid_history_service().timeline(current_user(app), bidId)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


init_phase.finished()  # last: init is over
