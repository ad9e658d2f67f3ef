"""Cold-start import time of a handler: layers with bytecode against without.

Lambda's /opt is read-only, so a layer without .pyc files compiles every module on
every cold start. The layers' Makefiles ship bytecode; this measures what that buys,
as a ratio of medians taken in one run (`make bench`).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.packaging.lambda_runtime import runtime_site_packages
from tests.packaging.test_built_artifacts import LAYERS, system_python
from tests.support.handlers import ROOT

pytestmark = pytest.mark.benchmark
RUNS = 15
FUNCTION = "UserManagementFunction"


def build(target: Path) -> None:
    sam = shutil.which("sam") or str(Path.home() / ".local/bin/sam")
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env.update(PATH=system_python(), SAM_CLI_TELEMETRY="0")
    subprocess.run(
        [sam, "build", "--build-dir", str(target)], cwd=ROOT, env=env, check=True
    )


def import_seconds(build_dir: Path, tmp: Path) -> float:
    paths = [str(build_dir / FUNCTION)]
    paths += [str(build_dir / layer / "python") for layer in LAYERS]
    paths.append(str(tmp / "runtime"))  # the runtime's boto3, compiled in both runs
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-S", "-c", "import app"],
        cwd=tmp,
        env={
            "PYTHONPATH": os.pathsep.join(paths),
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        check=True,
    )
    return time.perf_counter() - started


def test_bytecode_in_layers_speeds_up_cold_imports(tmp_path: Path) -> None:
    with_pyc = tmp_path / "with-pyc"
    build(with_pyc)
    without_pyc = tmp_path / "without-pyc"
    shutil.copytree(with_pyc, without_pyc)
    for cache in without_pyc.rglob("__pycache__"):
        shutil.rmtree(cache)
    runtime_site_packages(tmp_path / "runtime", compiled=True)

    compiled, source = [], []
    for _ in range(RUNS):  # interleaved, so machine load hits both alike
        compiled.append(import_seconds(with_pyc, tmp_path))
        source.append(import_seconds(without_pyc, tmp_path))

    ratio = statistics.median(source) / statistics.median(compiled)
    print(
        f"\nhandler import, median of {RUNS}: "
        f"with bytecode {statistics.median(compiled):.3f} s, "
        f"without {statistics.median(source):.3f} s, ratio {ratio:.2f}x"
    )
    assert ratio > 1.2
