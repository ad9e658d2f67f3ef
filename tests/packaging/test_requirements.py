"""requirements.txt and the layer's requirements match uv.lock exactly.

The layer's is the lock's export without the packages layers/dependencies/
excluded.txt names (the runtime's SDK, unused ones), the same `uv export
--no-emit-package` that `make requirements` runs.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.packaging.lambda_runtime import excluded_packages
from tests.support.handlers import ROOT


def locked_runtime_requirements(*leave_out: str) -> str:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH; `make test` installs it")
    flags = [flag for name in leave_out for flag in ("--no-emit-package", name)]
    return subprocess.run(
        [
            uv,
            "export",
            "--locked",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--no-header",
            "--quiet",
            *flags,
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def pinned(requirements: str) -> set[str]:
    """The `name==version` lines, without markers and comments."""
    return {
        line.split(";")[0].strip()
        for line in requirements.splitlines()
        if line and not line.startswith((" ", "#"))
    }


def test_requirements_match_the_lock() -> None:
    expected = locked_runtime_requirements()

    actual = (ROOT / "requirements.txt").read_text()

    assert actual == expected, (
        "requirements.txt drifted from uv.lock: run `make requirements`"
    )


def test_the_layer_requirements_are_the_lock_but_the_excluded() -> None:
    excluded = excluded_packages()
    expected = locked_runtime_requirements(*excluded)

    actual = (ROOT / "layers/dependencies/requirements.txt").read_text()

    assert actual == expected, (
        "layers/dependencies/requirements.txt drifted from uv.lock and "
        "excluded.txt: run `make requirements`"
    )
    names = {line.split("==")[0].lower() for line in pinned(actual)}
    everything = {
        line.split("==")[0].lower() for line in pinned(locked_runtime_requirements())
    }
    assert set(excluded) <= everything, "excluded.txt names a package not locked"
    assert not names & set(excluded)


def test_the_excluded_are_the_runtimes_sdk_and_unused_packages() -> None:
    reasons = set(excluded_packages().values())

    assert reasons <= {"runtime", "unused"}
