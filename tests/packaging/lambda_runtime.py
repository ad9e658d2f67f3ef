"""What Lambda's python3.11 runtime gives a function besides its code and layers.

- The AWS SDK. The dependency layer leaves boto3 and everything botocore imports
  to the runtime (`runtime` in layers/dependencies/excluded.txt), which keeps them
  in /var/lang/lib/python3.11/site-packages, after the layers on `sys.path`.
  `runtime_site_packages` stands in for that folder with the virtualenv's copies
  (the lock's versions: the ones the tests run with), in a folder of their own, so
  a handler importing from the built folders finds the SDK there and nowhere else.
- The environment: Lambda's own variables plus the function's from the template.
  Powertools' Tracer patches libraries only when it sees `LAMBDA_TASK_ROOT`, so an
  import measured without them is not the import Lambda runs.
"""

from __future__ import annotations

import compileall
import importlib.metadata
import py_compile
import shutil
from pathlib import Path

from local.template.functions import function_specs
from local.template.intrinsics import Resolver
from local.template.loader import load_template
from tests.support.handlers import ROOT

EXCLUDED = ROOT / "layers" / "dependencies" / "excluded.txt"
REGION = "us-east-1"


def excluded_packages() -> dict[str, str]:
    """The lock's packages the layer does not ship, with why: `runtime`, `unused`."""
    packages = {}
    for line in EXCLUDED.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, reason = line.split()
            packages[name] = reason
    return packages


def runtime_provided() -> list[str]:
    """The distributions the layer leaves to Lambda's runtime."""
    return [name for name, why in excluded_packages().items() if why == "runtime"]


def top_level_names(distribution: str) -> set[str]:
    """The importable names a distribution installs (`python-dateutil`: dateutil)."""
    files = importlib.metadata.distribution(distribution).files or []
    names = set()
    for file in files:
        top = file.parts[0]
        if top.endswith((".dist-info", ".data")) or top in ("..", "__pycache__"):
            continue
        names.add(top.removesuffix(".py"))
    return names


def runtime_site_packages(target: Path, *, compiled: bool = False) -> Path:
    """A stand-in for the runtime's site-packages: the virtualenv's installed files
    of each distribution the runtime provides, metadata included. `compiled` adds
    bytecode, as the runtime's own folder has."""
    for name in runtime_provided():
        distribution = importlib.metadata.distribution(name)
        for file in distribution.files or []:
            if file.parts[0] == ".." or "__pycache__" in file.parts:
                continue
            source = Path(str(distribution.locate_file(file)))
            destination = target / file
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, destination)
    if compiled:
        compileall.compile_dir(
            target,
            quiet=1,
            workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    return target


def lambda_environment(
    function: str, python_path: list[Path], task_root: Path
) -> dict[str, str]:
    """The environment Lambda gives `function`: the template's variables (Globals
    merged, references resolved to local stand-ins), then Lambda's own."""
    template = load_template(ROOT / "template.yaml")
    spec = function_specs(template, Resolver(template), ROOT)[function]
    environment = dict(spec.environment)
    environment.update(
        {
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": "/var/runtime",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[$LATEST]0123456789abcdef",
            "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "_HANDLER": spec.handler,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEEXAMPLE00",
            "AWS_SECRET_ACCESS_KEY": "example-secret",
            "AWS_SESSION_TOKEN": "example-session-token",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
            "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
            "_AWS_XRAY_DAEMON_PORT": "2000",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": ":".join(str(path) for path in python_path),
        }
    )
    return environment
