"""Imports point down, never up (CONTRIBUTING.md, "Import direction").

handlers (functions/*/app.py) -> sniper.composition* -> sniper.services ->
sniper.snipe -> adapters (repositories, ebay, email, notify, token_cipher) ->
foundation (errors, clock, money, observability, auth, pagination, aws) ->
contract (models, settings). sniper.api and sniper.openapi are the HTTP edge only
handlers use. Shipped code never imports functions/ (another handler), local/,
tests/, tools/ or bench/, and only the edge and the handlers import Powertools'
event_handler (services answer Python, not HTTP).

The check parses every import with ast (TYPE_CHECKING and function-level imports
included) rather than importing anything, so it needs no environment and sees
imports that a lazy code path would hide. A module the map does not know (a new
file at shared/sniper/ top level) counts as foundation, a strict place to
start: it fails the moment it imports upward, and the map gets a line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# layer -> the layers its modules may import (its own included where allowed).
ALLOWED: dict[str, frozenset[str]] = {
    "handler": frozenset(
        {"composition", "edge", "service", "snipe", "adapter", "foundation", "contract"}
    ),
    "composition": frozenset(
        {"composition", "service", "snipe", "adapter", "foundation", "contract"}
    ),
    "edge": frozenset({"edge", "foundation", "contract"}),
    "service": frozenset({"service", "snipe", "adapter", "foundation", "contract"}),
    "snipe": frozenset({"snipe", "adapter", "foundation", "contract"}),
    # Adapters do not call each other either: only their own package (below).
    "adapter": frozenset({"foundation", "contract"}),
    "foundation": frozenset({"foundation", "contract"}),
    "contract": frozenset({"contract"}),
}
ADAPTERS = frozenset({"repositories", "ebay", "email", "notify", "token_cipher"})
CONTRACT = frozenset({"models", "settings"})
EDGE = frozenset({"api", "openapi"})
# Never imported by shipped code: dev-only trees, and handlers (each is `app`).
FORBIDDEN_TOP = frozenset({"functions", "local", "tests", "tools", "bench", "app"})
HTTP_ONLY = "aws_lambda_powertools.event_handler"


@dataclass(frozen=True)
class Module:
    name: str  # dotted: sniper.services.bids, functions.bid_management.app
    path: Path

    @property
    def layer(self) -> str:
        return layer_of(self.name)

    @property
    def component(self) -> str:
        return component_of(self.name)


def layer_of(name: str) -> str:
    parts = name.split(".")
    if parts[0] == "functions":
        return "handler"
    part = parts[1] if len(parts) > 1 else ""
    if part.startswith("composition"):
        return "composition"
    if part in EDGE:
        return "edge"
    if part == "services":
        return "service"
    if part == "snipe":
        return "snipe"
    if part in ADAPTERS:
        return "adapter"
    if part in CONTRACT:
        return "contract"
    return "foundation"


def component_of(name: str) -> str:
    """The package a module belongs to: sniper.repositories, sniper.aws, ..."""
    return ".".join(name.split(".")[:2])


def shipped_modules(root: Path) -> list[Module]:
    """Every module of the layer (shared/sniper) and of the handlers (functions)."""
    found = []
    for path in sorted((root / "shared" / "sniper").rglob("*.py")):
        parts = list(path.relative_to(root / "shared").with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append(Module(".".join(parts), path))
    for path in sorted((root / "functions").rglob("*.py")):
        dotted = ".".join(path.relative_to(root).with_suffix("").parts)
        found.append(Module(dotted, path))
    return found


def imported(module: Module, root: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import, `from sniper import aws` as sniper.aws."""
    tree = ast.parse(module.path.read_text(), filename=str(module.path))
    names: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.name.split(".")
                if module.path.name != "__init__.py":
                    package = package[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = base.startswith("sniper") and _module_exists(
                    root, candidate
                )
                names.append((node.lineno, candidate if is_module else base))
    return names


def _module_exists(root: Path, dotted: str) -> bool:
    path = root / "shared" / Path(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def violations(root: Path) -> list[str]:
    """Every import that points the wrong way, as `path:line: why`."""
    found = []
    for module in shipped_modules(root):
        where = module.path.relative_to(root)
        for line, name in imported(module, root):
            top = name.split(".")[0]
            problem = None
            if top in FORBIDDEN_TOP:
                problem = f"imports {name}: shipped code never imports {top}/"
            elif (name == HTTP_ONLY or name.startswith(HTTP_ONLY + ".")) and (
                module.layer not in ("handler", "edge")
            ):
                problem = (
                    f"imports {name}: only handlers and sniper.api/openapi speak "
                    "HTTP; a service answers Python values and raises sniper.errors"
                )
            elif top == "sniper":
                target = layer_of(name)
                same_package = component_of(name) == module.component
                if target not in ALLOWED[module.layer] and not same_package:
                    problem = (
                        f"imports {name}: {module.layer} ({module.name}) may not "
                        f"import {target}"
                    )
            if problem:
                found.append(f"{where}:{line}: {problem}")
    return found


def test_every_shipped_import_points_down() -> None:
    found = violations(ROOT)
    assert not found, "imports pointing up:\n" + "\n".join(found)


def test_the_map_covers_the_tree() -> None:
    """Each layer has modules, so a rename that empties one is noticed."""
    layers = {module.layer for module in shipped_modules(ROOT)}
    assert layers == set(ALLOWED)


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A tiny tree laid out like ours, every import in it pointing down."""
    for package in ("sniper", "sniper/services", "sniper/repositories", "sniper/ebay"):
        write(tmp_path, f"shared/{package}/__init__.py", "")
    write(tmp_path, "shared/sniper/models/__init__.py", "")
    write(tmp_path, "shared/sniper/aws.py", "import boto3\n")
    write(tmp_path, "shared/sniper/repositories/bids.py", "from sniper import aws\n")
    write(
        tmp_path,
        "shared/sniper/services/bids.py",
        "from sniper.repositories.bids import X\nfrom sniper.models import Y\n",
    )
    write(
        tmp_path, "shared/sniper/composition.py", "from sniper.services import bids\n"
    )
    write(
        tmp_path,
        "functions/bid_management/app.py",
        "from aws_lambda_powertools.event_handler import Response\n"
        "from sniper.composition import z\n",
    )
    return tmp_path


def test_a_clean_tree_passes(tree: Path) -> None:
    assert violations(tree) == []


@pytest.mark.parametrize(
    ("relative", "line", "expected"),
    [
        (
            "shared/sniper/repositories/bids.py",
            "from sniper.services.bids import Service",
            "adapter (sniper.repositories.bids) may not import service",
        ),
        (
            "shared/sniper/repositories/bids.py",
            "from ..services import bids",
            "adapter (sniper.repositories.bids) may not import service",
        ),
        (
            "shared/sniper/repositories/bids.py",
            "from sniper.ebay import client",
            "adapter (sniper.repositories.bids) may not import adapter",
        ),
        (
            "shared/sniper/services/bids.py",
            "from sniper import composition",
            "service (sniper.services.bids) may not import composition",
        ),
        (
            "shared/sniper/models/__init__.py",
            "from sniper.aws import session",
            "contract (sniper.models) may not import foundation",
        ),
        (
            "shared/sniper/services/bids.py",
            "from aws_lambda_powertools.event_handler import Response",
            "only handlers and sniper.api/openapi speak HTTP",
        ),
        (
            "shared/sniper/services/bids.py",
            "import local.ebay_emulator",
            "shipped code never imports local/",
        ),
        (
            "shared/sniper/aws.py",
            "from tests.support import fakes",
            "shipped code never imports tests/",
        ),
        (
            "shared/sniper/composition.py",
            "def build():\n    from functions.bid_management import app",
            "shipped code never imports functions/",
        ),
        (
            "functions/bid_management/app.py",
            "from local.stack import config",
            "shipped code never imports local/",
        ),
    ],
)
def test_a_planted_upward_import_fails(
    tree: Path, relative: str, line: str, expected: str
) -> None:
    path = tree / relative
    path.write_text(path.read_text() + line + "\n")

    (found,) = violations(tree)

    assert found.startswith(f"{relative}:"), found
    assert expected in found
