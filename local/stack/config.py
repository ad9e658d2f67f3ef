"""The local stack's settings, and the environment each function's container gets."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.stack.aws import FAKE_CREDENTIALS
from local.template.functions import FunctionSpec

DEFAULT_API_PORT = 3000
DEFAULT_EBAY_PORT = 3100
DEFAULT_AWS_PORT = 3200
DEFAULT_LAMBDA_PORT = 3201
DEFAULT_OUTBOX_PORT = 3300
# What the local Postmark secret holds and the outbox accepts (`--secret` wins).
LOCAL_POSTMARK_TOKEN = "local-postmark-server-token"

# Taken from the developer's environment; everything else a container sees is set.
_PASSED_THROUGH = ("PATH", "HOME", "TMPDIR", "SYSTEMROOT", "PYTHONDONTWRITEBYTECODE")


@dataclass
class StackConfig:
    template: Path
    base_dir: Path
    host: str = "127.0.0.1"
    api_port: int = DEFAULT_API_PORT
    aws_port: int = DEFAULT_AWS_PORT
    lambda_port: int = DEFAULT_LAMBDA_PORT
    ebay_port: int | None = DEFAULT_EBAY_PORT
    ebay_app_secret: str = "EbayAppSecret"
    # None: no outbox. The command line's default is DEFAULT_OUTBOX_PORT; a
    # StackConfig built in code binds no port it was not given.
    outbox_port: int | None = None
    postmark_secret: str = "PostmarkServerTokenSecret"
    parameters: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    function_env: dict[str, dict[str, str]] = field(default_factory=dict)
    persist: Path | None = None
    persist_interval: float = 10.0
    issuer: str | None = None
    client_id: str = "local-web-client"
    region: str = "us-east-1"
    account_id: str = "123456789012"
    stack_name: str = "local"
    max_containers: int = 10
    async_retry_delays: tuple[float, ...] = (1.0, 2.0)
    schedule_poll_interval: float = 0.25
    schedule_retry_delay: float = 0.5
    # AWS's lateness and duplicates, off by default (see scheduler.DeliveryChaos).
    schedule_delay: tuple[float, float] = (0.0, 0.0)
    schedule_duplicates: float = 0.0
    schedule_seed: int | None = None
    # Every template rate() rule fires this often instead (None: its own rate).
    rule_rate: int | None = None

    @property
    def public_host(self) -> str:
        """The host to print in URLs (a wildcard bind is reached on loopback)."""
        return "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host


def wire_ebay_emulator(config: StackConfig, url: str, emulator_state: Any) -> str:
    """Point every function at the running eBay emulator, as a deployment points
    them at eBay: its base URLs in the environment, its app keyset in the secret.

    What the user set with `--env` or `--secret` wins. Returns what was wired.
    """
    endpoints = {
        "EBAY_AUTH_BASE_URL": url,
        "EBAY_API_BASE_URL": url,
        "EBAY_IDENTITY_BASE_URL": url,
        "EBAY_TRADING_URL": f"{url}/ws/api.dll",
    }
    config.env = {**endpoints, **config.env}
    app = emulator_state.default_app
    config.secrets.setdefault(
        config.ebay_app_secret,
        json.dumps(
            {
                "clientId": app.client_id,
                "clientSecret": app.client_secret,
                "ruName": app.ru_name,
            }
        ),
    )
    return f"base URLs, keyset in {config.ebay_app_secret}"


def postmark_secret_value(config: StackConfig) -> str:
    """The template's Postmark secret, locally: the outbox's token unless
    `--secret` set another (which the outbox then accepts instead)."""
    return config.secrets.setdefault(
        config.postmark_secret, json.dumps({"serverToken": LOCAL_POSTMARK_TOKEN})
    )


def wire_outbox(config: StackConfig, api_url: str) -> str:
    """Point every function at the Postmark outbox, as a deployment points them at
    Postmark (`POSTMARK_API_URL`); what `--env` set wins. Returns what was wired."""
    config.env = {"POSTMARK_API_URL": api_url, **config.env}
    return f"POSTMARK_API_URL, token in {config.postmark_secret}"


def container_environment(
    spec: FunctionSpec,
    *,
    config: StackConfig,
    aws_url: str,
    lambda_url: str,
) -> dict[str, str]:
    """What `os.environ` holds inside a function's container.

    The template's variables, the variables Lambda's runtime sets, then the local
    endpoint settings (boto3's standard `AWS_ENDPOINT_URL` and
    `AWS_ENDPOINT_URL_LAMBDA`, fake credentials, no X-Ray), then `--env` overrides.
    """
    environment = {
        name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ
    }
    environment.update(spec.environment)
    path = [str(spec.code_dir)] if spec.code_dir else []
    path.extend(str(folder) for folder in spec.layer_dirs)
    environment.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{spec.logical_id}",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "LAMBDA_TASK_ROOT": str(spec.code_dir or ""),
            "LAMBDA_RUNTIME_DIR": str(Path(__file__).resolve().parent / "runtime"),
            "_HANDLER": spec.handler,
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PYTHONPATH": os.pathsep.join(path),
            "PYTHONUNBUFFERED": "1",
            **FAKE_CREDENTIALS,
            "AWS_ENDPOINT_URL": aws_url,
            "AWS_ENDPOINT_URL_LAMBDA": lambda_url,
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    environment.update(config.env)
    environment.update(config.function_env.get(spec.logical_id, {}))
    return environment
