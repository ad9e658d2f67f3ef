"""Cold start of every handler, the dependency layer's size and the warm path,
each beside its goal (`make bench`; figures in bench/results/cold_start.json and
docs/benchmarks.md).

Cold import: each handler imported from the `sam build` output in a fresh
interpreter (`-S`, only the built folders and the runtime's SDK on the path:
tests/packaging/lambda_runtime.py) with the environment Lambda gives it, timed
from inside the interpreter (its own start-up is not ours). The yardstick,
`import boto3`, and the framework floor (boto3, pydantic, Powertools' resolver,
Logger, Metrics, Tracer) run in the same rounds: each round runs every candidate
once, in an order that rotates, and a candidate's figure is the median over the
rounds of its time divided by that round's `import boto3`. On a shared machine
only such ratios mean anything; the report says how loaded it was.

`BENCH_BUILD_DIR` reuses a `sam build --build-dir` output; `BENCH_RUNS` sets the
rounds (21).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from bench.report import write_json, write_section
from bench.test_cold_import import build
from tests.packaging.lambda_runtime import lambda_environment, runtime_site_packages
from tests.packaging.test_built_artifacts import (
    FUNCTIONS,
    LAYER_UNZIPPED_MAX_BYTES,
    LAYER_ZIPPED_MAX_BYTES,
    built_path,
)
from tests.support.handlers import ROOT

pytestmark = pytest.mark.benchmark
RUNS = int(os.environ.get("BENCH_RUNS", "21"))
WARM_PAIRS = int(os.environ.get("BENCH_WARM_PAIRS", "1000"))

COLD_GOAL, COLD_MUST = 1.5, 1.7
WARM_GOAL = 1.5
YARDSTICK = "import boto3"
REFERENCE_FUNCTION = "UserManagementFunction"
FRAMEWORK = (
    "import boto3, pydantic\n"
    "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
    "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    "APIGatewayRestResolver(enable_validation=True)\n"
    "Logger()\n"
    "Metrics()\n"
)
# (function whose folder and environment it runs with, set-up, timed code)
Candidate = tuple[str, str, str]
CANDIDATES: dict[str, Candidate] = {
    "import boto3": (REFERENCE_FUNCTION, "", YARDSTICK),
    "framework floor": (
        REFERENCE_FUNCTION,
        "",
        FRAMEWORK + "Tracer(patch_modules=['botocore'])\n",
    ),
    "framework floor, Tracer() patching all": (
        REFERENCE_FUNCTION,
        "",
        FRAMEWORK + "Tracer()\n",
    ),
    # What the first request adds: the DynamoDB resource and client boto3 builds.
    "first DynamoDB resource and client": (
        REFERENCE_FUNCTION,
        "from sniper import aws\n",
        "aws.table('Users')\naws.dynamodb_client()\n",
    ),
    **{function: (function, "", "import app") for function in FUNCTIONS},
}
CHILD = (
    "import time as _time\n{setup}"
    "_started = _time.perf_counter()\n{timed}\n"
    "_elapsed = _time.perf_counter() - _started\n"
    "import sys as _sys\n_sys.stdout.write('\\n' + repr(_elapsed))\n"
)


def run_once(
    build_dir: Path, runtime_sdk: Path, candidate: Candidate, cwd: Path
) -> tuple[float, float]:
    """Seconds the timed code took in a fresh interpreter, as Lambda starts one,
    and seconds the whole process took (start-up and exit included)."""
    function, setup, timed = candidate
    python_path = built_path(build_dir, runtime_sdk, function)
    environment = lambda_environment(function, python_path, build_dir / function)
    environment["PYTHONDONTWRITEBYTECODE"] = "1"  # /var/task is read-only
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-S", "-c", CHILD.format(setup=setup, timed=timed)],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    process_s = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    return float(result.stdout.strip().splitlines()[-1]), process_s


def cold_imports(build_dir: Path, runtime_sdk: Path, cwd: Path) -> dict[str, Any]:
    names = list(CANDIDATES)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for round_ in range(RUNS):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(
                run_once(build_dir, runtime_sdk, CANDIDATES[name], cwd)
            )
    yardstick = samples[YARDSTICK]

    def ratio(times: list[tuple[float, float]], which: int) -> float:
        pairs = zip(times, yardstick, strict=True)
        return round(statistics.median(t[which] / y[which] for t, y in pairs), 3)

    return {
        name: {
            "median_ms": round(statistics.median(t[0] for t in times) * 1000, 1),
            "ratio": ratio(times, 0),
            "process_ratio": ratio(times, 1),
        }
        for name, times in samples.items()
    }


def layer_size(build_dir: Path, scratch: Path) -> dict[str, float]:
    """The dependency layer unpacked, and zipped as `sam deploy` zips it."""
    layer = build_dir / "DependenciesLayer" / "python"
    files = [path for path in layer.rglob("*") if path.is_file()]
    archive = scratch / "layer.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in files:
            zipped.write(path, Path("python") / path.relative_to(layer))
    return {
        "unzipped_mb": round(sum(p.stat().st_size for p in files) / 1e6, 1),
        "zipped_mb": round(archive.stat().st_size / 1e6, 1),
    }


def warm_path(scratch: Path) -> dict[str, Any]:
    out = scratch / "warm.json"
    subprocess.run(
        [sys.executable, "-m", "bench.warm_path", str(out), str(WARM_PAIRS)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        check=True,
        timeout=900,
    )
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


def load_average() -> list[float]:
    return [round(value, 1) for value in os.getloadavg()]


def report(figures: dict[str, Any]) -> str:
    cold = figures["cold_import"]
    rows = [
        "| cold import, from the sam build output | median | x `import boto3` "
        "| whole process | goal |",
        "|---|---|---|---|---|",
    ]
    for name, figure in cold.items():
        goal = ""
        if name in FUNCTIONS:
            met = "met" if figure["ratio"] <= COLD_GOAL else "not met"
            must = "met" if figure["ratio"] <= COLD_MUST else "not met"
            goal = f"≤ {COLD_GOAL}x: {met}; must ≤ {COLD_MUST}x: {must}"
        rows.append(
            f"| {name} | {figure['median_ms']} ms | {figure['ratio']}x | "
            f"{figure['process_ratio']}x | {goal} |"
        )
    layer, warm = figures["layer"], figures["warm_path"]
    return "\n".join(
        [
            "## Cold start, layer size, warm path",
            "",
            "`bench/test_cold_start.py`: each handler imported in a fresh "
            "interpreter from the `sam build` output with Lambda's environment, "
            f"{figures['runs']} interleaved rounds; a ratio is the median of each "
            "round's time over that round's `import boto3`, timed inside the "
            "interpreter (whole process: timed from outside, start-up included). "
            f"Load average before and after: {figures['load_before']}, "
            f"{figures['load_after']} on {os.cpu_count()} CPUs.",
            "",
            *rows,
            "",
            "| dependency layer | measured | goal |",
            "|---|---|---|",
            f"| unzipped | {layer['unzipped_mb']} MB | ≤ "
            f"{LAYER_UNZIPPED_MAX_BYTES / 1e6:.0f} MB |",
            f"| zipped (deflate, as sam deploy) | {layer['zipped_mb']} MB | ≤ "
            f"{LAYER_ZIPPED_MAX_BYTES / 1e6:.0f} MB |",
            "",
            "| warm GET /users/profile, median of "
            f"{warm['pairs']} alternating pairs | µs | goal |",
            "|---|---|---|",
            "| the handler, outside DynamoDB (INFO request line included) | "
            f"{warm['handler_outside_dynamodb_us']} | |",
            f"| a bare resolver with validation and CORS | {warm['bare_resolver_us']} "
            "| |",
            f"| ratio (paired: {warm['paired_ratio']}x) | {warm['ratio']}x | "
            f"≤ {WARM_GOAL}x |",
            "| the bare route observed as a handler is (Logger, Tracer and Metrics "
            f"decorators, one INFO line) | {warm['observed_floor_us']} | |",
            f"| that observed floor / the bare resolver | {warm['floor_ratio']}x | |",
            f"| the handler / that observed floor | {warm['ratio_to_floor']}x | |",
            "",
            "The observed floor is Powertools' own cost per request, as every "
            "handler carries it: "
            + (
                f"above the {WARM_GOAL}x goal by itself, so what is left to cut of "
                "ours is the last ratio."
                if warm["floor_ratio"] > WARM_GOAL
                else f"within the {WARM_GOAL}x goal by itself."
            ),
        ]
    )


@pytest.mark.timeout(3_600)  # hundreds of cold starts, on a loaded machine too
def test_cold_start_layer_and_warm_path(tmp_path: Path) -> None:
    load_before = load_average()
    build_dir = Path(os.environ.get("BENCH_BUILD_DIR") or tmp_path / "build")
    if not os.environ.get("BENCH_BUILD_DIR"):
        build(build_dir)
    runtime_sdk = runtime_site_packages(tmp_path / "runtime", compiled=True)
    started = time.monotonic()
    figures: dict[str, Any] = {
        "runs": RUNS,
        "cold_import": cold_imports(build_dir, runtime_sdk, tmp_path),
        "layer": layer_size(build_dir, tmp_path),
        "warm_path": warm_path(tmp_path),
        "load_before": load_before,
        "load_after": load_average(),
        "seconds": round(time.monotonic() - started),
        "goals": {
            "cold_import_ratio": COLD_GOAL,
            "cold_import_ratio_must": COLD_MUST,
            "layer_unzipped_mb": LAYER_UNZIPPED_MAX_BYTES / 1e6,
            "layer_zipped_mb": LAYER_ZIPPED_MAX_BYTES / 1e6,
            "warm_ratio": WARM_GOAL,
        },
    }
    write_json("cold_start", figures)
    write_section("cold_start", report(figures))
    print("\n" + report(figures))
    if not os.environ.get("BENCH_BUILD_DIR"):
        shutil.rmtree(build_dir, ignore_errors=True)

    # The cold-import goals are reported, not asserted: on a shared machine the
    # framework floor alone measured above them (docs/benchmarks.md). What each
    # handler loads is pinned by tests/packaging/test_handlers_import_cleanly.py.
    assert figures["layer"]["unzipped_mb"] * 1e6 <= LAYER_UNZIPPED_MAX_BYTES
    assert figures["layer"]["zipped_mb"] * 1e6 <= LAYER_ZIPPED_MAX_BYTES
