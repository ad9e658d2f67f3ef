"""Lambda's Invoke REST API on loopback, so `boto3.client("lambda").invoke` just works.

Functions get `AWS_ENDPOINT_URL_LAMBDA` pointing here. Implemented:

- `POST /2015-03-31/functions/{FunctionName}/invocations` with
  `X-Amz-Invocation-Type` `RequestResponse` (200, `X-Amz-Function-Error: Unhandled`
  on an error), `Event` (202, queued with Lambda's async retries) and `DryRun` (204);
  the name may be a function name, logical id, ARN or partial ARN.
- `POST /2014-11-13/functions/{FunctionName}/invoke-async/` (the old InvokeAsync).
- `GET /2015-03-31/functions/` and `GET /2015-03-31/functions/{FunctionName}`
  (ListFunctions, GetFunction) with the configuration the template declares.
- `GET /__local/invocations`, not Lambda's: the invocations running now, each with
  its function, request id, event and the pid of the worker running it (a fault
  campaign kills one there, as a crashed execution environment).

Errors use Lambda's shapes (`x-amzn-ErrorType` and a `Type`/`Message` body), so botocore
raises `ResourceNotFoundException` and friends as it would against AWS.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
from concurrent.futures import Executor
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from local.stack.console import Console
from local.stack.lambda_service import FunctionNotFound, LocalLambda
from local.template.functions import FunctionSpec

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


def _error(status: int, kind: str, message: str) -> Response:
    body = json.dumps({"Type": "User", "Message": message, "message": message})
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={"x-amzn-ErrorType": kind, "x-amzn-RequestId": str(uuid.uuid4())},
    )


def _configuration(spec: FunctionSpec) -> dict[str, Any]:
    return {
        "FunctionName": spec.name,
        "FunctionArn": spec.arn,
        "Runtime": spec.runtime,
        "Handler": spec.handler,
        "MemorySize": spec.memory_mb,
        "Timeout": spec.timeout_s,
        "Version": "$LATEST",
        "PackageType": "Zip",
        "State": "Active" if spec.runnable else "Failed",
        "Environment": {"Variables": spec.environment},
    }


def create_lambda_app(
    lambdas: LocalLambda, console: Console, executor: Executor
) -> Starlette:
    async def invoke(request: Request) -> Response:
        identifier = request.path_params["name"]
        invocation_type = request.headers.get(
            "x-amz-invocation-type", "RequestResponse"
        )
        raw = await request.body()
        if len(raw) > MAX_PAYLOAD_BYTES:
            return _error(
                413,
                "RequestTooLargeException",
                "Request must be smaller than 6291456 bytes for the Invoke operation",
            )
        payload = raw.decode("utf-8", "replace") if raw else "{}"
        try:
            json.loads(payload)
        except ValueError as error:
            return _error(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {error}",
            )
        try:
            spec = lambdas.find(identifier)
        except FunctionNotFound as missing:
            return _error(404, "ResourceNotFoundException", str(missing))
        if invocation_type == "DryRun":
            return Response(status_code=204)
        if invocation_type == "Event":
            request_id = lambdas.invoke_async(spec.arn, payload)
            console.line("lambda", f"{spec.logical_id} queued (Event) {request_id}")
            return Response(status_code=202, headers={"x-amzn-RequestId": request_id})
        if invocation_type != "RequestResponse":
            return _error(
                400,
                "InvalidParameterValueException",
                f"Unknown invocation type {invocation_type}",
            )
        client_context = None
        if header := request.headers.get("x-amz-client-context"):
            try:
                client_context = json.loads(base64.b64decode(header))
            except (binascii.Error, ValueError):
                return _error(
                    400,
                    "InvalidRequestContentException",
                    "X-Amz-Client-Context must be base64-encoded JSON",
                )
        request_id = str(uuid.uuid4())
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(
            executor,
            lambda: lambdas.invoke(
                spec, payload, client_context=client_context, request_id=request_id
            ),
        )
        headers = {"X-Amz-Executed-Version": "$LATEST", "x-amzn-RequestId": request_id}
        if outcome.error:
            headers["X-Amz-Function-Error"] = "Unhandled"
        console.line(
            "lambda",
            f"{spec.logical_id} invoked (RequestResponse) {request_id}"
            f"{' -> error' if outcome.error else ''}",
        )
        return Response(
            outcome.payload,
            status_code=200,
            media_type="application/json",
            headers=headers,
        )

    async def invoke_async(request: Request) -> Response:
        try:
            spec = lambdas.find(request.path_params["name"])
        except FunctionNotFound as missing:
            return _error(404, "ResourceNotFoundException", str(missing))
        raw = await request.body()
        lambdas.invoke_async(spec.arn, raw.decode("utf-8", "replace") or "{}")
        return Response(
            json.dumps({"Status": 202}), status_code=202, media_type="application/json"
        )

    async def list_functions(request: Request) -> Response:
        functions = [_configuration(spec) for spec in lambdas.functions.values()]
        return Response(
            json.dumps({"Functions": functions}), media_type="application/json"
        )

    async def get_function(request: Request) -> Response:
        try:
            spec = lambdas.find(request.path_params["name"])
        except FunctionNotFound as missing:
            return _error(404, "ResourceNotFoundException", str(missing))
        body = {
            "Configuration": _configuration(spec),
            "Code": {"RepositoryType": "Local"},
        }
        return Response(json.dumps(body), media_type="application/json")

    async def running(request: Request) -> Response:
        return Response(json.dumps(lambdas.running()), media_type="application/json")

    async def unknown(request: Request) -> Response:
        return _error(
            404,
            "UnknownOperationException",
            f"{request.method} {request.url.path} is not emulated by the local Lambda",
        )

    return Starlette(
        routes=[
            Route("/2015-03-31/functions/{name}/invocations", invoke, methods=["POST"]),
            Route(
                "/2014-11-13/functions/{name}/invoke-async/",
                invoke_async,
                methods=["POST"],
            ),
            Route("/2015-03-31/functions/", list_functions, methods=["GET"]),
            Route("/2015-03-31/functions/{name}", get_function, methods=["GET"]),
            Route("/__local/invocations", running, methods=["GET"]),
            Route(
                "/{rest:path}",
                unknown,
                methods=["GET", "POST", "PUT", "DELETE", "PATCH"],
            ),
        ]
    )
