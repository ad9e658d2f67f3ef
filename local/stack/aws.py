"""The embedded AWS: moto's server on loopback, and boto3 clients that reach it.

Functions reach it through boto3's standard `AWS_ENDPOINT_URL`; the stack's own
parts (provisioning, the schedule runner, Lambda's destinations) use `AwsClients`,
which point at the same endpoint with the same fake credentials.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

import boto3
from botocore.config import Config

from local.stack.aws_faults import DynamoFaults

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


MOTO_LOCK = threading.RLock()
"""Held by whatever reads or writes moto's backends in this process.

moto keeps every service's state in process-wide objects without locks: two requests
at once can both pass a condition (two `attribute_not_exists` winners) or fail with
`dictionary changed size during iteration`. Reentrant, so moto code that calls
moto in process (boto3 under `mock_aws`) does not deadlock on its own thread.
"""


_LOCK_RELEASED = threading.Condition(MOTO_LOCK)
POLL_INTERVAL_S = 0.05


def release_lock_while_polling() -> Callable[[], None]:
    """Let an SQS long poll (`WaitTimeSeconds`) wait without holding `MOTO_LOCK`.

    moto's ReceiveMessage waits inside the request for a message to arrive: holding
    the lock meanwhile would stall every other request for up to 20 s and keep out
    the very SendMessage it waits for. It rescans the queue (under the lock) every
    `POLL_INTERVAL_S`; only the wait itself runs unlocked. Returns the undo.
    """
    from moto.sqs.models import Queue

    queue: Any = Queue
    original = queue.wait_for_messages
    if getattr(original, "releases_lock", False):
        return lambda: None

    def wait_for_messages(self: Any, timeout: float) -> None:
        try:
            _LOCK_RELEASED.wait(min(timeout, POLL_INTERVAL_S))
        except RuntimeError:  # this thread does not hold MOTO_LOCK
            original(self, timeout)

    wait_for_messages.releases_lock = True  # type: ignore[attr-defined]
    queue.wait_for_messages = wait_for_messages

    def undo() -> None:
        queue.wait_for_messages = original

    return undo


class OneAtATime:
    """A WSGI app that serves one request at a time under `lock`, atomically.

    The lock covers the whole request: reading the body, the backend's work and
    producing the full response, which is buffered so nothing of moto's runs once
    the lock is released (a lazy iterable could still read the backend). Only an
    SQS long poll's idle wait gives it up (`release_lock_while_polling`).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], lock: Any) -> None:
        self.app = app
        self.lock = lock

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            chunks = self.app(environ, start_response)
            try:
                body = b"".join(chunks)
            finally:
                close = getattr(chunks, "close", None)
                if callable(close):
                    close()
        return [body]


class CognitoUserDirectory(Protocol):
    """The local identity, standing in for the Cognito user pool's users."""

    def delete_user(self, username: str) -> bool: ...


class LocalCognitoAdmin:
    """Serves Cognito's `AdminDeleteUser` from the local identity; the rest to moto.

    The local stack signs its own tokens instead of running moto's Cognito, so
    account deletion's call must reach the identity that issued them: it then
    refuses the user's tokens, as their deletion from a pool makes Cognito do.
    """

    TARGET = "AWSCognitoIdentityProviderService.AdminDeleteUser"

    def __init__(
        self, app: Callable[..., Iterable[bytes]], emulator: AwsEmulator
    ) -> None:
        self.app = app
        self.emulator = emulator

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        users = self.emulator.cognito_users
        if users is None or environ.get("HTTP_X_AMZ_TARGET") != self.TARGET:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            request = json.loads(environ["wsgi.input"].read(length) or b"{}")
            username = str(request["Username"])
        except (ValueError, KeyError, TypeError):
            return _cognito_answer(
                start_response, 400, "InvalidParameterException", "Username missing"
            )
        if not users.delete_user(username):
            return _cognito_answer(
                start_response, 400, "UserNotFoundException", "User does not exist."
            )
        return _cognito_answer(start_response, 200)


def _cognito_answer(
    start_response: Any, status: int, error: str = "", message: str = ""
) -> list[bytes]:
    body = json.dumps({"__type": error, "message": message} if error else {})
    reason = "OK" if status == 200 else "Bad Request"
    start_response(
        f"{status} {reason}",
        [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body.encode()]


class AwsEmulator:
    """moto's server app on a threaded werkzeug server, one request at a time.

    Built like moto's `ThreadedMotoServer` (imported lazily: it takes most of a
    second), with the app wrapped in `OneAtATime(MOTO_LOCK)`, and bound in
    `start()` so a busy port fails there instead of in the server's thread.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.lock = MOTO_LOCK
        # Set by the stack once its identity exists (see LocalCognitoAdmin).
        self.cognito_users: CognitoUserDirectory | None = None
        # Injected throttling, once started (`local.stack.aws_faults`).
        self.dynamodb_faults: DynamoFaults | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._undo_patches: Callable[[], None] = lambda: None

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from werkzeug.serving import make_server

        for name in ("werkzeug", "moto"):
            logging.getLogger(name).setLevel(logging.ERROR)
        undo_rules, undo_polls = enforce_scheduler_rules(), release_lock_while_polling()
        undo_rollback = roll_back_items_not_tables()

        def undo() -> None:
            undo_rules()
            undo_polls()
            undo_rollback()

        self._undo_patches = undo
        app = LocalCognitoAdmin(
            OneAtATime(DomainDispatcherApplication(create_backend_app), self.lock),
            self,
        )
        # Opt-in DynamoDB throttling (no rules: a pass-through), outside the lock.
        self.dynamodb_faults = DynamoFaults(app)
        try:
            self._server = make_server(
                self.host,
                self.port,
                self.dynamodb_faults,
                threaded=True,
                request_handler=MotoRequestHandler,
            )
        except BaseException:
            self._undo_patches()
            raise
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="moto-server", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            if self._thread is not None:
                self._thread.join()
            self._server.server_close()
            self._server = None
            self._thread = None
        self._undo_patches()
        self._undo_patches = lambda: None


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


def roll_back_items_not_tables() -> Callable[[], None]:
    """Make moto's `TransactWriteItems` back up the items it names, not their tables.

    moto deep-copies every table a transaction touches before running it, to
    restore it on failure: O(table size) per transaction, under `MOTO_LOCK`. With a
    few hundred bids every commit of a snipe then costs ~100 ms and a burst of them
    queues for seconds, which DynamoDB never does. This copies only the named items
    (or remembers their absence) and puts them back when the transaction fails, as
    moto's own rollback would. Patches moto in this process; returns the undo.
    """
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.exceptions import MockValidationException

    models: Any = dynamodb_models
    backend: Any = models.DynamoDBBackend
    original = backend.transact_write_items
    if getattr(original, "item_backups", False):
        return lambda: None
    real_copy = models.copy

    class _Copy:
        """moto's `copy` module, except that a table's "copy" is the table itself
        (its rollback then reassigns the very same table: a no-op)."""

        def __getattr__(self, name: str) -> Any:
            return getattr(real_copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            if isinstance(value, models.Table):
                return value
            return real_copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        saved = []
        for entry in transact_items:
            for op in entry.values():
                table = self.tables.get(op.get("TableName"))
                if table is None:
                    continue
                keys = op.get("Key")
                if keys is None:
                    names = (table.hash_key_attr, table.range_key_attr)
                    put = op.get("Item", {})
                    keys = {name: put[name] for name in names if name in put}
                try:
                    hash_key, range_key = self.get_keys_value(table, keys)
                except MockValidationException:  # moto's own run refuses the key
                    continue
                current = table.get_item(hash_key, range_key)
                saved.append((table, hash_key, range_key, real_copy.deepcopy(current)))
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                _put_back(table, hash_key, range_key, item)
            raise

    transact_write_items.item_backups = True  # type: ignore[attr-defined]
    backend.transact_write_items = transact_write_items
    models.copy = _Copy()

    def undo() -> None:
        backend.transact_write_items = original
        models.copy = real_copy

    return undo


def _put_back(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    """An item as it was before a failed transaction (None: it did not exist)."""
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    elif item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item


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
