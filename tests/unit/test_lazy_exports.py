"""The layer's lazy package inits export what the eager ones did, and no more."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.handlers import ROOT


def load_tool() -> ModuleType:
    path = ROOT / "layers" / "dependencies" / "lazy_exports.py"
    spec = importlib.util.spec_from_file_location("lazy_exports", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lazy_exports = load_tool()


def make_package(root: Path, init: str) -> Path:
    package = root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text(textwrap.dedent(init))
    (package / "heavy.py").write_text(
        "LOADED = True\nclass Resolver: ...\ndef helper(): return 'helper'\n"
    )
    (package / "light.py").write_text("class Event: ...\n")
    (package / "source.py").write_text("def source(): return 'the function'\n")
    return package


def run(root: Path, code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


INIT = '''
    """A package that re-exports."""

    from __future__ import annotations

    from .heavy import Resolver, helper as assist
    from pkg.light import Event
    from .source import source

    __all__ = ["Resolver", "assist", "Event", "source"]
'''


def test_names_load_on_first_use_and_are_the_same_objects(tmp_path: Path) -> None:
    package = make_package(tmp_path, INIT)
    lazy_exports.rewrite(package / "__init__.py")

    out = run(
        tmp_path,
        """
        import sys, pkg
        print("heavy" in dir(pkg), "pkg.heavy" in sys.modules)
        from pkg import Resolver, assist, Event
        import pkg.heavy, pkg.light
        print(Resolver is pkg.heavy.Resolver, assist is pkg.heavy.helper,
              Event is pkg.light.Event, pkg.__all__, pkg.__doc__)
        """,
    )

    first, second = out.splitlines()
    assert first == "False False"  # nothing heavy until a name is asked for
    assert second == (
        "True True True ['Resolver', 'assist', 'Event', 'source'] "
        "A package that re-exports."
    )


def test_a_name_shared_with_a_submodule_stays_the_function(tmp_path: Path) -> None:
    package = make_package(tmp_path, INIT)
    lazy_exports.rewrite(package / "__init__.py")

    # Importing the submodule first would, were the name lazy, leave the package's
    # attribute pointing at the module.
    out = run(tmp_path, "import pkg.source\nfrom pkg import source\nprint(source())")

    assert out == "the function"


def test_an_unknown_name_is_an_attribute_error(tmp_path: Path) -> None:
    package = make_package(tmp_path, INIT)
    lazy_exports.rewrite(package / "__init__.py")

    out = run(
        tmp_path,
        "import pkg\ntry:\n    pkg.Missing\nexcept AttributeError as e:\n    print(e)",
    )

    assert out == "module 'pkg' has no attribute 'Missing'"


def test_a_rewritten_init_is_left_alone(tmp_path: Path) -> None:
    package = make_package(tmp_path, INIT)
    lazy_exports.rewrite(package / "__init__.py")
    once = (package / "__init__.py").read_text()

    lazy_exports.rewrite(package / "__init__.py")

    assert (package / "__init__.py").read_text() == once


@pytest.mark.parametrize(
    "statement",
    ["from .heavy import *", "import os", "VALUE = 1", "def f(): pass"],
)
def test_an_init_that_does_more_than_re_export_fails_the_build(
    tmp_path: Path, statement: str
) -> None:
    package = make_package(tmp_path, f"from .light import Event\n{statement}\n")

    with pytest.raises(SystemExit, match="not only re-exports"):
        lazy_exports.rewrite(package / "__init__.py")
    assert "_LAZY" not in (package / "__init__.py").read_text()


@pytest.mark.parametrize(
    "package",
    [
        "aws_lambda_powertools.event_handler",
        "aws_lambda_powertools.utilities.data_classes",
    ],
)
def test_powertools_packages_keep_every_name(tmp_path: Path, package: str) -> None:
    """The installed Powertools' inits, rewritten, resolve every name in `__all__`
    to the object the eager init gave."""
    eager = importlib.import_module(package)
    source = Path(str(eager.__file__))
    rewritten = lazy_exports.lazy_source(source.read_text(), source.parent)
    lazy = ModuleType(package)
    lazy.__package__ = package
    lazy.__file__ = str(source)
    # Runs the rewritten init as that package would (our own generated code).
    exec(compile(rewritten, str(source), "exec"), lazy.__dict__)  # noqa: S102

    assert lazy.__all__ == eager.__all__
    for name in eager.__all__:
        assert getattr(lazy, name) is getattr(eager, name), name
