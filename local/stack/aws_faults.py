"""Injected AWS faults: DynamoDB throttling, opt-in, for fault campaigns.

DynamoDB throttles a hot partition or an account over its limits; moto never does,
so the code's answer to it (botocore's retries, then ours) would go untried. With
no rule (the default) every request passes straight through. A rule throttles the
DynamoDB calls that match it: by operation (`GetItem`, `TransactWriteItems`, ...),
by strings the request body must contain (a bid's key, say `BID#<id>`), for the
next `count` calls or a seeded `rate` of them, answering
`ProvisionedThroughputExceededException` (or `ThrottlingException`) as DynamoDB
does: HTTP 400, the JSON 1.0 error body.

The rules are set over HTTP on moto's own port, outside every AWS path:

```
POST   /__local/faults/dynamodb  {"operation": "TransactWriteItems",
                                  "contains": ["BID#123"], "count": 2}
GET    /__local/faults/dynamodb  the rules, with their hits
DELETE /__local/faults/dynamodb  no more throttling
```
"""

from __future__ import annotations

import io
import itertools
import json
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

PATH = "/__local/faults/dynamodb"
ERRORS = {
    "ProvisionedThroughputExceededException": (
        "The level of configured provisioned throughput for the table was exceeded."
        " Consider increasing your provisioning level with the UpdateTable API."
    ),
    "ThrottlingException": "Rate of requests exceeds the allowed throughput.",
}
TARGET_PREFIX = "DynamoDB_20120810."
FIELDS = {"operation", "contains", "count", "rate", "seed", "error"}


@dataclass
class Throttle:
    """One rule: which calls, how many of them, which error."""

    rule_id: str
    operation: str | None = None
    contains: tuple[str, ...] = ()
    remaining: int | None = 1
    rate: float = 1.0
    seed: int | None = None
    error: str = "ProvisionedThroughputExceededException"
    hits: int = 0
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.error not in ERRORS:
            raise ValueError(f"error must be one of {', '.join(sorted(ERRORS))}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        if self.remaining is not None and self.remaining < 1:
            raise ValueError("count must be at least 1")
        self._random = random.Random(self.seed)

    @classmethod
    def from_json(cls, rule_id: str, spec: dict[str, Any]) -> Throttle:
        unknown = set(spec) - FIELDS
        if unknown:
            raise ValueError(f"unknown fields: {', '.join(sorted(unknown))}")
        contains = spec.get("contains", [])
        if isinstance(contains, str):
            contains = [contains]
        count, rate = spec.get("count"), spec.get("rate")
        return cls(
            rule_id=rule_id,
            operation=spec.get("operation"),
            contains=tuple(str(text) for text in contains),
            # Neither count nor rate: the next matching call. A rate alone: until
            # the rules are cleared (as the eBay emulator's faults).
            remaining=(
                int(count) if count is not None else (None if rate is not None else 1)
            ),
            rate=float(rate) if rate is not None else 1.0,
            seed=spec.get("seed"),
            error=str(spec.get("error", "ProvisionedThroughputExceededException")),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "ruleId": self.rule_id,
            "operation": self.operation,
            "contains": list(self.contains),
            "remaining": self.remaining,
            "rate": self.rate,
            "seed": self.seed,
            "error": self.error,
            "hits": self.hits,
        }

    def fires(self, operation: str, body: str) -> bool:
        if self.remaining == 0:
            return False
        if self.operation is not None and self.operation != operation:
            return False
        if not all(text in body for text in self.contains):
            return False
        if self.rate < 1.0 and self._random.random() >= self.rate:
            return False
        if self.remaining is not None:
            self.remaining -= 1
        self.hits += 1
        return True


class DynamoFaults:
    """A WSGI app in front of moto's: throttles the DynamoDB calls a rule names,
    serves the rules at `PATH`, passes everything else on untouched."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.rules: list[Throttle] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def add(self, spec: dict[str, Any]) -> Throttle:
        with self._lock:
            rule = Throttle.from_json(f"throttle-{next(self._ids)}", spec)
            self.rules.append(rule)
            return rule

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if str(environ.get("PATH_INFO", "")).rstrip("/") == PATH:
            return self._admin(environ, start_response)
        target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
        if not self.rules or not target.startswith(TARGET_PREFIX):
            return self.app(environ, start_response)
        body = _read_body(environ)
        operation = target[len(TARGET_PREFIX) :]
        text = body.decode("utf-8", "replace")
        with self._lock:
            fired = next((r for r in self.rules if r.fires(operation, text)), None)
            self.rules = [r for r in self.rules if r.remaining != 0]
        if fired is None:
            return self.app(environ, start_response)
        return _answer(
            start_response,
            400,
            {
                "__type": f"com.amazonaws.dynamodb.v20120810#{fired.error}",
                "message": ERRORS[fired.error],
            },
            {"x-amzn-ErrorType": fired.error},
        )

    def _admin(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method == "GET":
            with self._lock:
                rules = [rule.to_json() for rule in self.rules]
            return _answer(start_response, 200, rules)
        if method == "DELETE":
            self.clear()
            return _answer(start_response, 200, [])
        if method != "POST":
            return _answer(start_response, 405, {"error": "GET, POST or DELETE"})
        try:
            spec = json.loads(_read_body(environ) or b"{}")
            if not isinstance(spec, dict):
                raise ValueError("the body must be a JSON object")
            rule = self.add(spec)
        except (ValueError, TypeError) as error:
            return _answer(start_response, 400, {"error": str(error)})
        return _answer(start_response, 201, rule.to_json())


def _read_body(environ: dict[str, Any]) -> bytes:
    """The request body, put back so the app behind can read it again."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body: bytes = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _answer(
    start_response: Any,
    status: int,
    body: Any,
    headers: dict[str, str] | None = None,
) -> list[bytes]:
    raw = json.dumps(body).encode()
    reason = {200: "OK", 201: "Created", 400: "Bad Request"}.get(status, "Error")
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", "application/x-amz-json-1.0"),
            ("Content-Length", str(len(raw))),
            *(headers or {}).items(),
        ],
    )
    return [raw]
