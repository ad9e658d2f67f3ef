"""Bid Management: create, list, read, edit and cancel the caller's bids."""

from sniper import init_phase  # first: init runs without GC pauses

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.api import create_resolver, current_user
from sniper.composition_bids import bid_service
from sniper.errors import BadRequestError
from sniper.models.bids import (
    BidListResponse,
    BidResponse,
    CreateBidRequest,
    UpdateBidRequest,
)
from sniper.models.pages import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from sniper.models.statuses import BidStatus
from sniper.observability import logger, metrics, tracer_for
from sniper.openapi import (
    BIDS,
    EBAY_FAILURES,
    EBAY_LINK_NEEDED,
    SIGNED_IN,
    Failure,
    created,
    error_responses,
    no_content,
    ok,
)
from sniper.pagination import MAX_CURSOR_LENGTH

tracer = tracer_for("botocore", "httpx")
app = create_resolver()

BID_ID = r"^[A-Za-z0-9_-]{1,64}$"
STATUSES = ", ".join(status.value for status in BidStatus)


@app.post(
    "/bids",
    summary="Snipe an auction: schedule a secret maximum bid",
    description=(
        "Reads the live item: it must be an auction ending later than the lead "
        "plus the scheduling margin, and the maximum must reach eBay's minimum "
        "next bid. The bid goes out `snipeLeadSeconds` before the end (default: "
        "the user's preference, else 5)."
    ),
    tags=[BIDS],
    operation_id="createBid",
    security=SIGNED_IN,
    responses={
        **created(
            "The scheduled bid.", BidResponse, location="The new bid: `/bids/{bidId}`"
        ),
        **error_responses(
            400,
            Failure(
                400,
                "`BAD_REQUEST`: not an auction, ending too soon to schedule, or a "
                "maximum below eBay's minimum next bid (named, in the item's "
                "currency).",
            ),
            401,
            EBAY_LINK_NEEDED,
            Failure(404, "`NOT_FOUND`: the auction ended or eBay has no such item."),
            Failure(409, "`CONFLICT`: an active bid on this item exists (named)."),
            415,
            *EBAY_FAILURES,
        ),
    },
)
@tracer.capture_method
def create_bid(request: CreateBidRequest) -> Response[str]:
    bid = bid_service().create(current_user(app), request)
    metrics.add_metric(name="BidCreated", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=bid.model_dump_json(),
        headers={"Location": f"/bids/{bid.bidId}"},
    )


@app.get(
    "/bids",
    summary="List the caller's bids",
    description=(
        "Without `status`: the active bids (PENDING, EXECUTING, PLACED), "
        "soonest-ending first; with it, the bids in those statuses, finished ones "
        "included. Pages of `limit`; pass `nextCursor` back as `cursor`."
    ),
    tags=[BIDS],
    operation_id="listBids",
    security=SIGNED_IN,
    responses={
        **ok("One page of bids."),
        **error_responses(
            400,
            Failure(
                400,
                "`BAD_REQUEST`: an unknown status, or a tampered, foreign or "
                "other query's cursor.",
            ),
            401,
            503,
        ),
    },
)
@tracer.capture_method
def list_bids(
    status: Annotated[
        list[str] | None,
        Query(
            description=(
                "Only bids in these statuses (repeat it, or comma-separate): "
                f"{STATUSES}. Without it: the active bids (PENDING, EXECUTING, "
                "PLACED), soonest-ending first."
            )
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: Annotated[
        str | None,
        Query(max_length=MAX_CURSOR_LENGTH, description="nextCursor of the last page"),
    ] = None,
) -> BidListResponse:
    return bid_service().list(current_user(app), statuses_of(status), limit, cursor)


@app.get(
    "/bids/<bidId>",
    summary="Read one of the caller's bids",
    description=(
        "With its timing: `targetTime` (end minus lead), `scheduledFor` and, once "
        "sent, `sentAt`, `ebayAnsweredAt`, `latenessMs`; `reason` for FAILED and "
        "LOST."
    ),
    tags=[BIDS],
    operation_id="getBid",
    security=SIGNED_IN,
    responses={
        **ok("The bid."),
        **error_responses(400, 401, 404, 503),
    },
)
@tracer.capture_method
def get_bid(
    bidId: Annotated[str, Path(pattern=BID_ID)],  # noqa: N803 - the public name
) -> BidResponse:
    return bid_service().get(current_user(app), bidId)


@app.put(
    "/bids/<bidId>",
    summary="Change a bid's maximum and/or lead",
    description=(
        "Accepted until the executor commits to send, seconds before the end; a "
        "new maximum is checked against the live item again, a new lead moves the "
        "schedule. An acknowledged change is what eBay gets."
    ),
    tags=[BIDS],
    operation_id="updateBid",
    security=SIGNED_IN,
    responses={
        **ok("The changed bid."),
        **error_responses(
            400,
            401,
            404,
            Failure(
                409,
                "`CONFLICT`: the bid left for eBay (with when) or is finished "
                "(with its status).",
            ),
            415,
            *EBAY_FAILURES,
        ),
    },
)
@tracer.capture_method
def update_bid(
    bidId: Annotated[str, Path(pattern=BID_ID)],  # noqa: N803 - the public name
    request: UpdateBidRequest,
) -> BidResponse:
    return bid_service().update(current_user(app), bidId, request)


@app.delete(
    "/bids/<bidId>",
    summary="Cancel a bid",
    description=(
        "Deletes its schedule. Accepted until the executor commits to send; an "
        "acknowledged cancel means no bid reaches eBay."
    ),
    tags=[BIDS],
    operation_id="cancelBid",
    security=SIGNED_IN,
    responses={
        **no_content("The bid is cancelled."),
        **error_responses(
            400,
            401,
            404,
            Failure(
                409,
                "`CONFLICT`: the bid left for eBay (with when) or is finished "
                "(with its status).",
            ),
            503,
        ),
    },
)
@tracer.capture_method
def cancel_bid(
    bidId: Annotated[str, Path(pattern=BID_ID)],  # noqa: N803 - the public name
) -> Response[None]:
    bid_service().cancel(current_user(app), bidId)
    metrics.add_metric(name="BidCancelled", unit=MetricUnit.Count, value=1)
    return Response(status_code=204)


def statuses_of(raw: list[str] | None) -> list[BidStatus]:
    """`?status=WON&status=LOST` or `?status=WON,LOST`; unknown names are a 400."""
    names = [part.strip().upper() for value in raw or [] for part in value.split(",")]
    wanted = [name for name in names if name]
    unknown = sorted({name for name in wanted if name not in BidStatus.__members__})
    if unknown:
        shown = ", ".join(name[:20] for name in unknown[:5])
        raise BadRequestError(f"Unknown status {shown}; use one of {STATUSES}.")
    return [BidStatus(name) for name in wanted]


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


init_phase.finished()  # last: init is over
