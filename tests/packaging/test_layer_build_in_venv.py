"""The layers build from an activated virtualenv, as `sam build` runs their makefiles.

`source .venv/bin/activate && sam build` puts the venv's `python3.11` first on PATH,
and uv's venvs have no pip: the layer's makefile must still install Lambda's wheels
(here through `uv pip`). The built layer must import on its own and carry
unchecked-hash bytecode, as test_built_artifacts.py checks for the deactivated build.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.lambda_runtime import runtime_site_packages
from tests.support.handlers import ROOT

pytestmark = pytest.mark.slow

# PEP 552 flags of a hash-based .pyc that is never checked against its source.
UNCHECKED_HASH = 0b01


def activated_venv() -> dict[str, str]:
    """The environment `source .venv/bin/activate` gives (ROOT's venv, not ours)."""
    venv = ROOT / ".venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHOME", "PYTHONPATH")}
    env.update(
        PATH=os.pathsep.join([str(venv / "bin"), env.get("PATH", "")]),
        VIRTUAL_ENV=str(venv),
    )
    return env


@pytest.fixture(scope="module")
def layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    env = activated_venv()
    venv_python = ROOT / ".venv" / "bin" / "python3.11"
    probe = subprocess.run(
        [str(venv_python), "-m", "pip", "--version"], env=env, capture_output=True
    )
    assert probe.returncode != 0, "the venv has pip: this test would prove nothing"
    artifacts = tmp_path_factory.mktemp("layer")
    result = subprocess.run(
        [
            "make",
            "-C",
            str(ROOT / "layers" / "dependencies"),
            "build-DependenciesLayer",
            f"ARTIFACTS_DIR={artifacts}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return artifacts / "python"


def test_the_layer_builds_in_an_activated_venv_and_imports_alone(
    layer_dir: Path, tmp_path: Path
) -> None:
    """Alone but for the runtime's SDK, which the layer leaves to Lambda."""
    assert (layer_dir / "pydantic").is_dir()
    assert not (layer_dir / ".lock").exists(), "uv's lock file is not for the layer"
    assert not (layer_dir / "botocore").exists(), "botocore is the runtime's"
    runtime_sdk = runtime_site_packages(tmp_path / "var-lang-site-packages")
    code = "import pydantic, pydantic_core, aws_lambda_powertools, boto3, httpx"
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.pathsep.join([str(layer_dir), str(runtime_sdk)]),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_the_layer_has_lambda_wheels_and_unchecked_bytecode(layer_dir: Path) -> None:
    extensions = list((layer_dir / "pydantic_core").glob("*.so"))
    assert [so.name for so in extensions] == [
        "_pydantic_core.cpython-311-x86_64-linux-gnu.so"
    ]
    wheel = next(layer_dir.glob("pydantic_core-*.dist-info")) / "WHEEL"
    assert "Tag: cp311-cp311-manylinux" in wheel.read_text()
    compiled = list((layer_dir / "pydantic" / "__pycache__").glob("*.cpython-311.pyc"))
    assert compiled
    flags = int.from_bytes(compiled[0].read_bytes()[4:8], "little")
    assert flags == UNCHECKED_HASH


def test_the_shared_layer_builds_in_an_activated_venv(tmp_path: Path) -> None:
    """It needs only compileall, which the venv's python has."""
    result = subprocess.run(
        [
            "make",
            "-C",
            str(ROOT / "shared"),
            "build-SharedLayer",
            f"ARTIFACTS_DIR={tmp_path}",
        ],
        env=activated_venv(),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    compiled = tmp_path / "python" / "sniper" / "__pycache__"
    assert (tmp_path / "python" / "sniper" / "__init__.py").exists()
    pyc = next(compiled.glob("__init__.cpython-311.pyc"))
    assert int.from_bytes(pyc.read_bytes()[4:8], "little") == UNCHECKED_HASH
