"""Wishlist Sync: the caller's eBay watch list and live item details."""

from sniper import init_phase  # first: init runs without GC pauses

# isort: split

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.api import create_resolver, current_user
from sniper.composition_wishlist import wishlist_service
from sniper.models.wishlist import WishlistItemDetails, WishlistResponse
from sniper.observability import logger, metrics, tracer_for
from sniper.openapi import (
    EBAY_FAILURES,
    EBAY_LINK_NEEDED,
    SIGNED_IN,
    WISHLIST,
    Failure,
    error_responses,
    ok,
)

tracer = tracer_for("botocore", "httpx")
app = create_resolver()

LEGACY_ITEM_ID = r"^[0-9]{9,19}$"

# X-Ray keeps no exception objects here, whatever the environment says: the
# watch list call's errors can hold a request carrying the user's eBay token.
traced = tracer.capture_method(capture_error=False)


@app.get(
    "/wishlist/items",
    summary="The caller's eBay watch list",
    description=(
        "Every page of the linked eBay account's watch list, read live from eBay: "
        "prices in cents, end times in Unix seconds, `isAuctionActive`."
    ),
    tags=[WISHLIST],
    operation_id="getWatchList",
    security=SIGNED_IN,
    responses={
        **ok("The watch list."),
        **error_responses(400, 401, EBAY_LINK_NEEDED, *EBAY_FAILURES),
    },
)
@traced
def watch_list(
    auctionsOnly: Annotated[  # noqa: N803 - the query parameter's public name
        bool, Query(description="Only auctions that are still running")
    ] = False,
) -> WishlistResponse:
    return wishlist_service().watch_list(current_user(app), auctions_only=auctionsOnly)


@app.get(
    "/wishlist/items/<itemId>",
    summary="One eBay item's live details",
    description=(
        "From eBay's Browse API: the minimum next bid, bid count, whether the "
        "reserve is met. Needs a linked eBay account, like the watch list."
    ),
    tags=[WISHLIST],
    operation_id="getWishlistItem",
    security=SIGNED_IN,
    responses={
        **ok("The item as eBay shows it now."),
        **error_responses(
            400,
            401,
            EBAY_LINK_NEEDED,
            Failure(404, "`NOT_FOUND`: eBay has no such live item."),
            *EBAY_FAILURES,
        ),
    },
)
@traced
def item(
    itemId: Annotated[  # noqa: N803 - the path parameter's public name
        str, Path(pattern=LEGACY_ITEM_ID, description="eBay's numeric item id")
    ],
) -> WishlistItemDetails:
    return wishlist_service().item(current_user(app), itemId)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler(capture_error=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)


init_phase.finished()  # last: init is over
