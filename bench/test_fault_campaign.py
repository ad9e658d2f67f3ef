"""The fault campaign at scale: 1,000 and 10,000 snipes under injected faults on
the local stack (`make bench-faults`; `bench/fault_campaign.py` says how).

`BENCH_FAULTS_N` picks the sizes (`1000,10000` by default; `BENCH_FAULTS_N=1000`
for one), `BENCH_FAULTS_SEED` the seed, `BENCH_FAULTS_CONCURRENCY` how many
executors are busy at once (25: the auctions are spread over time to keep it so,
and the run lasts about N x 19 s / concurrency plus two minutes). A snipe costs
about 0.8 s of CPU on the local stack (the functions, moto, the emulator), so 25
keeps two cores at about 60%: 1,000 snipes take about 15 minutes, 10,000 about
2 h 10 min; 50 fits four cores. Results:
`bench/results/fault_campaign_<N>.json` and the `fault_campaign` section of
`docs/benchmarks.md`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bench.fault_campaign import (
    CampaignSettings,
    load_results,
    markdown,
    run_campaign,
    summary_line,
)
from bench.report import write_json, write_section
from bench.snipe_load import mem_available_mb

pytestmark = pytest.mark.benchmark


def _sizes() -> list[int]:
    raw = os.environ.get("BENCH_FAULTS_N", "").strip()
    return [int(part) for part in raw.split(",") if part.strip()] or [1_000, 10_000]


SIZES = _sizes()
SEED = int(os.environ.get("BENCH_FAULTS_SEED", "15"))
CONCURRENCY = int(os.environ.get("BENCH_FAULTS_CONCURRENCY", "25"))


def say(message: str) -> None:
    print(f"[fault campaign {time.strftime('%H:%M:%S')}] {message}", flush=True)


@pytest.mark.timeout(6 * 3_600)
@pytest.mark.parametrize("n", SIZES)
def test_fault_campaign(n: int, tmp_path: Path) -> None:
    settings = CampaignSettings(n=n, seed=SEED, concurrency=CONCURRENCY)
    available, needed = mem_available_mb(), settings.memory_needed_mb()
    if available is not None and available < needed:
        pytest.skip(f"needs about {needed} MB, {available} MB available")
    estimate = settings.n * settings.spacing + 120
    say(f"N={n}, concurrency {CONCURRENCY}, seed {SEED}: about {estimate / 60:.0f} min")

    result = run_campaign(tmp_path, settings, say)

    log = result.pop("log")  # this machine's temporary folder: not a figure
    write_json(f"fault_campaign_{n}", result)
    write_section("fault_campaign", markdown(load_results()))
    say(f"{summary_line(result)}; the stack's log: {log}")
    assert result["placed_twice"] == 0
    assert result["non_final"] == 0
    assert result["lost_unexplained"] == 0, result["lost_snipes"]
    assert result["broken_promises"] == 0, result["problems"]
