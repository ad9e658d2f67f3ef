"""The snipe benchmark's arithmetic: percentiles, REPORT lines, where lateness goes,
DynamoDB request units, and what a snipe costs. A wrong figure here would be
published in docs/benchmarks.md and the README as if measured."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import pytest

from bench import cost
from bench.snipe_docs import cost_markdown, precision_markdown
from bench.snipe_load import (
    DynamoCall,
    Landing,
    bid_key_id,
    capacity_units,
    classify,
    growth,
    item_size,
    lateness_figures,
    log_moments,
    parse_reports,
    percentile,
    request_ids_logging,
    summary,
)


# ---------------------------------------------------------------- statistics
def test_percentiles_interpolate_between_ranks() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile(values, 0) == 1
    assert percentile(values, 100) == 100
    assert percentile([7.0], 99) == 7


def test_percentile_of_unsorted_values_and_bad_input() -> None:
    assert percentile([30.0, 10.0, 20.0], 50) == 20
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="within 0 and 100"):
        percentile([1.0], 101)


def test_p99_of_fifty_is_not_simply_the_maximum() -> None:
    values = [0.0] * 49 + [100.0]
    assert percentile(values, 99) == pytest.approx(51.0)


def test_summary_rounds_and_counts() -> None:
    figures = summary([1.0, 2.0, 3.0, 4.0])
    assert figures == {
        "count": 4,
        "min": 1.0,
        "p50": 2.5,
        "p90": 3.7,
        "p99": 4.0,
        "max": 4.0,
        "mean": 2.5,
    }
    assert summary([])["count"] == 0
    assert summary([])["p99"] is None


def test_growth_is_the_exponent_between_sizes() -> None:
    exponents = growth({50: 10.0, 200: 40.0, 500: 40.0})
    assert exponents == {"50->200": 1.0, "200->500": 0.0}
    assert growth({50: 0.0, 200: 5.0}) == {"50->200": None}
    assert growth({50: 3.0}) == {}


# ---------------------------------------------------------------- REPORT lines
REPORTS = """\
BidExecutorFunction#12 | START RequestId: a Version: $LATEST
BidExecutorFunction#12 | REPORT RequestId: a\tDuration: 25036.31 ms\tBilled \
Duration: 25037 ms\tMemory Size: 256 MB\tMax Memory Used: 83 MB
BidExecutorFunction    | REPORT RequestId: b\tDuration: 592.90 ms\tBilled \
Duration: 593 ms\tMemory Size: 256 MB\tMax Memory Used: 80 MB\tInit Duration: \
1951.20 ms
api        | GET /bids 200 BidManagementFunction
NotificationHandlerFunction | REPORT RequestId: c\tDuration: 40.00 ms\tBilled \
Duration: 41 ms\tMemory Size: 256 MB\tMax Memory Used: 70 MB
"""


def test_report_lines_are_read_with_and_without_init() -> None:
    first, second, third = parse_reports(REPORTS)
    assert first.function == "BidExecutorFunction"
    assert (first.request_id, first.billed_ms, first.max_memory_mb) == ("a", 25037, 83)
    assert first.init_ms is None
    assert second.init_ms == pytest.approx(1951.2)
    assert second.duration_ms == pytest.approx(592.9)
    assert third.function == "NotificationHandlerFunction"


def test_executor_log_lines_by_bid_and_by_invocation() -> None:
    lines = "\n".join(
        [
            'BidExecutorFunction#3 | {"message": "Bid claimed", "timestamp": '
            '"2026-12-01 23:14:31,161+0000", "correlation_id": "b1", '
            '"function_request_id": "r1"}',
            'BidExecutorFunction#3 | {"message": "Bid claimed", "timestamp": '
            '"2026-12-01 23:14:39,000+0000", "correlation_id": "b1"}',
            'BidExecutorFunction#4 | {"message": "Sweep done", "timestamp": '
            '"2026-12-01 23:14:25,365+0000", "function_request_id": "r2"}',
            "BidExecutorFunction#4 | START RequestId: r2 Version: $LATEST",
            "api        | POST /bids 201",
        ]
    )
    moments = log_moments(lines, ["Bid claimed"])
    assert moments == {"b1": {"Bid claimed": pytest.approx(1796166871.161)}}
    assert request_ids_logging(lines, "Sweep done") == {"r2"}


# ---------------------------------------------------------------- lateness
def landing(**changes: Any) -> Landing:
    values: dict[str, Any] = {
        "bid_id": "b1",
        "target_ms": 1_000_000,
        "end_ms": 1_005_000,
        "recorded_ms": 3,
        "sent_ms": 1_000_120,
        "arrived_ms": 1_000_125,
        "commit_done_ms": 999_950,
        "commit_rtt_ms": 30,
    }
    return Landing(**(values | changes))


def test_a_landing_splits_lateness_into_its_causes() -> None:
    bid = landing()
    assert bid.late_ms == 125
    assert bid.sent_late_ms == 120
    # The executor believed it sent 3 ms late: its clock was 117 ms behind.
    assert bid.offset_error_ms == -117
    assert bid.transit_ms == 5
    # It meant to send at target + 117 ms: the commit came 167 ms before that.
    assert bid.intended_ms == 1_000_117
    assert bid.commit_slack_ms == 167
    assert bid.commit_hold_ms == 0
    assert bid.after_commit_ms == 3
    assert bid.ours_ms == 120  # 117 ms of clock error, 3 ms to send
    assert not bid.commit_past_cutoff
    # The four parts add up to the lateness eBay saw.
    assert (
        -bid.offset_error_ms + bid.commit_hold_ms + bid.after_commit_ms + bid.transit_ms
        == bid.late_ms
    )


def test_a_commit_answered_late_holds_the_bid_back() -> None:
    # Its clock 117 ms behind, as above: it meant to send at target + 117 ms.
    bid = landing(
        recorded_ms=185,
        commit_done_ms=1_000_300,
        sent_ms=1_000_302,
        arrived_ms=1_000_310,
    )
    assert bid.offset_error_ms == -117
    assert bid.commit_hold_ms == 183
    assert bid.after_commit_ms == 2
    assert bid.late_ms == 117 + 183 + 2 + 8


def test_a_commit_answered_after_the_cutoff_is_counted() -> None:
    never_sent = landing(
        commit_done_ms=1_004_500, sent_ms=None, arrived_ms=None, recorded_ms=None
    )
    assert never_sent.commit_past_cutoff
    assert never_sent.ours_ms is None
    figures = lateness_figures([never_sent, landing()])
    assert figures["commits_past_cutoff"] == 1
    assert figures["arrival_late_ms"]["count"] == 1


def test_a_landing_without_an_arrival_or_history() -> None:
    bid = landing(arrived_ms=None, sent_ms=None, commit_done_ms=None)
    assert landing(commit_done_ms=None).after_commit_ms is None
    assert bid.late_ms is None
    assert bid.transit_ms is None
    assert bid.offset_error_ms is None
    assert bid.commit_slack_ms is None


def test_lateness_figures_count_only_placed_bids() -> None:
    figures = lateness_figures(
        [
            landing(arrived_ms=1_000_050),
            landing(arrived_ms=1_000_150, commit_done_ms=1_000_200),
            landing(arrived_ms=999_990),
            landing(arrived_ms=None),
        ]
    )
    assert figures["arrival_late_ms"]["count"] == 3
    assert figures["arrival_late_ms"]["max"] == 150
    assert figures["late_over_100ms"] == 1
    assert figures["early"] == 1
    assert figures["commits_after_target"] == 1


# ---------------------------------------------------------------- DynamoDB
BIDS = "ebay-sniper-bids-local"
HISTORY = "ebay-sniper-bid-history-local"


def test_bid_ids_come_from_bid_keys_only() -> None:
    assert bid_key_id({"userId": {"S": "u"}, "sk": {"S": "BID#abc"}}) == "abc"
    assert bid_key_id({"userId": {"S": "u"}, "sk": {"S": "ITEM#123"}}) is None
    assert bid_key_id({}) is None


def test_the_commit_is_a_lone_update_that_sets_sent_at() -> None:
    update = {
        "TableName": BIDS,
        "Key": {"userId": {"S": "u"}, "sk": {"S": "BID#abc"}},
        "ExpressionAttributeNames": {"#s1": "sentAt", "#version": "version"},
    }
    commit = classify("TransactWriteItems", {"TransactItems": [{"Update": update}]})
    assert commit == {
        "writes": (BIDS,),
        "reads": (),
        "consistent": False,
        "bid_id": "abc",
        "commit": True,
    }
    placed = classify(
        "TransactWriteItems",
        {"TransactItems": [{"Update": update}, {"Put": {"TableName": HISTORY}}]},
    )
    assert placed["writes"] == (BIDS, HISTORY)
    assert not placed["commit"]
    read = classify("GetItem", {"TableName": BIDS, "ConsistentRead": True})
    assert read["reads"] == (BIDS,) and read["consistent"]


def call(operation: str, writes: tuple[str, ...] = (), **extra: Any) -> DynamoCall:
    values: dict[str, Any] = {
        "operation": operation,
        "writes": writes,
        "reads": (),
        "consistent": False,
        "bid_id": None,
        "commit": False,
        "started": 0.0,
        "answered": 0.0,
    }
    return DynamoCall(**(values | extra))


def test_request_units_follow_on_demand_rules() -> None:
    calls = [
        call("TransactWriteItems", (BIDS, HISTORY)),  # 2 items x 2 WRU
        call("PutItem", ("idempotency",)),  # 1 WRU
        call("GetItem", reads=(BIDS,), consistent=True),  # 1 RRU
        call("GetItem", reads=(BIDS,)),  # eventually consistent: 0.5
        call("UpdateItem", (BIDS,)),  # 1 WRU (a 1.5 KB item: 2, below)
    ]
    units = capacity_units(calls, {BIDS: 0.7, HISTORY: 0.5, "idempotency": 0.3})
    assert units == {"write_request_units": 6.0, "read_request_units": 1.5}
    bigger = capacity_units(calls[-1:], {BIDS: 1.5})
    assert bigger["write_request_units"] == 2


def test_item_size_follows_dynamodb_rules_roughly() -> None:
    assert item_size("abc") == 3
    assert item_size(Decimal("1796165677")) == 6  # 10 digits: 1 + 5
    assert item_size(True) == 1
    assert item_size(b"\x00" * 10) == 10
    assert item_size({"ab": "cd"}) == 3 + 2 + 1 + 2
    assert item_size(["x", "y"]) == 3 + 2 * 2


# ---------------------------------------------------------------- cost
def test_billing_rounds_up_to_the_millisecond() -> None:
    assert cost.billed_ms(25036.31) == 25037
    assert cost.billed_ms(0.2) == 1


def test_gb_seconds_and_the_naive_design() -> None:
    assert cost.gb_seconds(96_000, 256) == pytest.approx(24.0)
    assert cost.naive_gb_seconds() == pytest.approx(300.0)


def test_the_every_minute_sweep_is_a_fixed_monthly_cost() -> None:
    # 43,200 runs of 400 ms at 256 MB: 4,320 GB-s and 43,200 requests.
    assert cost.sweep_monthly(400, 256) == pytest.approx(
        4_320 * 0.0000166667 + 43_200 * 0.20 / 1_000_000
    )


def test_production_time_adds_the_longer_margin_once() -> None:
    measured = [26_000.0, 500.0]  # a snipe and its duplicate delivery
    assert cost.production_billed_ms(
        measured, bench_margin_s=20, production_margin_s=90
    ) == pytest.approx(96_500)
    # Scheduler 60 s late eats most of the production margin.
    assert cost.production_billed_ms(
        [26_000.0], bench_margin_s=20, production_margin_s=90, scheduler_late_s=60
    ) == pytest.approx(36_000)


def test_a_month_of_snipes() -> None:
    snipe = cost.SnipeCost(
        executor_billed_ms=96_000,
        executor_memory_mb=256,
        executor_invocations=1,
        scheduler_invocations=1,
        other_gb_seconds=0.25,
        other_invocations=1,
        write_units=16,
        read_units=17,
    )
    assert snipe.executor_gb_seconds == pytest.approx(24.0)
    usd = snipe.usd()
    assert usd["lambda"] == pytest.approx(24.25 * 0.0000166667 + 2 * 0.20 / 1_000_000)
    assert usd["scheduler"] == pytest.approx(1e-6)
    assert usd["dynamodb"] == pytest.approx((16 * 0.625 + 17 * 0.125) / 1e6)
    month = cost.monthly(snipe, 10_000, scheduler_free=True)
    assert month["scheduler"] == 0
    assert month["lambda"] == pytest.approx(usd["lambda"] * 10_000)
    assert month["total"] == pytest.approx(month["lambda"] + month["dynamodb"])
    paid = cost.monthly(snipe, 10_000, scheduler_free=False)
    assert paid["scheduler"] == pytest.approx(0.01)
    # Past the free tier, Scheduler bills only what exceeds it.
    busy = cost.monthly(snipe, 15_000_000, scheduler_free=True)
    assert busy["scheduler"] == pytest.approx(1.0)


# ---------------------------------------------------------------- the report
def result(n: int, p99: float, *, busy: bool = False) -> dict[str, Any]:
    stats = summary([0.0, 10.0, p99])
    return {
        "n": n,
        "placed": n,
        "missed": 0,
        "after_end": 0,
        "machine": {"cpus": 2},
        "load_at_target": 9.0 if busy else 0.5,
        "memory": {"report_max_mb": 83},
        "lateness": {
            name: stats
            for name in (
                "arrival_late_ms",
                "recorded_late_ms",
                "sent_late_ms",
                "offset_error_ms",
                "transit_ms",
                "commit_slack_ms",
                "commit_rtt_ms",
            )
        }
        | {"commits_after_target": 0},
        "timing": {"margin_s": 20},
    }


def test_the_precision_section_sets_each_figure_beside_its_goal() -> None:
    text = precision_markdown(
        [
            result(50, 40.0),
            result(200, 400.0, busy=True),
            {"n": 500, "skipped": "needs 36 GB"},
        ]
    )
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    assert any(row.startswith("| 50 |") and row.endswith("met |") for row in rows)
    assert any(row.startswith("| 200 |") and "**missed**" in row for row in rows)
    assert any("not run: needs 36 GB" in row for row in rows)
    assert "The machine was busy" in text and "N = 200" in text


def test_the_cost_section_compares_with_the_goal_and_the_naive_design() -> None:
    snipe = cost.SnipeCost(
        executor_billed_ms=96_000, executor_memory_mb=256, executor_invocations=1
    )
    month = cost.monthly(snipe, 10_000, scheduler_free=True)
    figures: dict[str, Any] = {
        "memory_mb": 256,
        "bench_billed_ms": 26_000,
        "bench_gb_s": 6.5,
        "production_billed_ms": 96_000,
        "production_gb_s": 24.0,
        "init_ms": 1500,
        "init_gb_s": 0.375,
        "invocations_per_snipe": 1.0,
        "write_units": 16.0,
        "read_units": 10.0,
        "production_write_units": 16.0,
        "production_read_units": 17.0,
        "notification_gb_s": 0.02,
        "monthly_10k": month,
    }
    text = cost_markdown({"n": 50, "timing": {"margin_s": 20}, "cost": figures})
    assert "**24.0**" in text and "<= 30: met" in text
    assert "| 300 |" in text
    assert math.isclose(
        month["total"],
        24 * 10_000 * 0.0000166667 + 10_000 * 0.2e-6,
        rel_tol=1e-9,
    )
    assert f"**${month['total']:.2f}**" in text
    assert "would cover this volume" in text
