"""What a snipe costs on AWS, from measured invocation durations and request counts.

Prices are us-east-1's list prices for x86 Lambda, EventBridge Scheduler and
DynamoDB on-demand (checked 2025), before any free tier: the free tier is per
account and shared with everything else in it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

LAMBDA_USD_PER_GB_SECOND = 0.0000166667
LAMBDA_USD_PER_REQUEST = 0.20 / 1_000_000
SCHEDULER_USD_PER_INVOCATION = 1.00 / 1_000_000
SCHEDULER_FREE_INVOCATIONS_PER_MONTH = 14_000_000
DYNAMODB_USD_PER_WRITE_UNIT = 0.625 / 1_000_000
DYNAMODB_USD_PER_READ_UNIT = 0.125 / 1_000_000

# The naive design the executor is measured against: the largest memory a sniper
# might pick, held for the whole 300 s timeout.
NAIVE_MEMORY_MB = 1024
NAIVE_SECONDS = 300


def billed_ms(duration_ms: float) -> int:
    """Lambda bills each invocation's duration rounded up to the millisecond."""
    return max(1, math.ceil(duration_ms))


def gb_seconds(billed: float, memory_mb: int) -> float:
    """Compute billed for `billed` milliseconds at `memory_mb` (1 GB = 1024 MB)."""
    return billed / 1000 * memory_mb / 1024


def naive_gb_seconds() -> float:
    return gb_seconds(NAIVE_SECONDS * 1000, NAIVE_MEMORY_MB)


@dataclass(frozen=True)
class SnipeCost:
    """One snipe's billable quantities."""

    executor_billed_ms: float  # every executor invocation of the snipe, summed
    executor_memory_mb: int
    executor_invocations: float
    scheduler_invocations: float = 1.0
    other_gb_seconds: float = 0.0  # other functions' share (notification, ...)
    other_invocations: float = 0.0
    write_units: float = 0.0
    read_units: float = 0.0

    @property
    def executor_gb_seconds(self) -> float:
        return gb_seconds(self.executor_billed_ms, self.executor_memory_mb)

    def usd(self) -> dict[str, float]:
        """Dollars per snipe, by service (Scheduler before its free tier)."""
        lambda_usd = (
            self.executor_gb_seconds + self.other_gb_seconds
        ) * LAMBDA_USD_PER_GB_SECOND + (
            self.executor_invocations + self.other_invocations
        ) * LAMBDA_USD_PER_REQUEST
        return {
            "lambda": lambda_usd,
            "scheduler": self.scheduler_invocations * SCHEDULER_USD_PER_INVOCATION,
            "dynamodb": self.write_units * DYNAMODB_USD_PER_WRITE_UNIT
            + self.read_units * DYNAMODB_USD_PER_READ_UNIT,
        }


def monthly(cost: SnipeCost, snipes: int, *, scheduler_free: bool) -> dict[str, float]:
    """A month of `snipes`: dollars by service and in total. With `scheduler_free`
    the Scheduler's 14 million free invocations cover this much traffic."""
    per_snipe = cost.usd()
    result = {name: usd * snipes for name, usd in per_snipe.items()}
    if scheduler_free:
        used = cost.scheduler_invocations * snipes
        paid = max(0.0, used - SCHEDULER_FREE_INVOCATIONS_PER_MONTH)
        result["scheduler"] = paid * SCHEDULER_USD_PER_INVOCATION
    result["total"] = sum(result.values())
    return result


def sweep_monthly(billed: float, memory_mb: int, per_month: int = 43_200) -> float:
    """Dollars a month for a rule that runs every minute (43,200 times in 30 days),
    `billed` ms each: a fixed cost, whatever the number of snipes."""
    return per_month * (
        gb_seconds(billed, memory_mb) * LAMBDA_USD_PER_GB_SECOND
        + LAMBDA_USD_PER_REQUEST
    )


def production_billed_ms(
    measured_ms: Iterable[float],
    *,
    bench_margin_s: float,
    production_margin_s: float,
    scheduler_late_s: float = 0.0,
) -> float:
    """A snipe's billed time with production's margin: the executor sleeps from
    its wake-up to the target, so a longer margin adds exactly its difference
    (less whatever Scheduler's lateness eats of it)."""
    extra = max(0.0, production_margin_s - scheduler_late_s) - bench_margin_s
    return sum(measured_ms) + extra * 1000
