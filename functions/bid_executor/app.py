"""Bid Executor: a bid's snipe, woken by its one-time schedule (or a later outcome
check), from the claim to the outcome. The rules are in `sniper.snipe.executor`.

Scheduler invokes it asynchronously with a `BidExecutionEvent`. Each schedule runs
once (Powertools idempotency on bid, kind and attempt; the conditional claim behind
it): a duplicate delivery while the first is still running is a no-op, a later one
gets the first one's answer.
"""

import time
from typing import Any

from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.composition_snipe import execute_once, idempotency_config
from sniper.models.snipe import BidExecutionEvent, BidExecutionResult
from sniper.observability import logger, metrics, tracer

# Seconds kept back from the invocation's timeout for the last writes.
FINISH_SLACK_SECONDS = 10.0


@logger.inject_lambda_context(correlation_id_path="bidId", clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    execution = BidExecutionEvent.model_validate(event)
    logger.append_keys(kind=execution.kind.value, attempt=execution.attempt)
    idempotency_config().register_lambda_context(context)
    remaining = context.get_remaining_time_in_millis() / 1000
    finish_by = None
    if remaining > 0:
        finish_by = time.time() + remaining - FINISH_SLACK_SECONDS
    try:
        result: BidExecutionResult = execute_once()(
            event=execution, finish_by=finish_by
        )
    except IdempotencyAlreadyInProgressError:
        logger.info("Another invocation is running this schedule; nothing to do")
        result = BidExecutionResult(
            bidId=execution.bidId,
            bidPlaced=False,
            skipped="another invocation is running this schedule",
        )
    return result.model_dump(mode="json", exclude_none=True)
