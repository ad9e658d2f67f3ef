"""The runtime of one local Lambda container (a worker process).

Run as a script with the function's environment (`_HANDLER`, `LAMBDA_TASK_ROOT`,
`PYTHONPATH` = the code folder and its layers, the template's variables). It plays
Lambda's Python runtime: imports the handler once (init), then serves invocations
one at a time. Requests arrive as JSON lines on stdin; replies leave as JSON lines on
the file descriptor named by the first argument, so the function keeps stdout and
stderr for its logs. Only the standard library is used: the function's own imports
must not see anything of the local stack.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

Handler = Callable[[Any, Any], Any]


class ClientContext:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.custom = raw.get("custom")
        self.env = raw.get("env")
        self.client = raw.get("client")


class CognitoIdentity:
    cognito_identity_id: str | None = None
    cognito_identity_pool_id: str | None = None


class LambdaContext:
    """The attributes and methods of the Python runtime's context object."""

    def __init__(
        self,
        request_id: str,
        invoked_function_arn: str,
        deadline_ms: int,
        client_context: dict[str, Any] | None,
    ) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = CognitoIdentity()
        self.client_context = ClientContext(client_context) if client_context else None
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def log(self, message: str) -> None:
        sys.stdout.write(str(message))
        sys.stdout.flush()

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"function_name={self.function_name},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


def error_body(error: BaseException, error_type: str | None = None) -> dict[str, Any]:
    frames = traceback.extract_tb(user_traceback(error))
    return {
        "errorMessage": str(error),
        "errorType": error_type or type(error).__name__,
        "stackTrace": [line for line in traceback.format_list(frames)],
    }


def log_error(error: BaseException, body: dict[str, Any]) -> None:
    """The `[ERROR]` record Lambda's runtime writes for an unhandled error."""
    trace = "".join(
        traceback.format_exception(type(error), error, user_traceback(error))
    )
    sys.stderr.write(f"[ERROR] {body['errorType']}: {body['errorMessage']}\n{trace}")
    sys.stderr.flush()


def load_handler(spec: str) -> Handler:
    module_name, _, function_name = spec.replace("/", ".").rpartition(".")
    if not module_name or not function_name:
        raise ValueError(f"Bad handler '{spec}': expected module.function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise InitError(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': {error}",
        ) from error
    except SyntaxError as error:
        raise InitError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {error}",
        ) from error
    handler = getattr(module, function_name, None)
    if not callable(handler):
        raise InitError(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        )
    result: Handler = handler
    return result


class InitError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def install_runtime_logging() -> None:
    """Lambda's root handler: `[LEVEL]\\ttime\\trequest id\\tmessage` on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        logging.Formatter("[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(message)s\n")
    )
    logging.Formatter.converter = time.gmtime
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def max_memory_mb() -> int:
    """Peak RSS of this process (Linux's VmHWM; getrusage elsewhere)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:  # noqa: PTH123
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    used = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(used / 1024) if sys.platform != "darwin" else int(used / 1024 / 1024)


def user_traceback(error: BaseException) -> TracebackType | None:
    """The traceback without the runtime's own frames, as Lambda shows it."""
    trace = error.__traceback__
    while trace is not None and trace.tb_frame.f_code.co_filename == __file__:
        trace = trace.tb_next
    return trace or error.__traceback__


class Runtime:
    def __init__(self, requests: IO[str], replies: IO[str]) -> None:
        self.requests = requests
        self.replies = replies
        self.handler: Handler | None = None
        self.init_ms = 0.0
        self.cold = True

    def reply(self, message: dict[str, Any]) -> None:
        self.replies.write(json.dumps(message) + "\n")
        self.replies.flush()

    def init(self) -> bool:
        started = time.perf_counter()
        try:
            self.handler = load_handler(os.environ.get("_HANDLER", ""))
        except InitError as error:
            body = error_body(error, error.error_type)
            log_error(error, body)
            self.reply({"type": "init_error", "error": body})
            return False
        except Exception as error:
            body = error_body(error)
            log_error(error, body)
            self.reply({"type": "init_error", "error": body})
            return False
        self.init_ms = (time.perf_counter() - started) * 1000
        self.reply({"type": "ready", "initMs": self.init_ms})
        return True

    def serve(self) -> None:
        for line in self.requests:
            if line.strip():
                self.invoke(json.loads(line))

    def invoke(self, request: dict[str, Any]) -> None:
        assert self.handler is not None
        request_id = str(request["requestId"])
        os.environ["_X_AMZN_TRACE_ID"] = str(request.get("traceId") or "")
        context = LambdaContext(
            request_id,
            str(request["invokedFunctionArn"]),
            int(request["deadlineMs"]),
            request.get("clientContext"),
        )
        print(f"START RequestId: {request_id} Version: $LATEST", flush=True)
        started = time.perf_counter()
        reply: dict[str, Any]
        try:
            result = self.handler(json.loads(request["payload"]), context)
            try:
                reply = {"type": "result", "payload": json.dumps(result)}
            except (TypeError, ValueError) as error:
                body = error_body(error, "Runtime.MarshalError")
                body["errorMessage"] = f"Unable to marshal response: {error}"
                log_error(error, body)
                reply = {"type": "error", "error": body}
        except Exception as error:
            body = error_body(error)
            log_error(error, body)
            reply = {"type": "error", "error": body}
        duration = (time.perf_counter() - started) * 1000
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration:.2f} ms\t"
            f"Billed Duration: {int(duration) + 1} ms\t"
            f"Memory Size: {os.environ.get('AWS_LAMBDA_FUNCTION_MEMORY_SIZE')} MB\t"
            f"Max Memory Used: {max_memory_mb()} MB"
        )
        if self.cold:
            report += f"\tInit Duration: {self.init_ms:.2f} ms"
            self.cold = False
        print(f"END RequestId: {request_id}", flush=True)
        print(report, flush=True)
        reply["requestId"] = request_id
        self.reply(reply)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    here = Path(__file__).resolve().parent
    sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != here]
    reply_fd = int(sys.argv[1])
    request_fd = os.dup(0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.argv = [sys.argv[0]]
    requests = os.fdopen(request_fd, "r", encoding="utf-8")
    replies = os.fdopen(reply_fd, "w", encoding="utf-8")
    install_runtime_logging()
    runtime = Runtime(requests, replies)
    if runtime.init():
        runtime.serve()


if __name__ == "__main__":
    main()
