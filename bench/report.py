"""Where benchmarks write their figures: one JSON file each, one section of the report.

Every benchmark owns a named section of `docs/benchmarks.md` (between marker comments)
and a `bench/results/<name>.json`, so benchmarks run separately never overwrite each
other's figures, and the report always says which machine measured them.
"""

from __future__ import annotations

import json
import os
import platform
import re
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
REPORT = ROOT / "docs" / "benchmarks.md"
HEADER = """# Benchmarks

Every figure here is written by `make bench` (the JSON beside each section lives in
`bench/results/`). Ratios are measured side by side in one run; each section names
the machine and the time it ran. Reproduce with `make bench` on a fresh clone.
"""


def machine() -> dict[str, Any]:
    """What ran the benchmark: figures from different machines do not compare."""
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def write_json(name: str, figures: dict[str, Any]) -> Path:
    """`bench/results/<name>.json` with the figures and the machine."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {"benchmark": name, "machine": machine(), **figures}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    return path


def write_section(name: str, markdown: str) -> Path:
    """Replace (or append) this benchmark's section of `docs/benchmarks.md`."""
    begin, end = f"<!-- begin:{name} -->", f"<!-- end:{name} -->"
    info = machine()
    stamp = (
        f"\n_Measured {info['measured_at']} on {info['cpus']} CPUs, "
        f"{info['platform']}, Python {info['python']}._\n"
    )
    block = f"{begin}\n{markdown.strip()}\n{stamp}{end}"
    text = REPORT.read_text() if REPORT.exists() else HEADER
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(text)
    return REPORT
