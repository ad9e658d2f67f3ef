"""The TypeScript client's committed types are what docs/openapi.json generates.

The frontend compiles against clients/typescript/src/schema.d.ts: a route, field or
status added to the document but not regenerated would be invisible to it. `make
client` (a prerequisite of `make pytest`) installs the pinned packages and runs tsc;
this test regenerates the types with the pinned openapi-typescript and compares.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.handlers import ROOT

CLIENT = ROOT / "clients" / "typescript"
COMMITTED = CLIENT / "src" / "schema.d.ts"
DOCUMENT = ROOT / "docs" / "openapi.json"
GENERATOR = CLIENT / "node_modules" / ".bin" / "openapi-typescript"


def test_the_committed_types_are_a_fresh_generation(tmp_path: Path) -> None:
    npx = shutil.which("npx")
    if npx is None or not GENERATOR.exists():
        pytest.fail(
            "the client's packages are not installed: run `make client` (Node.js 20+)"
        )
    fresh = tmp_path / "schema.d.ts"
    # The same command as `npm run generate`, into a temporary file; --no-install:
    # only the version pinned in the lock, never one fetched on the fly.
    subprocess.run(
        [npx, "--no-install", "openapi-typescript", str(DOCUMENT), "-o", str(fresh)],
        cwd=CLIENT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert COMMITTED.read_text() == fresh.read_text(), (
        "clients/typescript/src/schema.d.ts is not what docs/openapi.json generates:"
        " run make openapi"
    )
