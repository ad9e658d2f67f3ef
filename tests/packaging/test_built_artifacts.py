"""`sam build` output imports on its own, as Lambda would load it.

Each handler is imported in a fresh interpreter with `-S` (no site-packages) and a
PYTHONPATH of only the built function and layer folders, and last, as in Lambda,
the runtime's own AWS SDK (boto3 and its dependencies, which the layer leaves to
the runtime: `lambda_runtime.runtime_site_packages`, the venv's copies). So a
module missing from the layer or a dependency missing from its requirements fails
here, not in AWS; so does a layer that ships any part of the runtime's SDK, or
grows past what Lambda unpacks quickly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from local.template.loader import load_template, resources_of_type
from tests.packaging.lambda_runtime import (
    excluded_packages,
    lambda_environment,
    runtime_provided,
    runtime_site_packages,
    top_level_names,
)
from tests.support.handlers import ROOT

pytestmark = pytest.mark.slow

# The dependency layer's size, unpacked and as `sam deploy` zips it (deflate):
# boto3 and botocore alone were 36 MB of it (28 MB of botocore's JSON models).
LAYER_UNZIPPED_MAX_BYTES = 45_000_000
LAYER_ZIPPED_MAX_BYTES = 15_000_000


def system_python() -> str:
    """A python3.11 with pip outside the venv: SAM's pip workflow needs one."""
    venv_bin = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(
        p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin
    )
    found = shutil.which("python3.11", path=path)
    if found is None:
        pytest.fail("no python3.11 outside the virtualenv for sam build")
    return path


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sam = shutil.which("sam") or str(Path.home() / ".local/bin/sam")
    if not Path(sam).exists():
        pytest.fail("the SAM CLI is missing; `make test` installs it")
    target = tmp_path_factory.mktemp("sam-build")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")
    }
    env.update(PATH=system_python(), SAM_CLI_TELEMETRY="0")
    env.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    result = subprocess.run(
        [sam, "build", "--template", "template.yaml", "--build-dir", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return target


@pytest.fixture(scope="module")
def runtime_sdk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runtime's boto3 and its dependencies, as /var/lang's site-packages."""
    return runtime_site_packages(tmp_path_factory.mktemp("var-lang-site-packages"))


FUNCTIONS = sorted(
    resources_of_type(
        load_template(ROOT / "template.yaml"), "AWS::Serverless::Function"
    )
)
LAYERS = sorted(
    resources_of_type(
        load_template(ROOT / "template.yaml"), "AWS::Serverless::LayerVersion"
    )
)


def built_path(build_dir: Path, runtime_sdk: Path, function: str) -> list[Path]:
    """What Lambda puts on `sys.path` for `function`: its code, the layers, and
    after them the runtime's SDK."""
    return [
        build_dir / function,
        *(build_dir / layer / "python" for layer in LAYERS),
        runtime_sdk,
    ]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_handler_imports_from_built_artifacts_alone(
    build_dir: Path, runtime_sdk: Path, function: str, tmp_path: Path
) -> None:
    handler = load_template(ROOT / "template.yaml")["Resources"][function][
        "Properties"
    ]["Handler"]
    module, attribute = handler.rsplit(".", 1)
    python_path = [str(path) for path in built_path(build_dir, runtime_sdk, function)]
    root = str(ROOT)
    code = (
        "import sys, importlib\n"
        f"handler = getattr(importlib.import_module({module!r}), {attribute!r})\n"
        "assert callable(handler)\n"
        "leaked = [m.__file__ for m in sys.modules.values()\n"
        f"          if (getattr(m, '__file__', None) or '').startswith({root!r})]\n"
        "assert not leaked, leaked\n"
    )

    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": os.pathsep.join(python_path),
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr


def test_layers_hold_the_package_where_lambda_mounts_it(build_dir: Path) -> None:
    assert (build_dir / "SharedLayer" / "python" / "sniper" / "__init__.py").exists()
    assert (build_dir / "DependenciesLayer" / "python" / "pydantic").is_dir()
    assert not (build_dir / "SharedLayer" / "python" / "python").exists()


def test_the_dependency_layer_leaves_the_sdk_to_the_runtime(build_dir: Path) -> None:
    """Not one module of boto3's closure (nor of an unused package) in the layer:
    one of them would mix our versions with the runtime's."""
    layer = build_dir / "DependenciesLayer" / "python"
    shipped = {path.name.removesuffix(".py") for path in layer.iterdir()}
    for name in excluded_packages():
        assert not top_level_names(name) & shipped, name
    assert "boto3" in runtime_provided()
    assert (layer / "aws_lambda_powertools").is_dir()


def test_the_dependency_layer_stays_small(build_dir: Path, tmp_path: Path) -> None:
    layer = build_dir / "DependenciesLayer" / "python"
    files = [path for path in layer.rglob("*") if path.is_file()]
    unzipped = sum(path.stat().st_size for path in files)
    archive = tmp_path / "layer.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in files:
            zipped.write(path, Path("python") / path.relative_to(layer))

    assert unzipped <= LAYER_UNZIPPED_MAX_BYTES, f"{unzipped / 1e6:.1f} MB unzipped"
    zipped_size = archive.stat().st_size
    assert zipped_size <= LAYER_ZIPPED_MAX_BYTES, f"{zipped_size / 1e6:.1f} MB zipped"


# Resolvers and event classes an API handler never uses: the layer's Powertools
# imports each on first use (layers/dependencies/lazy_exports.py), and wrapt 1
# (X-Ray's) does not import asyncio's subprocess machinery or importlib.metadata.
UNUSED_BY_AN_API_HANDLER = (
    "aws_lambda_powertools.event_handler.appsync",
    "aws_lambda_powertools.event_handler.bedrock_agent",
    "aws_lambda_powertools.event_handler.vpc_lattice",
    "aws_lambda_powertools.event_handler.events_appsync",
    "aws_lambda_powertools.utilities.data_classes.kafka_event",
    "aws_lambda_powertools.utilities.data_classes.code_pipeline_job_event",
    "wrapt.synchronization",
)


def test_an_api_cold_start_skips_the_resolvers_it_does_not_use(
    build_dir: Path, runtime_sdk: Path, tmp_path: Path
) -> None:
    function = "UserManagementFunction"
    python_path = built_path(build_dir, runtime_sdk, function)
    code = (
        "import sys, app\n"
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
        "from aws_lambda_powertools.utilities.data_classes import SQSEvent\n"
        f"unused = {UNUSED_BY_AN_API_HANDLER!r}\n"
        "print(sorted(m for m in unused if m in sys.modules))\n"
    )
    environment = lambda_environment(function, python_path, build_dir / function)
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],
        cwd=tmp_path,
        env={**environment, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    layer = build_dir / "DependenciesLayer" / "python" / "aws_lambda_powertools"
    for init in ("event_handler", "utilities/data_classes"):
        assert "lazy_exports.py" in (layer / init / "__init__.py").read_text()
