"""The sweep's rule as the template declares it and the local stack runs it: every
minute, `{"sweep": true}` to the Bid Executor; `--rule-rate` makes it every few
seconds for tests, and leaves `cron()` rules alone."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from typing import Any

from local.stack.cli import config_from, parser
from local.stack.console import Console
from local.stack.expressions import Cron, Rate
from local.stack.scheduler import ScheduleRunner, template_rules
from local.template.functions import function_specs
from local.template.intrinsics import Resolver
from local.template.loader import load_template
from sniper.models.snipe import is_sweep
from tests.support.handlers import ROOT

T0 = datetime(2026, 11, 25, 10, 0, 0, tzinfo=UTC).timestamp()


class Lambdas:
    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def invoke_async(self, identifier: str, payload: str) -> str:
        self.calls.append((identifier, json.loads(payload)))
        return "request-id"


def rules(rate_seconds: int | None = None) -> dict[str, Any]:
    template = load_template(ROOT / "template.yaml")
    specs = function_specs(template, Resolver(template, {"Stage": "local"}), ROOT)
    made = template_rules(
        specs,
        [],
        region="us-east-1",
        account_id="123456789012",
        rate_seconds=rate_seconds,
    )
    return {rule.name: rule for rule in made}


def test_the_template_sweeps_every_minute_through_the_bid_executor() -> None:
    sweep = rules()["BidExecutorFunctionSweep"]

    assert sweep.expression == Rate(60)
    assert sweep.target_arn.endswith(":function:ebay-sniper-bid-executor-local")
    assert sweep.input is not None and is_sweep(json.loads(sweep.input))


def test_rule_rate_speeds_up_rate_rules_only() -> None:
    fast = rules(rate_seconds=2)
    chosen = config_from(parser().parse_args(["--rule-rate", "2"]))

    assert chosen.rule_rate == 2
    assert config_from(parser().parse_args([])).rule_rate is None
    assert fast["BidExecutorFunctionSweep"].expression == Rate(2)
    assert isinstance(fast["TokenRefreshFunctionDaily"].expression, Cron)

    lambdas, now = Lambdas(), [T0]
    runner = ScheduleRunner(
        lambdas,
        Console(io.StringIO()),
        rules=[fast["BidExecutorFunctionSweep"]],
        clock=lambda: now[0],
    )
    for offset in range(1, 7):
        now[0] = T0 + offset
        runner.poll_once()

    assert [event for _, event in lambdas.calls] == [{"sweep": True}] * 3
