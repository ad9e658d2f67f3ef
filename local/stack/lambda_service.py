"""The local Lambda service: find a function, invoke it, queue asynchronous events.

Synchronous invocations run in a container and return the function's payload (or its
error). Asynchronous ones (`Event`, Scheduler, EventBridge rules) are queued and run
in the background with Lambda's async semantics: on an error the event is retried
(`MaximumRetryAttempts`, default 2; here after `retry_delays` seconds instead of
Lambda's one and two minutes) while younger than `MaximumEventAgeInSeconds`; then it
goes to the function's `DeadLetterQueue` and its `OnFailure` destination. Successful
events go to `OnSuccess`.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.stack.apigw import trace_id
from local.stack.aws import AwsClients, arn_parts, queue_url
from local.stack.console import Console
from local.stack.containers import ContainerPool, Invocation, Outcome
from local.template.functions import Destination, FunctionSpec


class FunctionNotFound(LookupError):
    """No function of that name or ARN in the template."""

    def __init__(self, identifier: str, arn: str) -> None:
        super().__init__(f"Function not found: {arn}")
        self.identifier = identifier
        self.arn = arn


@dataclass
class AsyncEvent:
    spec: FunctionSpec
    payload: str
    request_id: str
    enqueued_at: float
    attempt: int = 1


class LocalLambda:
    def __init__(
        self,
        functions: Mapping[str, FunctionSpec],
        pool: ContainerPool,
        console: Console,
        *,
        region: str,
        account_id: str,
        clients: AwsClients | None = None,
        retry_delays: tuple[float, ...] = (1.0, 2.0),
        async_workers: int = 16,
    ) -> None:
        self.functions = dict(functions)
        self._pool = pool
        self._console = console
        self._region = region
        self._account_id = account_id
        self._clients = clients
        self._retry_delays = retry_delays
        self._executor = ThreadPoolExecutor(
            async_workers, thread_name_prefix="lambda-async"
        )
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._closed = False

    # ------------------------------------------------------------ lookup
    def find(self, identifier: str) -> FunctionSpec:
        """A function by name, logical id, ARN or partial ARN (qualifiers ignored)."""
        name = identifier
        if identifier.startswith("arn:"):
            parts = identifier.split(":")
            name = parts[6] if len(parts) > 6 else parts[-1]
        elif ":function:" in identifier:
            name = identifier.split(":function:", 1)[1].split(":", 1)[0]
        else:
            name = identifier.split(":", 1)[0]
        for spec in self.functions.values():
            if name in (spec.name, spec.logical_id):
                return spec
        arn = (
            identifier
            if identifier.startswith("arn:")
            else f"arn:aws:lambda:{self._region}:{self._account_id}:function:{name}"
        )
        raise FunctionNotFound(identifier, arn)

    # ------------------------------------------------------------ invoking
    def invoke(
        self,
        spec: FunctionSpec,
        payload: str,
        *,
        client_context: dict[str, Any] | None = None,
        request_id: str | None = None,
    ) -> Outcome:
        """Run the function now and return its outcome."""
        if not spec.runnable:
            return Outcome.failure(
                "Runtime.InvalidEntrypoint",
                f"{spec.logical_id}: {'; '.join(spec.problems)}",
            )
        invocation = Invocation(
            request_id=request_id or str(uuid.uuid4()),
            payload=payload,
            invoked_arn=spec.arn,
            client_context=client_context,
            trace_id=f"{trace_id()};Parent={uuid.uuid4().hex[:16]};Sampled=0",
        )
        try:
            return self._pool.invoke(spec, invocation)
        except RuntimeError as error:
            return Outcome.failure("Runtime.Unavailable", str(error))

    def running(self) -> list[dict[str, Any]]:
        """The invocations running now: function, request id, worker pid, event."""
        return [
            {
                "function": container.spec.logical_id,
                "functionName": container.spec.name,
                "requestId": invocation.request_id,
                "pid": container.pid,
                "payload": _json_or_text(invocation.payload),
            }
            for container, invocation in self._pool.running()
        ]

    def invoke_async(self, identifier: str, payload: str) -> str:
        """Queue an event (Lambda answers 202 at once); returns its request id."""
        spec = self.find(identifier)
        event = AsyncEvent(spec, payload, str(uuid.uuid4()), time.time())
        self._submit(event)
        return event.request_id

    def _submit(self, event: AsyncEvent) -> None:
        with self._lock:
            if self._closed:
                return
            self._executor.submit(self._run_async, event)

    def _run_async(self, event: AsyncEvent) -> None:
        outcome = self.invoke(event.spec, event.payload, request_id=event.request_id)
        if self._closed:  # stopped by the shutdown, not failed: no retry, no DLQ
            return
        name = event.spec.logical_id
        if not outcome.error:
            self._deliver(event.spec.on_success, event, outcome, "Success")
            return
        error = _error_summary(outcome)
        age = time.time() - event.enqueued_at
        retries_left = event.attempt <= event.spec.async_retries
        if retries_left and age < event.spec.async_max_event_age_s:
            delay = self._retry_delays[
                min(event.attempt - 1, len(self._retry_delays) - 1)
            ]
            self._console.line(
                "lambda",
                f"{name} async event {event.request_id} failed ({error}); "
                f"retry {event.attempt} in {delay:g}s",
            )
            event.attempt += 1
            self._later(delay, event)
            return
        self._console.line(
            "lambda",
            f"{name} async event {event.request_id} failed after {event.attempt} "
            f"attempt(s) ({error})",
        )
        self._dead_letter(event, outcome)
        self._deliver(event.spec.on_failure, event, outcome, "RetriesExhausted")

    def _later(self, delay: float, event: AsyncEvent) -> None:
        def fire() -> None:
            with self._lock:
                self._timers.discard(timer)
            self._submit(event)

        timer = threading.Timer(delay, fire)
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._timers.add(timer)
        timer.start()

    # ------------------------------------------------------------ destinations
    def _dead_letter(self, event: AsyncEvent, outcome: Outcome) -> None:
        target = event.spec.dead_letter
        if target is None:
            if event.spec.on_failure is None:
                self._console.line(
                    "lambda",
                    f"{event.spec.logical_id}: no DeadLetterQueue; event dropped",
                )
            return
        body = json.loads(outcome.payload)
        attributes = {
            "RequestID": {"DataType": "String", "StringValue": event.request_id},
            "ErrorCode": {"DataType": "Number", "StringValue": "200"},
            "ErrorMessage": {
                "DataType": "String",
                "StringValue": str(body.get("errorMessage", ""))[:1000] or "error",
            },
        }
        self._send(target, event.payload, attributes)

    def _deliver(
        self,
        target: Destination | None,
        event: AsyncEvent,
        outcome: Outcome,
        condition: str,
    ) -> None:
        if target is None:
            return
        response_context: dict[str, Any] = {
            "statusCode": 200,
            "executedVersion": "$LATEST",
        }
        if outcome.error:
            response_context["functionError"] = "Unhandled"
        record = {
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "requestContext": {
                "requestId": event.request_id,
                "functionArn": f"{event.spec.arn}:$LATEST",
                "condition": condition,
                "approximateInvokeCount": event.attempt,
            },
            "requestPayload": _json_or_text(event.payload),
            "responseContext": response_context,
            "responsePayload": _json_or_text(outcome.payload),
        }
        self._send(target, json.dumps(record), {})

    def _send(self, target: Destination, body: str, attributes: dict[str, Any]) -> None:
        service = arn_parts(target.arn)[2] if target.arn.startswith("arn:") else ""
        try:
            if service == "lambda":
                self.invoke_async(target.arn, body)
            elif self._clients is None:
                raise RuntimeError("no AWS emulator to deliver to")
            elif service == "sqs":
                self._clients.client("sqs").send_message(
                    QueueUrl=queue_url(self._clients, target.arn),
                    MessageBody=body,
                    MessageAttributes=attributes,
                )
            elif service == "sns":
                self._clients.client("sns").publish(
                    TopicArn=target.arn, Message=body, MessageAttributes=attributes
                )
            else:
                raise RuntimeError(f"destination type {target.type} is not emulated")
            self._console.line("lambda", f"event sent to {target.arn}")
        except Exception as error:
            self._console.line("lambda", f"could not deliver to {target.arn}: {error}")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            timers = list(self._timers)
        for timer in timers:
            timer.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _error_summary(outcome: Outcome) -> str:
    try:
        body = json.loads(outcome.payload)
    except ValueError:
        return "error"
    return f"{body.get('errorType', 'Error')}: {body.get('errorMessage', '')}"
