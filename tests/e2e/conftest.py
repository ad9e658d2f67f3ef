"""One local stack for the e2e tests: `python -m local.stack` with the probe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.support import RunningStack, start_stack, write_probe_template


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def probe_dir(e2e_dir: Path) -> Path:
    folder = e2e_dir / "probe"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def probe_template(e2e_dir: Path, probe_dir: Path) -> Path:
    return write_probe_template(e2e_dir, probe_dir)


@pytest.fixture(scope="session")
def stack(e2e_dir: Path, probe_template: Path) -> Iterator[RunningStack]:
    running = start_stack(
        e2e_dir,
        template=probe_template,
        persist=e2e_dir / "state",
        extra=("--env", "PROBE_FLAG=global", "--env", "ProbeFunction.PROBE_ONLY=yes"),
    )
    yield running
    running.stop()
