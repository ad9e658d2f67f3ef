"""Local Lambda containers: one worker process per concurrent invocation of a function.

Like Lambda, a container is created on the first invocation that finds no idle one
(a cold start: the worker imports the handler once), serves one invocation at a
time, and stays warm for the next. Each worker runs `runtime/bootstrap.py` with the
project's Python and the function's environment; its stdout and stderr (the
Powertools JSON lines, START/END/REPORT) reach the terminal prefixed with the
function's name. An invocation that outlives the function's `Timeout` kills its
container, as Lambda does.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from local.stack.console import Console
from local.template.functions import FunctionSpec

BOOTSTRAP = Path(__file__).resolve().parent / "runtime" / "bootstrap.py"
INIT_TIMEOUT_S = 10.0
LOG_DRAIN_TIMEOUT_S = 2.0
# An invocation that waits this long for a container (a free one, or a cold start)
# is logged: on AWS it would have started within about a second, so a fault
# campaign counts it as the stack stalling, not as the sniper's doing.
SLOW_START_S = 2.0
_EOF = object()
_REPORT = "REPORT RequestId: "


@dataclass(frozen=True)
class Invocation:
    request_id: str
    payload: str  # JSON text
    invoked_arn: str
    client_context: dict[str, Any] | None = None
    trace_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The function's answer: a JSON payload, or a Lambda error body."""

    payload: str
    error: bool = False

    @classmethod
    def failure(cls, error_type: str, message: str) -> Outcome:
        body = {"errorMessage": message, "errorType": error_type}
        return cls(payload=json.dumps(body), error=True)


class Container:
    """One worker process of one function."""

    def __init__(
        self,
        spec: FunctionSpec,
        environment: dict[str, str],
        console: Console,
        number: int,
    ) -> None:
        self.spec = spec
        self.number = number
        # The invocation it runs now, if any (what `ContainerPool.running` lists).
        self.current: Invocation | None = None
        self._console = console
        self._replies: queue.Queue[Any] = queue.Queue()
        self._reported: set[str] = set()
        self._logs = threading.Condition()
        read_fd, write_fd = os.pipe()
        try:
            # stdout and stderr share one pipe, as they share one log stream on
            # Lambda: lines keep their order, and the REPORT line marks the end of
            # an invocation's output.
            self._process = subprocess.Popen(
                [sys.executable, str(BOOTSTRAP), str(write_fd)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                pass_fds=(write_fd,),
                env=environment,
                cwd=str(spec.code_dir) if spec.code_dir else None,
                start_new_session=True,
            )
        except OSError:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        reply_stream = os.fdopen(read_fd, "r", encoding="utf-8")
        label = spec.logical_id if number == 1 else f"{spec.logical_id}#{number}"
        self._log_thread = threading.Thread(
            target=self._forward, args=(self._process.stdout, label), daemon=True
        )
        self._threads = [
            threading.Thread(
                target=self._read_replies, args=(reply_stream,), daemon=True
            ),
            self._log_thread,
        ]
        for thread in self._threads:
            thread.start()

    def _read_replies(self, stream: IO[str]) -> None:
        with stream:
            for line in stream:
                if line.strip():
                    self._replies.put(json.loads(line))
        self._replies.put(_EOF)

    def _forward(self, stream: IO[bytes] | None, label: str) -> None:
        if stream is None:
            return
        with stream:
            for raw in stream:
                text = raw.decode("utf-8", "replace")
                self._console.function_line(label, text)
                if text.startswith(_REPORT):
                    with self._logs:
                        self._reported.add(text[len(_REPORT) :].split("\t", 1)[0])
                        self._logs.notify_all()

    def _drain_logs(self, request_id: str | None) -> None:
        """Wait until the invocation's output (up to its REPORT line) is printed, or
        until a dead worker's last lines are, so they precede the caller's own."""
        if request_id is None:  # the worker is gone: stop what it left holding the pipe
            self.kill()
            self._log_thread.join(LOG_DRAIN_TIMEOUT_S)
            return
        with self._logs:
            self._logs.wait_for(
                lambda: request_id in self._reported or not self._log_thread.is_alive(),
                LOG_DRAIN_TIMEOUT_S,
            )
            self._reported.discard(request_id)

    def _next_reply(self, timeout: float) -> Any:
        try:
            return self._replies.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def wait_ready(self) -> Outcome | None:
        """None when the handler imported; a Lambda init error otherwise."""
        limit = max(INIT_TIMEOUT_S, float(self.spec.timeout_s))
        reply = self._next_reply(limit)
        if reply is None:
            self.kill()
            return Outcome.failure(
                "Runtime.InitTimeout", f"Init timed out after {limit:.2f} seconds"
            )
        if reply is _EOF:
            message = f"Runtime exited during init: {self._exit_status()}"
            self._drain_logs(None)
            return Outcome.failure("Runtime.ExitError", message)
        if reply.get("type") == "init_error":
            self._drain_logs(None)
            return Outcome(payload=json.dumps(reply["error"]), error=True)
        return None

    def invoke(self, invocation: Invocation, deadline: float) -> tuple[Outcome, bool]:
        """The outcome, and whether the container is still usable."""
        request = {
            "requestId": invocation.request_id,
            "payload": invocation.payload,
            "deadlineMs": int(deadline * 1000),
            "invokedFunctionArn": invocation.invoked_arn,
            "clientContext": invocation.client_context,
            "traceId": invocation.trace_id,
        }
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write((json.dumps(request) + "\n").encode())
            stdin.flush()
        except (BrokenPipeError, OSError):
            return Outcome.failure("Runtime.ExitError", self._exited(invocation)), False
        self.current = invocation
        try:
            return self._await_reply(invocation, deadline)
        finally:
            self.current = None

    def _await_reply(
        self, invocation: Invocation, deadline: float
    ) -> tuple[Outcome, bool]:
        reply = self._next_reply(deadline - time.time() + 0.25)
        if reply is None:
            self.kill()
            message = (
                f"RequestId: {invocation.request_id} Error: Task timed out after "
                f"{float(self.spec.timeout_s):.2f} seconds"
            )
            self._console.function_line(self.spec.logical_id, message + "\n")
            return Outcome.failure("Sandbox.Timedout", message), False
        if reply is _EOF:
            message = self._exited(invocation)
            self._drain_logs(None)
            return Outcome.failure("Runtime.ExitError", message), False
        self._drain_logs(invocation.request_id)
        if reply.get("type") == "error":
            return Outcome(payload=json.dumps(reply["error"]), error=True), True
        return Outcome(payload=str(reply["payload"])), True

    def _exited(self, invocation: Invocation) -> str:
        return (
            f"RequestId: {invocation.request_id} Error: Runtime exited with error: "
            f"{self._exit_status()}"
        )

    def _exit_status(self) -> str:
        try:
            code = self._process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return "still running"
        return f"signal: {-code}" if code < 0 else f"exit status {code}"

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    @property
    def pid(self) -> int:
        return self._process.pid

    def kill(self) -> None:
        """Kill the worker and whatever it started (its own process group)."""
        if self._process.poll() is None:
            self._process.kill()
        with contextlib.suppress(OSError):
            os.killpg(self._process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(timeout=5)
        if self._process.stdin:
            with contextlib.suppress(OSError):
                self._process.stdin.close()


class ContainerPool:
    """Warm containers per function; a new one whenever all are busy."""

    def __init__(
        self,
        environment_of: Callable[[FunctionSpec], dict[str, str]],
        console: Console,
        max_per_function: int = 10,
    ) -> None:
        self._environment_of = environment_of
        self._console = console
        self._max = max_per_function
        self._idle: dict[str, list[Container]] = {}
        self._count: dict[str, int] = {}
        self._all: list[Container] = []
        self._condition = threading.Condition()
        self._closed = False

    def _acquire(self, spec: FunctionSpec) -> tuple[Container | None, bool]:
        """An idle container, or permission to start one (`(None, True)`)."""
        with self._condition:
            while True:
                if self._closed:
                    raise RuntimeError("the local Lambda is shutting down")
                idle = self._idle.setdefault(spec.logical_id, [])
                while idle:
                    container = idle.pop()
                    if container.alive:
                        return container, False
                    self._forget(container)
                if self._count.get(spec.logical_id, 0) < self._max:
                    self._count[spec.logical_id] = (
                        self._count.get(spec.logical_id, 0) + 1
                    )
                    return None, True
                self._condition.wait()

    def _forget(self, container: Container) -> None:
        self._count[container.spec.logical_id] -= 1
        if container in self._all:
            self._all.remove(container)

    def _release(self, container: Container, usable: bool) -> None:
        with self._condition:
            if usable and not self._closed:
                self._idle.setdefault(container.spec.logical_id, []).append(container)
            else:
                self._forget(container)
                container.kill()
            self._condition.notify_all()

    def _start(self, spec: FunctionSpec) -> tuple[Container | None, Outcome | None]:
        with self._condition:
            number = (
                len([c for c in self._all if c.spec.logical_id == spec.logical_id]) + 1
            )
        try:
            container = Container(
                spec, self._environment_of(spec), self._console, number
            )
        except OSError as error:
            with self._condition:
                self._count[spec.logical_id] -= 1
                self._condition.notify_all()
            return None, Outcome.failure("Runtime.StartError", str(error))
        with self._condition:
            closed = self._closed
            if closed:
                self._count[spec.logical_id] -= 1
            else:
                self._all.append(container)
        if closed:  # shut down while it started: nobody else would stop it
            container.kill()
            return None, Outcome.failure(
                "Runtime.Unavailable", "the local Lambda is shutting down"
            )
        failure = container.wait_ready()
        if failure is not None:
            self._release(container, usable=False)
            return None, failure
        return container, None

    def invoke(self, spec: FunctionSpec, invocation: Invocation) -> Outcome:
        """Run one invocation to its end (or the function's timeout)."""
        asked = time.time()
        container, start = self._acquire(spec)
        if start:
            container, failure = self._start(spec)
            if failure is not None:
                return failure
        assert container is not None
        waited = time.time() - asked
        if waited >= SLOW_START_S:
            at = datetime.fromtimestamp(asked, UTC).strftime("%Y-%m-%dT%H:%M:%S")
            self._console.line(
                "lambda",
                f"{spec.logical_id} {invocation.request_id} started "
                f"{waited:.1f}s late (asked {at}Z)",
            )
        deadline = time.time() + spec.timeout_s
        outcome, usable = container.invoke(invocation, deadline)
        self._release(container, usable)
        return outcome

    def running(self) -> list[tuple[Container, Invocation]]:
        """Each container busy with an invocation, and that invocation: a fault
        campaign kills the worker running a given event, as a crash would."""
        with self._condition:
            containers = list(self._all)
        return [(c, c.current) for c in containers if c.current is not None]

    def close(self) -> None:
        """Kill every container (running invocations end with an error)."""
        with self._condition:
            self._closed = True
            containers = list(self._all)
            self._condition.notify_all()
        for container in containers:
            container.kill()
