"""Start `python -m local.stack` as a subprocess on free ports, with a test template.

The test template is `template.yaml` plus a tiny probe function (its code under
`tests/e2e/fixtures/probe/`), its table, queues, key, secret and schedule group:
written to a temporary file, it proves that what a template declares is served and
created without touching the stack's code.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import httpx

from local.template.loader import load_template

ROOT = Path(__file__).resolve().parents[2]
PROBE_CODE = "tests/e2e/fixtures/probe/"
STAGE = "local"
STARTUP_TIMEOUT_S = 60


def free_ports(count: int) -> list[int]:
    sockets = []
    for _ in range(count):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sockets.append(sock)
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def probe_resources(probe_dir: Path) -> dict[str, Any]:
    """What the e2e tests add to template.yaml (long-form intrinsics)."""

    def ref(name: str) -> dict[str, str]:
        return {"Ref": name}

    def arn(name: str) -> dict[str, list[str]]:
        return {"Fn::GetAtt": [name, "Arn"]}

    api = {"RestApiId": ref("SniperApi")}
    return {
        "ProbeTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "TableName": {"Fn::Sub": "probe-${Stage}"},
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
                "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            },
        },
        "ProbeDlq": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": {"Fn::Sub": "probe-dlq-${Stage}"}},
        },
        "ScheduleDlq": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "RedrivenQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": 45,
                "RedrivePolicy": {
                    "deadLetterTargetArn": arn("ProbeDlq"),
                    "maxReceiveCount": 3,
                },
            },
        },
        "ProbeKey": {
            "Type": "AWS::KMS::Key",
            "Properties": {"Description": "probe key"},
        },
        "ProbeKeyAlias": {
            "Type": "AWS::KMS::Alias",
            "Properties": {
                "AliasName": {"Fn::Sub": "alias/probe-${Stage}"},
                "TargetKeyId": ref("ProbeKey"),
            },
        },
        "ProbeSecret": {
            "Type": "AWS::SecretsManager::Secret",
            "Properties": {
                "GenerateSecretString": {
                    "SecretStringTemplate": '{"user": "probe"}',
                    "GenerateStringKey": "password",
                    "PasswordLength": 16,
                    "ExcludePunctuation": True,
                }
            },
        },
        "SnipeGroup": {
            "Type": "AWS::Scheduler::ScheduleGroup",
            "Properties": {"Name": {"Fn::Sub": "snipes-${Stage}"}},
        },
        "ProbeFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "FunctionName": {"Fn::Sub": "probe-${Stage}"},
                "CodeUri": PROBE_CODE,
                "Handler": "app.handler",
                "MemorySize": 256,
                "Timeout": 5,
                "Environment": {
                    "Variables": {
                        "PROBE_DIR": str(probe_dir),
                        "PROBE_TABLE": ref("ProbeTable"),
                        "DLQ_URL": ref("ProbeDlq"),
                        "REDRIVEN_URL": ref("RedrivenQueue"),
                        "KEY_ID": ref("ProbeKey"),
                        "KEY_ALIAS": ref("ProbeKeyAlias"),
                        "PROBE_SECRET_ARN": ref("ProbeSecret"),
                        "GROUP": ref("SnipeGroup"),
                        "FIRST_ORIGIN": {
                            "Fn::Select": [0, {"Fn::Split": [",", ref("CorsOrigins")]}]
                        },
                    }
                },
                "DeadLetterQueue": {"Type": "SQS", "TargetArn": arn("ProbeDlq")},
                "EventInvokeConfig": {"MaximumRetryAttempts": 1},
                "Events": {
                    "Probe": {
                        "Type": "Api",
                        "Properties": {**api, "Path": "/probe/{id}", "Method": "GET"},
                    },
                    "Files": {
                        "Type": "Api",
                        "Properties": {
                            **api,
                            "Path": "/probe/files/{proxy+}",
                            "Method": "ANY",
                        },
                    },
                    "Public": {
                        "Type": "Api",
                        "Properties": {
                            **api,
                            "Path": "/probe-public/{name}",
                            "Method": "POST",
                            "Auth": {"Authorizer": "NONE"},
                        },
                    },
                    "Recurring": {
                        "Type": "ScheduleV2",
                        "Properties": {
                            "ScheduleExpression": "rate(1 day)",
                            "Input": '{"action": "record", "id": "recurring"}',
                        },
                    },
                    "Nightly": {
                        "Type": "Schedule",
                        "Properties": {"Schedule": "cron(0 3 * * ? *)"},
                    },
                },
            },
        },
    }


def write_probe_template(folder: Path, probe_dir: Path) -> Path:
    """template.yaml plus the probe resources, as JSON (CloudFormation reads both)."""
    template = load_template(ROOT / "template.yaml")
    template["Resources"].update(probe_resources(probe_dir))
    path = folder / "template.json"
    path.write_text(json.dumps(template, indent=1))
    return path


@dataclass
class RunningStack:
    process: subprocess.Popen[bytes]
    api: str
    aws: str
    lambda_url: str
    persist: Path | None
    log_path: Path
    ebay: str | None = None
    outbox: str | None = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self, service: str) -> Any:
        endpoint = self.lambda_url if service == "lambda" else self.aws
        return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")

    def token(
        self,
        username: str = "alice",
        email: str | None = None,
        *,
        email_verified: bool = True,
    ) -> str:
        body = {
            "username": username,
            "email": email or f"{username}@example.com",
            "emailVerified": email_verified,
        }
        response = httpx.post(f"{self.api}/local/token", json=body, timeout=10)
        response.raise_for_status()
        token: str = response.json()["idToken"]
        return token

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise
        return int(self.process.returncode)


def start_stack(
    folder: Path,
    *,
    template: Path,
    persist: Path | None = None,
    extra: tuple[str, ...] = (),
    wait: bool = True,
    ebay_port: int | None = None,
    outbox_port: int | None = None,
) -> RunningStack:
    """Start `python -m local.stack` on free ports; the eBay emulator only when
    `ebay_port` is given, the Postmark outbox only when `outbox_port` is."""
    api_port, aws_port, lambda_port = free_ports(3)
    ebay = ["--no-ebay"] if ebay_port is None else ["--ebay-port", str(ebay_port)]
    outbox = (
        ["--no-outbox"] if outbox_port is None else ["--outbox-port", str(outbox_port)]
    )
    arguments = [
        sys.executable,
        "-m",
        "local.stack",
        "--template",
        str(template),
        "--base-dir",
        str(ROOT),
        "--api-port",
        str(api_port),
        "--aws-port",
        str(aws_port),
        "--lambda-port",
        str(lambda_port),
        *ebay,
        *outbox,
        "--stage",
        STAGE,
        "--async-retry-delay",
        "0.2",
        *extra,
    ]
    if persist is not None:
        arguments += ["--persist", str(persist)]
    log_path = folder / f"stack-{api_port}.log"
    environment = {**os.environ, "NO_COLOR": "1"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            arguments, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=environment
        )
    stack = RunningStack(
        process=process,
        api=f"http://127.0.0.1:{api_port}",
        aws=f"http://127.0.0.1:{aws_port}",
        lambda_url=f"http://127.0.0.1:{lambda_port}",
        persist=persist,
        log_path=log_path,
        ebay=None if ebay_port is None else f"http://127.0.0.1:{ebay_port}",
        outbox=None if outbox_port is None else f"http://127.0.0.1:{outbox_port}",
    )
    if wait:
        wait_until_healthy(stack)
    return stack


def workers_of(stack: RunningStack) -> list[int]:
    """Live worker processes (containers) of this stack, found by their endpoint.

    Workers run in their own session, so an orphan would outlive the stack
    unnoticed; `pgrep -f bootstrap.py` plus their environment tells them apart from
    other stacks' workers. Linux only (reads /proc); elsewhere, none are found.
    """
    marker = f"AWS_ENDPOINT_URL={stack.aws}".encode()
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if b"bootstrap.py" not in (entry / "cmdline").read_bytes():
                continue
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def wait_until_healthy(stack: RunningStack) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"the stack exited early:\n{stack.log()}")
        try:
            if httpx.get(f"{stack.api}/health", timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stack.stop()
    raise RuntimeError(f"the stack did not become healthy:\n{stack.log()}")


def wait_for(predicate: Any, timeout: float = 10, interval: float = 0.05) -> Any:
    """Poll until `predicate()` is truthy; its value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting")
        time.sleep(interval)


def records(probe_dir: Path, name: str) -> list[dict[str, Any]]:
    path = probe_dir / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
