"""Rewrite a package `__init__.py` that only re-exports names into lazy form.

Powertools' `event_handler` and `utilities.data_classes` packages import every
resolver and every event class they export, so `APIGatewayRestResolver` loads
AppSync, Bedrock, VPC Lattice, asyncio and some forty event classes on every cold
start. Rewritten, the package keeps the same names (`__all__`, `dir()`, `from ...
import Name`) and imports each one's module on first use (PEP 562), as Powertools
itself did for the parser's envelopes (powertools-lambda-python#8405).

Only a module made of imports, a docstring and `__all__` is rewritten; anything
else fails the layer's build, so an upgrade that changes such a file is noticed.
A name that is also a submodule's name (`data_classes.event_source`) stays
an eager import: once that submodule is imported, Python would set the package's
attribute to the module and hide the function.

Usage: `python lazy_exports.py PACKAGE_INIT...` (rewrites in place).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MARKER = "# Rewritten at build by layers/dependencies/lazy_exports.py"

TEMPLATE = """{docstring}
{marker}: the names below
# are imported on first use, not with the package.
import importlib as _importlib

{eager}
_LAZY = {lazy!r}

{all}


def __getattr__(name):
    try:
        module, attribute = _LAZY[name]
    except KeyError:
        message = f"module {{__name__!r}} has no attribute {{name!r}}"
        raise AttributeError(message) from None
    value = getattr(_importlib.import_module(module, __package__), attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
"""


class NotReExports(ValueError):
    """The module does more than re-export names: rewriting it could change it."""


def lazy_source(source: str, package_dir: Path) -> str:
    """The lazy form of an `__init__.py` whose statements only re-export names."""
    tree = ast.parse(source)
    docstring, eager = "", []
    lazy: dict[str, tuple[str, str]] = {}
    exported_all = ""
    for index, node in enumerate(tree.body):
        if (
            index == 0
            and isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            docstring = ast.get_source_segment(source, node) or ""
        elif isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        elif isinstance(node, ast.ImportFrom) and node.module:
            module = "." * node.level + node.module
            for alias in node.names:
                name = alias.asname or alias.name
                if alias.name == "*":
                    raise NotReExports(f"line {node.lineno}: a star import")
                if _is_own_submodule(name, package_dir):
                    eager.append(ast.unparse(_single(node, alias)))
                else:
                    lazy[name] = (module, alias.name)
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id == "__all__"
        ):
            exported_all = ast.unparse(node)
        else:
            raise NotReExports(f"line {node.lineno}: {ast.unparse(node)[:60]!r}")
    return TEMPLATE.format(
        docstring=docstring,
        marker=MARKER,
        eager="\n".join(eager),
        lazy=lazy,
        all=exported_all,
    )


def _single(node: ast.ImportFrom, alias: ast.alias) -> ast.ImportFrom:
    return ast.ImportFrom(module=node.module, names=[alias], level=node.level)


def _is_own_submodule(name: str, package_dir: Path) -> bool:
    """True when `name` is also a submodule of the package being rewritten."""
    return (package_dir / f"{name}.py").exists() or (package_dir / name).is_dir()


def rewrite(init: Path) -> None:
    """Rewrite `init` in place (once: an already rewritten file is left alone)."""
    source = init.read_text(encoding="utf-8")
    if MARKER in source:
        return
    try:
        rewritten = lazy_source(source, init.parent)
    except NotReExports as error:
        raise SystemExit(f"{init}: not only re-exports ({error})") from error
    init.write_text(rewritten, encoding="utf-8")


if __name__ == "__main__":
    for argument in sys.argv[1:]:
        rewrite(Path(argument))
