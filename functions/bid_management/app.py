"""Bid Management: create, list, read, edit and cancel the caller's bids."""

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
    BidStatus,
    CreateBidRequest,
    UpdateBidRequest,
)
from sniper.observability import logger, metrics, tracer
from sniper.pagination import MAX_CURSOR_LENGTH
from sniper.services.bids import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

app = create_resolver()

BID_ID = r"^[A-Za-z0-9_-]{1,64}$"
STATUSES = ", ".join(status.value for status in BidStatus)


@app.post("/bids")
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


@app.get("/bids")
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


@app.get("/bids/<bidId>")
@tracer.capture_method
def get_bid(
    bidId: Annotated[str, Path(pattern=BID_ID)],  # noqa: N803 - the public name
) -> BidResponse:
    return bid_service().get(current_user(app), bidId)


@app.put("/bids/<bidId>")
@tracer.capture_method
def update_bid(
    bidId: Annotated[str, Path(pattern=BID_ID)],  # noqa: N803 - the public name
    request: UpdateBidRequest,
) -> BidResponse:
    return bid_service().update(current_user(app), bidId, request)


@app.delete("/bids/<bidId>")
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
