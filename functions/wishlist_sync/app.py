"""Wishlist Sync: the caller's eBay watch list and live item details."""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.api import create_resolver, current_user
from sniper.composition import wishlist_service
from sniper.models.wishlist import WishlistItemDetails, WishlistResponse
from sniper.observability import logger, metrics, tracer

app = create_resolver()

LEGACY_ITEM_ID = r"^[0-9]{9,19}$"

# X-Ray keeps no exception objects here, whatever the environment says: the
# watch list call's errors can hold a request carrying the user's eBay token.
traced = tracer.capture_method(capture_error=False)


@app.get("/wishlist/items")
@traced
def watch_list(
    auctionsOnly: Annotated[  # noqa: N803 - the query parameter's public name
        bool, Query(description="Only auctions that are still running")
    ] = False,
) -> WishlistResponse:
    return wishlist_service().watch_list(current_user(app), auctions_only=auctionsOnly)


@app.get("/wishlist/items/<itemId>")
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
