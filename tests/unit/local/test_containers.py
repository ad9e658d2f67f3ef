"""Local Lambda containers: real worker processes running tiny handlers."""

from __future__ import annotations

import io
import json
import os
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.stack import containers
from local.stack.config import StackConfig, container_environment
from local.stack.console import Console
from local.stack.containers import ContainerPool, Invocation, Outcome
from local.template.functions import FunctionSpec

pytestmark = pytest.mark.slow

HANDLER = """
import json, os, sys, time

LOADED_AT = time.time()
NAMES = ("TABLE", "AWS_ENDPOINT_URL", "_HANDLER", "TZ")

def handler(event, context):
    action = event.get("action")
    if action == "fail":
        raise ValueError("bad input")
    if action == "sleep":
        if event.get("child"):
            import subprocess
            sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
            child = subprocess.Popen(sleeper)
            with open(event["child"], "w") as stream:
                stream.write(str(child.pid))
        time.sleep(event["seconds"])
    if action == "exit":
        sys.exit(3)
    if action == "chatty":
        for number in range(event["lines"]):
            print(f"line {number}")
        print("to stderr", file=sys.stderr)
    if action == "unserialisable":
        return {"when": object()}
    print(json.dumps({"level": "INFO", "message": "hello from the handler"}))
    return {
        "pid": os.getpid(),
        "loadedAt": LOADED_AT,
        "requestId": context.aws_request_id,
        "functionName": context.function_name,
        "memory": context.memory_limit_in_mb,
        "arn": context.invoked_function_arn,
        "remaining": context.get_remaining_time_in_millis(),
        "env": {k: os.environ.get(k) for k in NAMES},
        "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        "path0": sys.path[0],
    }
"""


def spec_for(
    folder: Path, source: str, *, timeout_s: int = 3, handler: str = "app.handler"
) -> FunctionSpec:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.py").write_text(textwrap.dedent(source))
    return FunctionSpec(
        logical_id="TinyFunction",
        name="tiny-dev",
        arn="arn:aws:lambda:us-east-1:123456789012:function:tiny-dev",
        runtime="python3.11",
        handler=handler,
        code_dir=folder,
        layer_dirs=(),
        memory_mb=256,
        timeout_s=timeout_s,
        environment={"TABLE": "users-dev"},
    )


@pytest.fixture
def output() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def pool(tmp_path: Path, output: io.StringIO) -> Iterator[ContainerPool]:
    config = StackConfig(template=tmp_path / "t.yaml", base_dir=tmp_path)
    containers = ContainerPool(
        lambda spec: container_environment(
            spec,
            config=config,
            aws_url="http://127.0.0.1:1",
            lambda_url="http://127.0.0.1:2",
        ),
        Console(output),
    )
    yield containers
    containers.close()


def run(
    pool: ContainerPool, spec: FunctionSpec, event: Any, request_id: str = "r-1"
) -> Outcome:
    invocation = Invocation(
        request_id=request_id,
        payload=json.dumps(event),
        invoked_arn=spec.arn,
        trace_id="Root=1-00000000-000000000000000000000000",
    )
    return pool.invoke(spec, invocation)


def test_the_handler_runs_with_a_lambda_context_and_its_environment(
    pool: ContainerPool, tmp_path: Path, output: io.StringIO
) -> None:
    spec = spec_for(tmp_path / "fn", HANDLER)

    outcome = run(pool, spec, {})

    assert not outcome.error, outcome.payload
    answer = json.loads(outcome.payload)
    assert answer["requestId"] == "r-1"
    assert answer["functionName"] == "tiny-dev"
    assert answer["memory"] == "256"
    assert answer["arn"] == spec.arn
    assert 2000 < answer["remaining"] <= 3000
    assert answer["env"] == {
        "TABLE": "users-dev",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1",
        "_HANDLER": "app.handler",
        "TZ": ":UTC",
    }
    assert answer["trace"].startswith("Root=1-")
    assert answer["path0"] == str(tmp_path / "fn")
    logs = output.getvalue()
    assert "TinyFunction" in logs
    assert "hello from the handler" in logs
    assert "REPORT RequestId: r-1" in logs
    assert "Init Duration" in logs


def test_an_invocation_returns_after_its_output_is_printed(
    pool: ContainerPool, tmp_path: Path, output: io.StringIO
) -> None:
    spec = spec_for(tmp_path / "fn", HANDLER)

    run(pool, spec, {"action": "chatty", "lines": 3000}, request_id="chatty")

    logs = output.getvalue()
    assert "line 2999" in logs
    assert logs.index("line 2999") < logs.index("to stderr")
    assert logs.index("to stderr") < logs.index("REPORT RequestId: chatty")


def test_a_warm_container_is_reused(pool: ContainerPool, tmp_path: Path) -> None:
    spec = spec_for(tmp_path / "fn", HANDLER)

    first = json.loads(run(pool, spec, {}).payload)
    second = json.loads(run(pool, spec, {}).payload)

    assert first["pid"] == second["pid"]
    assert first["loadedAt"] == second["loadedAt"]


def test_a_handler_error_is_a_lambda_error_and_the_container_survives(
    pool: ContainerPool, tmp_path: Path, output: io.StringIO
) -> None:
    spec = spec_for(tmp_path / "fn", HANDLER)
    before = json.loads(run(pool, spec, {}).payload)["pid"]

    outcome = run(pool, spec, {"action": "fail"})

    assert outcome.error
    error = json.loads(outcome.payload)
    assert (error["errorType"], error["errorMessage"]) == ("ValueError", "bad input")
    assert "app.py" in error["stackTrace"][0]
    assert "[ERROR] ValueError: bad input" in output.getvalue()
    assert json.loads(run(pool, spec, {}).payload)["pid"] == before


def running(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS): ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return "\nState:\tZ" not in status


def test_a_timeout_kills_the_container(pool: ContainerPool, tmp_path: Path) -> None:
    spec = spec_for(tmp_path / "fn", HANDLER, timeout_s=1)
    before = json.loads(run(pool, spec, {}).payload)["pid"]
    child_file = tmp_path / "child.pid"

    outcome = run(
        pool,
        spec,
        {"action": "sleep", "seconds": 5, "child": str(child_file)},
        request_id="slow",
    )

    assert outcome.error
    error = json.loads(outcome.payload)
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    assert json.loads(run(pool, spec, {}).payload)["pid"] != before
    # What the handler started dies with its container (Lambda freezes the whole
    # sandbox): no orphan keeps running after a timeout or Ctrl-C.
    child = int(child_file.read_text())
    deadline = time.monotonic() + 2
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not running(child)


def test_a_container_started_during_shutdown_is_stopped(
    tmp_path: Path, output: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[containers.Container] = []

    class Recorded(containers.Container):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(containers, "Container", Recorded)
    config = StackConfig(template=tmp_path / "t.yaml", base_dir=tmp_path)
    pool: ContainerPool

    def environment(spec: FunctionSpec) -> dict[str, str]:
        pool.close()  # Ctrl-C arrives while the container is being started
        return container_environment(
            spec, config=config, aws_url="http://127.0.0.1:1", lambda_url="http://x"
        )

    pool = ContainerPool(environment, Console(output))
    spec = spec_for(tmp_path / "fn", HANDLER)

    outcome = run(pool, spec, {})

    assert json.loads(outcome.payload)["errorType"] == "Runtime.Unavailable"
    assert len(started) == 1
    assert not started[0].alive


@pytest.mark.parametrize(
    ("source", "handler", "error_type"),
    [
        ("import not_installed_anywhere\n", "app.handler", "Runtime.ImportModuleError"),
        ("x = 1\n", "app.handler", "Runtime.HandlerNotFound"),
        ("def handler(:\n", "app.handler", "Runtime.UserCodeSyntaxError"),
        ("raise RuntimeError('no config')\n", "app.handler", "RuntimeError"),
    ],
)
def test_init_errors(
    pool: ContainerPool, tmp_path: Path, source: str, handler: str, error_type: str
) -> None:
    spec = spec_for(tmp_path / "fn", source, handler=handler)

    outcome = run(pool, spec, {})

    assert outcome.error
    assert json.loads(outcome.payload)["errorType"] == error_type


def test_exit_and_unserialisable_results(pool: ContainerPool, tmp_path: Path) -> None:
    spec = spec_for(tmp_path / "fn", HANDLER)

    exited = run(pool, spec, {"action": "exit"})
    unserialisable = run(pool, spec, {"action": "unserialisable"})

    assert json.loads(exited.payload)["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in json.loads(exited.payload)["errorMessage"]
    assert json.loads(unserialisable.payload)["errorType"] == "Runtime.MarshalError"


def test_concurrent_invocations_get_their_own_containers(
    pool: ContainerPool, tmp_path: Path
) -> None:
    spec = spec_for(tmp_path / "fn", HANDLER)
    outcomes: list[Outcome] = []

    def call() -> None:
        outcomes.append(run(pool, spec, {"action": "sleep", "seconds": 0.5}))

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    pids = {json.loads(outcome.payload)["pid"] for outcome in outcomes}
    assert len(pids) == 2


def test_a_running_invocation_is_listed_with_its_worker_until_it_ends(
    pool: ContainerPool, tmp_path: Path
) -> None:
    spec = spec_for(tmp_path / "fn", HANDLER)
    outcomes: list[Outcome] = []
    event = {"action": "sleep", "seconds": 5}
    worker = threading.Thread(
        target=lambda: outcomes.append(run(pool, spec, event, request_id="asleep"))
    )
    worker.start()
    deadline = time.monotonic() + 10
    while not pool.running() and time.monotonic() < deadline:
        time.sleep(0.02)
    ((container, invocation),) = pool.running()

    # Killing that worker is what a crashed execution environment looks like.
    os.kill(container.pid, 9)
    worker.join(10)

    assert (invocation.request_id, json.loads(invocation.payload)) == ("asleep", event)
    assert json.loads(outcomes[0].payload)["errorType"] == "Runtime.ExitError"
    assert pool.running() == []
