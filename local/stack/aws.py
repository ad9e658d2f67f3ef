"""The embedded AWS: moto's server on loopback, and boto3 clients that reach it.

Functions reach it through boto3's standard `AWS_ENDPOINT_URL`; the stack's own
parts (provisioning, the schedule runner, Lambda's destinations) use `AwsClients`,
which point at the same endpoint with the same fake credentials.
"""

from __future__ import annotations

import logging
import threading
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

    def start(self) -> None:
        from moto.server import ThreadedMotoServer

        for name in ("werkzeug", "moto"):
            logging.getLogger(name).setLevel(logging.ERROR)
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
