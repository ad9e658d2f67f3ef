"""The snipe benchmark's sections of `docs/benchmarks.md`, from its JSON results.

Rendered from every `bench/results/snipe_precision_n*.json` present, so a run
narrowed to one N (`BENCH_SNIPE_N=50 make bench-snipe`) refreshes its own row
and keeps the others (each row says when and on what it was measured).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bench import cost as pricing
from bench.report import RESULTS
from bench.snipe_load import growth

PRECISION_GOAL_MS = 100
COST_GOAL_GB_S = 30
SNIPES_PER_MONTH = 10_000


def load_results(folder: Path = RESULTS) -> list[dict[str, Any]]:
    """Every snipe precision result, smallest N first."""
    found = []
    for path in sorted(folder.glob("snipe_precision_n*.json")):
        found.append(json.loads(path.read_text()))
    return sorted(found, key=lambda result: int(result["n"]))


def load_experiments(folder: Path = RESULTS) -> list[dict[str, Any]]:
    """The what-if runs (`BENCH_SNIPE_LABEL` and the other experiment hooks)."""
    found = [json.loads(p.read_text()) for p in folder.glob("snipe_experiment_*.json")]
    return sorted(found, key=lambda r: (int(r["n"]), r["experiment"]["label"]))


def experiments_markdown(results: Sequence[Mapping[str, Any]]) -> list[str]:
    """One row per what-if run: what changed, and the same figures."""
    if not results:
        return []
    lines = [
        "What-if runs (`BENCH_SNIPE_LABEL` with `BENCH_SNIPE_EXECUTOR_SHARED`, "
        "the executor's code from another copy of `shared/`, or `BENCH_SNIPE_ENV`, "
        "described by `BENCH_SNIPE_NOTE`; "
        "JSON in `bench/results/snipe_experiment_*.json`), p50 / p99 ms:",
        "",
        "| label | N | change | lateness | clock error | our part | DynamoDB "
        "proxy | load avg |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        setup = result["experiment"]
        change = setup.get("note") or ", ".join(
            filter(None, [setup.get("executor_shared"), *setup.get("env", [])])
        )
        parts = result["lateness"]

        def pair(name: str, parts: Mapping[str, Any] = parts) -> str:
            figures = parts.get(name) or {}
            return f"{_ms(figures.get('p50'))} / {_ms(figures.get('p99'))}"

        lines.append(
            f"| {setup['label']} | {result['n']} | {change or '-'} | "
            f"{pair('arrival_late_ms')} | {pair('offset_error_ms')} | "
            f"{pair('ours_ms')} | {'yes' if result.get('dynamodb_proxy') else 'no'} "
            f"| {result['load_at_target']} |"
        )
    return lines


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.0f}"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def precision_markdown(results: Sequence[Mapping[str, Any]]) -> str:
    """The precision section: one row per N, then where the lateness comes from."""
    lines = [
        "## Snipe precision under load",
        "",
        "N auctions end within the same two seconds (half at each whole second, so "
        "N/2 bids share one target instant), each with a snipe created through the "
        "API by one of several users; lead 5 s and warm-up 2 s as in production, "
        "the margin shortened. The emulator records when each bid arrived; "
        "lateness = arrival - target (end - lead). *Our part*: the executor's "
        "clock error and its send after the commit, without the local stack's "
        f"queues (below). Goal: p99 <= {PRECISION_GOAL_MS} ms at N = 500, no bid "
        "after the end, none missed.",
        "",
        "| N | placed | missed | after end | p50 ms | p99 ms | max ms | "
        "bid record p99 ms | our part p99 ms | executor peak MB | goal (p99, "
        "none late/missed) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        n = result["n"]
        if result.get("skipped"):
            lines.append(
                f"| {n} | - | - | - | - | - | - | - | - | - | not run: "
                f"{result['skipped']} |"
            )
            continue
        late = result["lateness"]["arrival_late_ms"]
        recorded = result["lateness"]["recorded_late_ms"]
        ours = result["lateness"].get("ours_ms") or {}
        ok = (
            late["p99"] is not None
            and late["p99"] <= PRECISION_GOAL_MS
            and result["after_end"] == 0
            and result["missed"] == 0
        )
        lines.append(
            f"| {n} | {result['placed']} | {result['missed']} | "
            f"{result['after_end']} | {_ms(late['p50'])} | {_ms(late['p99'])} | "
            f"{_ms(late['max'])} | {_ms(recorded['p99'])} | "
            f"{_ms(ours.get('p99'))} | {result['memory']['report_max_mb']} | "
            f"{_verdict(ok)} |"
        )
    ran = [r for r in results if not r.get("skipped")]
    busy = [r["n"] for r in ran if r.get("load_at_target", 0) > r["machine"]["cpus"]]
    if busy:
        lines += [
            "",
            f"**The machine was busy** during the N = {', '.join(map(str, busy))} "
            "run(s) (load average above its CPU count at the target, see the last "
            "column below): those figures measure the other work as much as the "
            "snipes. Re-run on a quiet machine.",
        ]
    if ran:
        lines += ["", *_decomposition(ran), "", *_cpu(ran), "", *_growth(ran)]
    experiments = experiments_markdown(load_experiments())
    if experiments:
        lines += ["", *experiments]
    lines += [
        "",
        "Reproduce: `make bench-snipe` (all N), `BENCH_SNIPE_N=50 make bench-snipe` "
        "(one). `BENCH_SNIPE_MARGIN` sets the shortened margin (s; default 30, or "
        "0.5 s a snipe above N = 60); "
        "`BENCH_SNIPE_COUNT_DYNAMODB=0` drops the DynamoDB counting proxy. "
        "Figures per bid and per call are in `bench/results/snipe_precision_n*.json`.",
    ]
    return "\n".join(lines)


def _decomposition(results: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "Where the lateness comes from, p50 / p99 ms (all on one clock: the "
        "emulator's is the machine's). Per bid, lateness = -(clock error) + "
        "commit hold + send after commit + transit:",
        "",
        "| N | ready after wake-up, p99 s (margin) | clock error: ours (`Date` "
        "headers) | commit hold: local DynamoDB | send after commit: ours + CPU | "
        "transit: local emulator + CPU | bids held by the commit (past the "
        "cutoff: never sent) | load avg |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        parts = result["lateness"]

        def pair(name: str, parts: Mapping[str, Any] = parts) -> str:
            figures = parts.get(name) or {}
            return f"{_ms(figures.get('p50'))} / {_ms(figures.get('p99'))}"

        ready = result.get("wake", {}).get("ready_ms", {}).get("p99")
        ready_s = "-" if ready is None else f"{ready / 1000:.1f}"
        lines.append(
            f"| {result['n']} | {ready_s} ({result['timing']['margin_s']} s) | "
            f"{pair('offset_error_ms')} | {pair('commit_hold_ms')} | "
            f"{pair('after_commit_ms')} | {pair('transit_ms')} | "
            f"{parts['commits_after_target']} "
            f"({parts.get('commits_past_cutoff', 0)}) | {result['load_at_target']} |"
        )
    lines += [
        "",
        "- *Ready*: from the schedule's time to the executor's first item read "
        "(claim, token, item; then it sleeps). Past the margin a bid is late or "
        "missed.",
        "- *Clock error*: the executor reads eBay's clock from `Date` headers "
        "(whole seconds, narrowed answer by answer, the middle of what they allow "
        "taken). eBay's true offset is 0 here, so this is the estimate's error; "
        "positive = the executor thinks eBay is ahead and sends that much early. "
        "It is the same on AWS.",
        "- *Commit hold*: the commit to send (a conditional DynamoDB write, 0.2 s "
        "before the target) answered after the moment the executor meant to send. "
        "The local stack's moto serves one request at a time (N/2 commits due at "
        "once queue up); DynamoDB serves them in parallel.",
        "- *Send after commit*: from the moment the executor could send (its "
        "target, or the commit's answer if later) to the request leaving: the "
        "wake-up from sleep and our code, slowed by N processes sharing the CPUs.",
        "- *Transit*: from the request leaving to the emulator's handler stamping "
        "it (the emulator handles one request at a time); on AWS, half a round "
        "trip to eBay.",
        "- What carries over to AWS is *our part*: the clock error and the send "
        "after the commit (the executor's own figures; at 256 MB it has a "
        "seventh of a vCPU). The commit hold and the transit are queues of the "
        "local stack, which DynamoDB and eBay serve in parallel.",
        "- The commit's time comes from a counting proxy in front of moto for the "
        "executor's DynamoDB calls (`BENCH_SNIPE_COUNT_DYNAMODB=0` runs without "
        "it). Its hop lengthens the local commit queue: at N = 50 on this machine "
        "lateness p50 was 474 ms with it and 320 ms without (the estimator fix "
        "below applied to both). Without it the commit hold and the send are "
        "together the bid record's `latenessMs`.",
    ]
    return lines


def _cpu(results: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = [
        "Who used the CPUs (CPU-seconds; the wall time times the CPU count is "
        "what there was). *Stack*: moto, the emulator, the gateway and the "
        "schedule runner, one Python process; *bench*: this test and its DynamoDB "
        "counter; *others*: everything else on the machine:",
        "",
        "| N | phase | wall s | CPUs | stack | executors | bench | others |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for phase, used in (result.get("cpu") or {}).items():
            lines.append(
                f"| {result['n']} | {phase} | {used['wall']:.0f} | {used['cpus']} | "
                f"{used['stack']:.0f} | {used['executors']:.0f} | "
                f"{used['bench']:.0f} | {used['others']:.0f} |"
            )
    return lines


def _growth(results: Sequence[Mapping[str, Any]]) -> list[str]:
    def figure(name: str, stat: str) -> dict[int, float]:
        values = {}
        for result in results:
            value = (result["lateness"].get(name) or {}).get(stat)
            if value is not None:
                values[int(result["n"])] = float(value)
        return values

    rows = [
        ("lateness p99", figure("arrival_late_ms", "p99")),
        ("commit hold p99", figure("commit_hold_ms", "p99")),
        ("send after commit p99", figure("after_commit_ms", "p99")),
        ("transit p99", figure("transit_ms", "p99")),
    ]
    lines = [
        "Growth with N (exponent k of figure ~ N^k between consecutive N; 1 = "
        "linear, as a queue of N/2 simultaneous requests grows):",
        "",
    ]
    for name, values in rows:
        exponents = growth(values)
        text = ", ".join(
            f"{step}: {'-' if k is None else k}" for step, k in exponents.items()
        )
        lines.append(f"- {name}: {text or 'one N only'}")
    return lines


def cost_markdown(result: Mapping[str, Any]) -> str:
    """The cost section, from one run's measured durations and request counts."""
    cost = result["cost"]
    month = cost["monthly_10k"]
    lines = [
        "## Cost of one snipe",
        "",
        f"From the N = {result['n']} run: the executor's REPORT lines (billed "
        "duration, every invocation of a snipe: wake-up, sleep, send, outcome; "
        "duplicates and outcome checks included), its `MemorySize` "
        f"({cost['memory_mb']} MB), and the DynamoDB requests the executor made "
        "(counted by a proxy).",
        "",
        "| | measured (margin "
        f"{result['timing']['margin_s']} s) | production margin 90 s | goal |",
        "|---|---|---|---|",
        f"| executor billed s per snipe | {cost['bench_billed_ms'] / 1000:.1f} | "
        f"{cost['production_billed_ms'] / 1000:.1f} | |",
        f"| GB-s per snipe | {cost['bench_gb_s']:.1f} | "
        f"**{cost['production_gb_s']:.1f}** (+{cost['init_gb_s']:.2f} init) | "
        f"<= {COST_GOAL_GB_S}: {_verdict(cost['production_gb_s'] <= COST_GOAL_GB_S)} |",
        f"| naive: {pricing.NAIVE_MEMORY_MB} MB for {pricing.NAIVE_SECONDS} s | | "
        f"{pricing.naive_gb_seconds():.0f} | |",
        f"| executor invocations per snipe | {cost['invocations_per_snipe']:.2f} | | |",
        f"| DynamoDB WRU / RRU per snipe | {cost['write_units']:.1f} / "
        f"{cost['read_units']:.1f} | {cost['production_write_units']:.1f} / "
        f"{cost['production_read_units']:.1f} | |",
        "",
        f"A month of {SNIPES_PER_MONTH:,} snipes (us-east-1, x86, list prices, no "
        "free tier except Scheduler's 14 M invocations):",
        "",
        "| Lambda (executor + notification) | Scheduler | DynamoDB | total |",
        "|---|---|---|---|",
        f"| ${month['lambda']:.2f} | ${month['scheduler']:.2f} | "
        f"${month['dynamodb']:.2f} | **${month['total']:.2f}** |",
        "",
        "Whatever the number of snipes, the executor's sweep (the every-minute "
        f"safety net, {cost.get('sweep_billed_ms', 0):.0f} ms billed a run: the "
        "median of the runs seen during the benchmark, slower on a busy stack) "
        f"adds ${cost.get('sweep_monthly_usd', 0):.2f} a month (43,200 runs).",
        "",
        "Production's figure adds the difference of the margins to the measured "
        "sleep (the schedule fires margin + lead before the end, and the runner "
        "here is punctual: Scheduler's lateness, up to 60 s, only shortens it), "
        f"and one init ({cost['init_ms']:.0f} ms, a lone cold start here), which "
        "AWS bills since August 2025. The Notification Handler's share "
        f"({cost['notification_gb_s']:.2f} GB-s an email) is measured on a sample "
        "of the outcomes. "
        + (
            "Lambda's free tier (400,000 GB-s a month) would cover this volume."
            if cost["production_gb_s"] * SNIPES_PER_MONTH <= 400_000
            else "This volume exceeds Lambda's free tier (400,000 GB-s a month)."
        ),
    ]
    return "\n".join(lines)
