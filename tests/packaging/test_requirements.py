"""requirements.txt and the layer's requirements match uv.lock exactly."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.support.handlers import ROOT


def locked_runtime_requirements() -> str:
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("uv is not on PATH; `make test` installs it")
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
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.mark.parametrize(
    "path", ["requirements.txt", "layers/dependencies/requirements.txt"]
)
def test_requirements_match_the_lock(path: str) -> None:
    expected = locked_runtime_requirements()

    actual = (ROOT / path).read_text()

    assert actual == expected, f"{path} drifted from uv.lock: run `make requirements`"
