"""`make demo` against a stack with `make dev`'s default timing: the tour a new user
watches runs to WON and prints the bid's timing.

The timing comes from the Makefile's FAST_ENV, the very arguments plain `make dev`
passes, so a change there that makes a short auction unsnipeable fails here. The
auction is shorter than the demo's 60 s to keep the test under a minute.
"""

from __future__ import annotations

import io
import re
import shlex
from collections.abc import Iterator

import pytest

from local import demo
from tests.e2e.support import RunningStack, free_ports, start_stack
from tests.support.handlers import ROOT

pytestmark = pytest.mark.slow

# The demo's 60 s, shortened: the margin (10 s) and lead (5 s) leave 15 s for the
# tour's setup, four cold starts that took 10 s on a loaded two-core machine.
AUCTION_SECONDS = 30


def make_dev_timing() -> tuple[str, ...]:
    """The `--env` arguments of the Makefile's FAST_ENV (make dev's default)."""
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(r"^FAST_ENV = ((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert found, "FAST_ENV is gone from the Makefile"
    arguments = tuple(shlex.split(found.group(1).replace("\\\n", " ")))
    assert arguments and arguments[0] == "--env", arguments
    return arguments


@pytest.fixture(scope="module")
def dev_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("demo-stack")
    ebay_port, outbox_port = free_ports(2)
    running = start_stack(
        folder,
        template=ROOT / "template.yaml",
        ebay_port=ebay_port,
        outbox_port=outbox_port,
        extra=make_dev_timing(),
    )
    yield running
    running.stop()


def test_the_demo_snipes_and_wins_against_make_devs_timing(
    dev_stack: RunningStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert dev_stack.ebay is not None and dev_stack.outbox is not None
    out = io.StringIO()

    code = demo.main(
        [
            "--api-url",
            dev_stack.api,
            "--ebay-url",
            dev_stack.ebay,
            "--outbox-url",
            dev_stack.outbox,
            "--auction-seconds",
            str(AUCTION_SECONDS),
        ],
        out=out,
    )

    printed = out.getvalue()
    assert code == 0, f"{printed}\n{capsys.readouterr().err}\n{dev_stack.log()[-3000:]}"
    assert f"[{demo.STEPS}/{demo.STEPS}]" in printed
    assert re.search(r"outcome +WON at \$31\.00 USD", printed), printed
    assert re.search(r"lateness +\d+ ms", printed), printed
    assert re.search(r"landed on eBay .*, \d+ ms before the end", printed), printed
    assert re.search(r"CREATE .*\n.*PLACE .*\n.*WIN ", printed), printed
    assert "subject  You won" in printed, printed
    assert f"{dev_stack.outbox}/outbox/emails/" in printed


def test_the_demo_says_to_start_make_dev_when_nothing_answers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    (port,) = free_ports(1)
    url = f"http://127.0.0.1:{port}"

    code = demo.main(["--api-url", url, "--ebay-url", url, "--outbox-url", url])

    assert code == 1
    assert "Is `make dev` running?" in capsys.readouterr().err
