"""The embedded AWS: moto's server on loopback, and boto3 clients that reach it.

Functions reach it through boto3's standard `AWS_ENDPOINT_URL`; the stack's own
parts (provisioning, the schedule runner, Lambda's destinations) use `AwsClients`,
which point at the same endpoint with the same fake credentials.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


class AwsEmulator:
    """moto's `ThreadedMotoServer` (imported lazily: it takes most of a second)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._server: Any = None
        self._undo_rules: Callable[[], None] = lambda: None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        for name in ("werkzeug", "moto"):
            logging.getLogger(name).setLevel(logging.ERROR)
        self._undo_rules = enforce_scheduler_rules()
        self._server = ThreadedMotoServer(
            ip_address=self.host, port=self.port, verbose=False
        )
        self._server.start()
        self.port = int(self._server.get_host_and_port()[1])

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        self._undo_rules()
        self._undo_rules = lambda: None


class AwsClients:
    """Cached boto3 clients for the emulator (thread-safe creation)."""

    def __init__(self, endpoint_url: str | None, region: str) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self._session = boto3.session.Session(
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            region_name=region,
        )
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._config = Config(retries={"max_attempts": 2, "mode": "standard"})

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(
                    service, endpoint_url=self.endpoint_url, config=self._config
                )
            return self._clients[service]


def arn_parts(arn: str) -> list[str]:
    """`arn:partition:service:region:account:resource` in six parts."""
    return arn.split(":", 5)


def queue_url(clients: AwsClients, arn: str) -> str:
    """The URL of the SQS queue an ARN names."""
    parts = arn_parts(arn)
    if len(parts) != 6 or parts[2] != "sqs":
        raise ValueError(f"{arn} is not an SQS queue ARN")
    response = clients.client("sqs").get_queue_url(
        QueueName=parts[5], QueueOwnerAWSAccountId=parts[4]
    )
    return str(response["QueueUrl"])


def enforce_scheduler_rules() -> Callable[[], None]:
    """Make moto's Scheduler refuse and reset what AWS's refuses and resets.

    moto stores any `ScheduleExpression` (AWS answers `ValidationException`, so a
    malformed `at(...)` would work locally and fail deployed), fails with a 500 on
    an unknown group (AWS: `ResourceNotFoundException`), and its
    `UpdateSchedule` keeps the old `ActionAfterCompletion` and sets `State` to null,
    where AWS resets every field the request leaves out to its default (`NONE`,
    `ENABLED`). Patches moto's request handlers in this process; returns the undo.
    """
    from moto.scheduler.exceptions import ValidationException
    from moto.scheduler.responses import EventBridgeSchedulerResponse

    from local.stack.expressions import ExpressionError, parse

    handler: Any = EventBridgeSchedulerResponse
    create, update = handler.create_schedule, handler.update_schedule
    if getattr(create, "enforced", False):
        return lambda: None

    def validate(request: Any) -> None:
        expression = request._get_param("ScheduleExpression")
        timezone = request._get_param("ScheduleExpressionTimezone")
        try:
            parse(str(expression), timezone)
        except ExpressionError as error:
            raise ValidationException(
                f"Invalid Schedule Expression {expression}"
                + (f" in time zone {timezone}" if "time zone" in str(error) else "")
            ) from None

    def create_schedule(request: Any) -> str:
        validate(request)
        # moto fails with a KeyError (500) on an unknown group; AWS answers 404.
        request.scheduler_backend.get_schedule_group(request._get_param("GroupName"))
        return str(create(request))

    def update_schedule(request: Any) -> str:
        validate(request)
        answer = str(update(request))
        schedule = request.scheduler_backend.get_schedule(
            request._get_param("GroupName"), request.uri.split("?")[0].split("/")[-1]
        )
        schedule.action_after_completion = request._get_param("ActionAfterCompletion")
        schedule.state = request._get_param("State") or "ENABLED"
        return answer

    create_schedule.enforced = True  # type: ignore[attr-defined]
    handler.create_schedule = create_schedule
    handler.update_schedule = update_schedule

    def undo() -> None:
        handler.create_schedule, handler.update_schedule = create, update

    return undo
