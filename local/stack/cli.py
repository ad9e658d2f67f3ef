"""Command line of the local stack: `python -m local.stack [options]` (`make dev`)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from local.stack.aws import FAKE_CREDENTIALS
from local.stack.config import (
    DEFAULT_API_PORT,
    DEFAULT_AWS_PORT,
    DEFAULT_EBAY_PORT,
    DEFAULT_LAMBDA_PORT,
    DEFAULT_OUTBOX_PORT,
    StackConfig,
)
from local.stack.console import Console
from local.stack.stack import LocalStack, StartupError


def _pair(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def _delay_range(text: str) -> tuple[float, float]:
    """`0-60` (uniform between) or `5` (always): seconds a delivery is late."""
    low, dash, high = text.partition("-")
    try:
        bounds = (float(low), float(high if dash else low))
    except ValueError:
        message = f"{text!r} is not SECONDS or LOW-HIGH"
        raise argparse.ArgumentTypeError(message) from None
    if not 0 <= bounds[0] <= bounds[1] < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a range of seconds")
    return bounds


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0 <= rate <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a fraction from 0 to 1")
    return rate


def _positive_seconds(text: str) -> int:
    try:
        seconds = int(text)
    except ValueError:
        seconds = 0
    if seconds < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds")
    return seconds


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port (0 picks a free one)")
    return port


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m local.stack",
        description=(
            "Run the template's API, functions, schedules and AWS services on "
            "localhost: no Docker, no AWS account."
        ),
    )
    cli.add_argument("--template", type=Path, default=Path("template.yaml"))
    cli.add_argument(
        "--base-dir",
        type=Path,
        help="folder CodeUri/ContentUri are relative to (default: the template's)",
    )
    cli.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    cli.add_argument("--api-port", type=_port, default=DEFAULT_API_PORT)
    cli.add_argument("--aws-port", type=_port, default=DEFAULT_AWS_PORT, help="moto")
    cli.add_argument("--lambda-port", type=_port, default=DEFAULT_LAMBDA_PORT)
    cli.add_argument("--ebay-port", type=_port, default=DEFAULT_EBAY_PORT)
    cli.add_argument(
        "--no-ebay", action="store_true", help="do not start the eBay emulator"
    )
    cli.add_argument(
        "--outbox-port",
        type=_port,
        default=DEFAULT_OUTBOX_PORT,
        help="the Postmark outbox (functions' POSTMARK_API_URL)",
    )
    cli.add_argument(
        "--no-outbox", action="store_true", help="do not start the Postmark outbox"
    )
    cli.add_argument(
        "--ebay-app-secret",
        default="EbayAppSecret",
        metavar="LOGICAL_ID",
        help="the template's secret that receives the emulator's app keyset",
    )
    cli.add_argument("--stage", help="value of the template's Stage parameter")
    cli.add_argument(
        "--parameter",
        "--parameter-overrides",
        dest="parameters",
        type=_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a template parameter (repeatable)",
    )
    cli.add_argument(
        "--env",
        type=_pair,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a variable for every function; Function.KEY=VALUE for one function",
    )
    cli.add_argument(
        "--secret",
        type=_pair,
        action="append",
        default=[],
        metavar="LOGICAL_ID=VALUE",
        help="the SecretString of a template secret, set at every start (repeatable)",
    )
    cli.add_argument("--persist", type=Path, metavar="DIR", help="keep state in DIR")
    cli.add_argument("--persist-interval", type=float, default=10.0, metavar="SECONDS")
    cli.add_argument(
        "--issuer", help="token issuer (default http://HOST:API_PORT/local)"
    )
    cli.add_argument("--client-id", default="local-web-client", help="token audience")
    cli.add_argument("--region", default="us-east-1")
    cli.add_argument(
        "--max-containers",
        type=int,
        default=10,
        help="concurrent containers per function",
    )
    cli.add_argument(
        "--async-retry-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="delay before Lambda's async retries (AWS: 60; doubled for the second)",
    )
    cli.add_argument("--schedule-poll", type=float, default=0.25, metavar="SECONDS")
    cli.add_argument(
        "--schedule-delay",
        type=_delay_range,
        default=(0.0, 0.0),
        metavar="LOW-HIGH",
        help="deliver each schedule this many seconds late, uniformly (AWS: 0-60)",
    )
    cli.add_argument(
        "--schedule-duplicates",
        type=_rate,
        default=0.0,
        metavar="RATE",
        help="fraction of schedule deliveries sent twice, as AWS may (e.g. 0.05)",
    )
    cli.add_argument(
        "--rule-rate",
        type=_positive_seconds,
        metavar="SECONDS",
        help="fire the template's rate() rules this often instead (tests)",
    )
    cli.add_argument(
        "--schedule-seed",
        type=int,
        metavar="N",
        help="seed the delays and duplicates, to replay a run",
    )
    return cli


def config_from(arguments: argparse.Namespace) -> StackConfig:
    template = arguments.template.resolve()
    parameters = dict(arguments.parameters)
    if arguments.stage:
        parameters["Stage"] = arguments.stage
    env: dict[str, str] = {}
    function_env: dict[str, dict[str, str]] = {}
    for key, value in arguments.env:
        function, dot, name = key.partition(".")
        if dot:
            function_env.setdefault(function, {})[name] = value
        else:
            env[key] = value
    delay = arguments.async_retry_delay
    return StackConfig(
        template=template,
        base_dir=(arguments.base_dir or template.parent).resolve(),
        host=arguments.host,
        api_port=arguments.api_port,
        aws_port=arguments.aws_port,
        lambda_port=arguments.lambda_port,
        ebay_port=None if arguments.no_ebay else arguments.ebay_port,
        ebay_app_secret=arguments.ebay_app_secret,
        outbox_port=None if arguments.no_outbox else arguments.outbox_port,
        parameters=parameters,
        env=env,
        secrets=dict(arguments.secret),
        function_env=function_env,
        persist=arguments.persist.resolve() if arguments.persist else None,
        persist_interval=arguments.persist_interval,
        issuer=arguments.issuer,
        client_id=arguments.client_id,
        region=arguments.region,
        max_containers=arguments.max_containers,
        async_retry_delays=(delay, delay * 2),
        schedule_poll_interval=arguments.schedule_poll,
        schedule_delay=arguments.schedule_delay,
        schedule_duplicates=arguments.schedule_duplicates,
        schedule_seed=arguments.schedule_seed,
        rule_rate=arguments.rule_rate,
    )


def isolate_from_real_aws(region: str) -> None:
    """Nothing in this process may reach a real account or a developer's profile."""
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.update(FAKE_CREDENTIALS)
    os.environ["AWS_CONFIG_FILE"] = os.devnull
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ["AWS_DEFAULT_REGION"] = region


def _interrupt(number: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    console = Console()
    isolate_from_real_aws(arguments.region)
    signal.signal(signal.SIGTERM, _interrupt)
    stack = LocalStack(config_from(arguments), console)
    try:
        stack.prepare()
        asyncio.run(stack.run())
    except StartupError as error:
        print(f"local stack: error: {error}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        console.step("interrupted")
    return 0
