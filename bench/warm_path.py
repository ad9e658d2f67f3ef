"""Warm GET /users/profile outside DynamoDB against a bare Powertools resolver,
and against the same bare route observed as every handler is (Powertools'
Logger, Tracer and Metrics decorators and one INFO line a request): the first
ratio is the goal's, the second is what our own code adds to the framework.

Run by bench/test_cold_start.py in a process of its own (`python -m
bench.warm_path OUT.json`): Powertools reads its settings on import, and the
Logger writes each request's line to stdout, which the caller discards. INFO, as
deployed (the template's LogLevel), so the request line is formatted and
redacted on every call; the Tracer is off (no X-Ray daemon here), on both sides.

DynamoDB answers through botocore's Stubber: the GetItem is validated,
serialised and its answer deserialised as in Lambda, without moto (whose
milliseconds of work per call would evict our code from the CPU's caches and
bill it to us). Time inside botocore's `_make_api_call` is DynamoDB's and is
taken off the handler's time. Both sides answer the same event in alternation,
after a warm-up.
"""

# No `from __future__ import annotations`: Powertools reads the bare route's return
# annotation at run time, and a string could not name a class local to `measure`.
import copy
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "user-management",
    "POWERTOOLS_METRICS_NAMESPACE": "EbaySniper",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "CORS_ORIGINS": "http://localhost:3000,https://app.example.com",
    "STAGE": "bench",
    "USERS_TABLE": "ebay-sniper-users-bench",
}
WARM_UP = 50


def measure(pairs: int) -> dict[str, Any]:
    """Median microseconds of each side, alternating, and their ratio."""
    import botocore.client
    from aws_lambda_powertools import Logger, Metrics, Tracer
    from aws_lambda_powertools.event_handler import (
        APIGatewayRestResolver,
        CORSConfig,
    )
    from aws_lambda_powertools.logging import correlation_paths
    from botocore.stub import Stubber

    from sniper import aws
    from sniper.api import ALLOWED_HEADERS
    from sniper.models.users import UserPreferences, UserProfileResponse
    from tests.support.handlers import (
        ALICE,
        StubContext,
        as_user,
        load_function,
        sample_event,
    )

    in_dynamodb = [0.0]
    original = botocore.client.BaseClient._make_api_call

    def timed_call(self: Any, operation: str, params: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, operation, params)
        finally:
            in_dynamodb[0] += time.perf_counter() - started

    botocore.client.BaseClient._make_api_call = timed_call  # type: ignore[method-assign]

    stored = {
        "userId": {"S": ALICE},
        "sk": {"S": "PROFILE"},
        "email": {"S": "a@example.com"},
        "emailVerified": {"BOOL": True},
        "createdAt": {"N": "1764028800"},
        "updatedAt": {"N": "1764028800"},
        "isActive": {"BOOL": True},
        "preferences": {
            "M": {
                "emailNotifications": {"BOOL": True},
                "bidWinNotifications": {"BOOL": True},
                "bidLossNotifications": {"BOOL": True},
                "timezone": {"S": "Europe/Berlin"},
                "defaultSnipeLeadSeconds": {"N": "5"},
            }
        },
    }
    stubber = Stubber(aws.dynamodb_resource().meta.client)
    for _ in range(WARM_UP + pairs + 1):  # each is deserialised in place
        stubber.add_response("get_item", {"Item": copy.deepcopy(stored)})
    stubber.activate()

    module = load_function("user_management")
    event = as_user(
        sample_event("user_management/profile_get.json"), ALICE, "a@example.com"
    )
    context = StubContext()
    first = module.handler(event, context)
    assert first["statusCode"] == 200, first

    origins = ENVIRONMENT["CORS_ORIGINS"].split(",")

    def bare_resolver() -> APIGatewayRestResolver:
        """Powertools' resolver as ours is configured, with nothing of ours."""
        return APIGatewayRestResolver(
            enable_validation=True,
            cors=CORSConfig(
                allow_origin=origins[0],
                extra_origins=origins[1:],
                allow_headers=ALLOWED_HEADERS,
                max_age=600,
            ),
        )

    bare = bare_resolver()
    profile = UserProfileResponse(
        userId=ALICE,
        email="a@example.com",
        createdAt=1764028800,
        updatedAt=1764028800,
        preferences=UserPreferences(timezone="Europe/Berlin"),
        isActive=True,
        emailVerified=True,
    )

    @bare.get("/users/profile")
    def get_profile() -> UserProfileResponse:
        return profile

    answer = bare.resolve(event, context)
    assert answer["statusCode"] == 200, answer
    assert answer["body"] == first["body"], (answer["body"], first["body"])

    # The bare route observed as our handlers are: the framework's own cost.
    floor_logger = Logger(service="warm-floor")
    floor_tracer = Tracer(service="warm-floor")
    floor_metrics = Metrics(namespace="EbaySniper", service="warm-floor")
    observed = bare_resolver()

    @observed.get("/users/profile")
    @floor_tracer.capture_method
    def observed_profile() -> UserProfileResponse:
        return profile

    @floor_logger.inject_lambda_context(
        correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
    )
    @floor_tracer.capture_lambda_handler(capture_response=False)
    @floor_metrics.log_metrics
    def observed_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        answered: dict[str, Any] = observed.resolve(event, context)
        floor_logger.info(
            "Request handled",
            extra={"route": "/users/profile", "status": answered["statusCode"]},
        )
        return answered

    assert observed_handler(event, context)["body"] == first["body"]

    ours: list[float] = []
    theirs: list[float] = []
    floors: list[float] = []
    for index in range(WARM_UP + pairs):
        in_dynamodb[0] = 0.0
        started = time.perf_counter()
        status = module.handler(event, context)["statusCode"]
        handler_s = time.perf_counter() - started - in_dynamodb[0]
        assert status == 200, status
        started = time.perf_counter()
        bare.resolve(event, context)
        bare_s = time.perf_counter() - started
        started = time.perf_counter()
        observed_handler(event, context)
        floor_s = time.perf_counter() - started
        if index >= WARM_UP:
            ours.append(handler_s)
            theirs.append(bare_s)
            floors.append(floor_s)
    handler_us = statistics.median(ours) * 1e6
    bare_us = statistics.median(theirs) * 1e6
    floor_us = statistics.median(floors) * 1e6
    return {
        "pairs": pairs,
        "handler_outside_dynamodb_us": round(handler_us, 1),
        "bare_resolver_us": round(bare_us, 1),
        "observed_floor_us": round(floor_us, 1),
        "ratio": round(handler_us / bare_us, 3),
        "paired_ratio": round(
            statistics.median(o / t for o, t in zip(ours, theirs, strict=True)), 3
        ),
        "floor_ratio": round(floor_us / bare_us, 3),
        "ratio_to_floor": round(handler_us / floor_us, 3),
    }


def main() -> None:
    os.environ.update(ENVIRONMENT)
    sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000
    figures = measure(pairs)
    Path(sys.argv[1]).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
