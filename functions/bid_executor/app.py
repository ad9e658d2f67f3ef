"""Bid Executor: a bid's snipe, woken by its one-time schedule (or a later outcome
check), from the claim to the outcome. The rules are in `sniper.snipe.executor`.

Scheduler invokes it asynchronously with a `BidExecutionEvent`. Each schedule runs
once (Powertools idempotency on bid, kind and attempt; the conditional claim behind
it): a duplicate delivery while the first is still running is a no-op, a later one
gets the first one's answer.

The sweep rule (every minute, `{"sweep": true}`) wakes the same function for the
safety net, `sniper.snipe.sweeper`: it needs the executor's permissions, settings
and timeout anyway, so the template keeps its eight functions.
"""

from sniper import init_phase  # first: init runs without GC pauses

# isort: split

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.composition_snipe import (
    another_run_holds,
    execute_once,
    idempotency_config,
    sweeper,
)
from sniper.models.snipe import BidExecutionEvent, BidExecutionResult, is_sweep
from sniper.observability import logger, metrics, tracer_for

tracer = tracer_for("botocore", "httpx")

# Seconds kept back from the invocation's timeout for the last writes.
FINISH_SLACK_SECONDS = 10.0


@logger.inject_lambda_context(correlation_id_path="bidId", clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    finish_by = _finish_by(context)
    if is_sweep(event):
        return sweeper().sweep(finish_by=finish_by).model_dump(mode="json")
    execution = BidExecutionEvent.model_validate(event)
    logger.append_keys(kind=execution.kind.value, attempt=execution.attempt)
    if execution.repair is not None:
        logger.append_keys(repair=execution.repair)
    idempotency_config().register_lambda_context(context)
    try:
        result: BidExecutionResult = execute_once()(
            event=execution, finish_by=finish_by
        )
    except Exception as error:
        if not another_run_holds(error):
            raise
        logger.info("Another invocation is running this schedule; nothing to do")
        result = BidExecutionResult(
            bidId=execution.bidId,
            bidPlaced=False,
            skipped="another invocation is running this schedule",
        )
    return result.model_dump(mode="json", exclude_none=True)


def _finish_by(context: LambdaContext) -> float | None:
    """When this invocation must be done (our clock), its timeout less the slack."""
    remaining = context.get_remaining_time_in_millis() / 1000
    if remaining <= 0:
        return None
    return time.time() + remaining - FINISH_SLACK_SECONDS


init_phase.finished()  # last: init is over
