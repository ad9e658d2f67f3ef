"""The Bid Executor's service, its idempotency and the sweeper, built once per
container on first use (importing the handler needs neither AWS nor an environment
variable).

Each builder imports its own parts: a container loads the snipe's modules (the
executor, the eBay client, the bid repository) with its first snipe or outcome
check, and the sweeper's with its first sweep, so a container that only ever
sweeps never loads the eBay client.

Tests call `reset()` beside `composition.reset()` and `composition_bids.reset()`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING

from sniper.settings import MissingSettingError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    from sniper.models.snipe import BidExecutionResult
    from sniper.snipe.executor import SnipeExecutor
    from sniper.snipe.sweeper import Sweeper

IDEMPOTENCY_VARIABLE = "IDEMPOTENCY_TABLE"
# One run per schedule: a snipe, or the n-th outcome check, of one bid; a run the
# sweeper starts adds the version its repair wrote (`repair`), so a dead run's
# record cannot block it. Without `repair` the key is the list it always was, so
# records written before the sweeper existed still match.
IDEMPOTENCY_KEY = "[bidId, kind, attempt, repair] | [?@ != `null`]"
# Longer than Lambda's async retries and Scheduler's delivery window; after it the
# conditional claim alone still refuses a second snipe.
IDEMPOTENCY_SECONDS = 86_400


def idempotency_table() -> str:
    value = os.environ.get(IDEMPOTENCY_VARIABLE, "").strip()
    if not value:
        raise MissingSettingError(IDEMPOTENCY_VARIABLE, "the Idempotency table")
    return value


@cache
def snipe_executor() -> SnipeExecutor:
    from sniper import composition, composition_bids
    from sniper.notify import LambdaNotifier
    from sniper.snipe.executor import SnipeExecutor
    from sniper.snipe.scheduling import SnipeScheduler
    from sniper.snipe.timing import snipe_timing

    timing = snipe_timing()
    return SnipeExecutor(
        bids=composition_bids.bid_repository(),
        tokens=composition.user_tokens(),
        ebay=composition.ebay_client(),
        schedules=SnipeScheduler(timing),
        notifier=LambdaNotifier(),
        timing=timing,
    )


@cache
def sweeper() -> Sweeper:
    from sniper import composition_bids
    from sniper.notify import LambdaNotifier
    from sniper.snipe.scheduling import SnipeScheduler
    from sniper.snipe.sweeper import LambdaExecutions, Sweeper, SweepSettings
    from sniper.snipe.timing import snipe_timing

    timing = snipe_timing()
    return Sweeper(
        bids=composition_bids.bid_repository(),
        schedules=SnipeScheduler(timing),
        executions=LambdaExecutions(),
        notifier=LambdaNotifier(),
        timing=timing,
        settings=SweepSettings.from_environ(),
    )


@cache
def idempotency_config() -> IdempotencyConfig:
    """One config per container; the handler registers each invocation's context
    on it, so a run in progress is known as such until its own timeout."""
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    return IdempotencyConfig(
        event_key_jmespath=IDEMPOTENCY_KEY,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_SECONDS,
    )


@cache
def execute_once() -> Callable[..., BidExecutionResult]:
    """`SnipeExecutor.execute` behind Powertools idempotency; call it with
    keyword arguments (`event=...`)."""
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        idempotent_function,
    )
    from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import (
        PydanticSerializer,
    )

    from sniper import aws
    from sniper.models.snipe import BidExecutionResult

    persistence = DynamoDBPersistenceLayer(
        table_name=idempotency_table(), boto3_client=aws.dynamodb_client()
    )
    run: Callable[..., BidExecutionResult] = idempotent_function(
        snipe_executor().execute,
        data_keyword_argument="event",
        persistence_store=persistence,
        config=idempotency_config(),
        output_serializer=PydanticSerializer(BidExecutionResult),
    )
    return run


def another_run_holds(error: BaseException) -> bool:
    """Whether `error` is Powertools' answer to a duplicate delivery while the first
    run is still going. Imported here, once `execute_once()` has loaded it: at
    init the idempotency package would load boto3 and its persistence layers."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    return isinstance(error, IdempotencyAlreadyInProgressError)


def reset() -> None:
    """Forget every built object; tests rebuild them against a fresh mock."""
    for builder in (snipe_executor, sweeper, idempotency_config, execute_once):
        builder.cache_clear()
