"""The local stack's command line and the environment of a container."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from local.stack.cli import config_from, parser
from local.stack.config import StackConfig, container_environment
from local.stack.console import Console
from local.stack.stack import LocalStack, StartupError
from local.template.functions import FunctionSpec
from tests.support.handlers import ROOT


def test_defaults() -> None:
    config = config_from(parser().parse_args([]))

    assert (config.api_port, config.aws_port, config.lambda_port, config.ebay_port) == (
        3000,
        3200,
        3201,
        3100,
    )
    assert config.host == "127.0.0.1"
    assert config.persist is None
    assert config.template == Path("template.yaml").resolve()
    assert config.base_dir == config.template.parent


def test_options(tmp_path: Path) -> None:
    config = config_from(
        parser().parse_args(
            [
                "--template",
                str(tmp_path / "t.yaml"),
                "--base-dir",
                str(ROOT),
                "--stage",
                "local",
                "--parameter",
                "CorsOrigins=http://localhost:3001",
                "--env",
                "EBAY_API_BASE_URL=http://127.0.0.1:3100",
                "--env",
                "BidExecutorFunction.LEAD=5",
                "--persist",
                str(tmp_path / "state"),
                "--no-ebay",
                "--async-retry-delay",
                "0.5",
            ]
        )
    )

    assert config.parameters == {
        "CorsOrigins": "http://localhost:3001",
        "Stage": "local",
    }
    assert config.env == {"EBAY_API_BASE_URL": "http://127.0.0.1:3100"}
    assert config.function_env == {"BidExecutorFunction": {"LEAD": "5"}}
    assert config.persist == tmp_path / "state"
    assert config.ebay_port is None
    assert config.base_dir == ROOT
    assert config.async_retry_delays == (0.5, 1.0)


@pytest.mark.parametrize("argument", ["--env=NOVALUE", "--api-port=70000"])
def test_bad_arguments(argument: str) -> None:
    with pytest.raises(SystemExit):
        parser().parse_args([argument])


def test_container_environment_layers_local_settings_over_the_template(
    tmp_path: Path,
) -> None:
    spec = FunctionSpec(
        logical_id="Fn",
        name="fn-dev",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fn-dev",
        runtime="python3.11",
        handler="app.handler",
        code_dir=tmp_path / "code",
        layer_dirs=(tmp_path / "shared",),
        memory_mb=512,
        timeout_s=30,
        environment={
            "USERS_TABLE": "users-dev",
            "POWERTOOLS_TRACE_DISABLED": "false",
            "POWERTOOLS_METRICS_NAMESPACE": "EbaySniper",
        },
    )
    config = StackConfig(
        template=tmp_path / "t.yaml",
        base_dir=tmp_path,
        env={"EXTRA": "1"},
        function_env={"Fn": {"USERS_TABLE": "override"}, "Other": {"X": "y"}},
    )

    environment = container_environment(
        spec,
        config=config,
        aws_url="http://127.0.0.1:3200",
        lambda_url="http://127.0.0.1:3201",
    )

    assert environment["AWS_ENDPOINT_URL"] == "http://127.0.0.1:3200"
    assert environment["AWS_ENDPOINT_URL_LAMBDA"] == "http://127.0.0.1:3201"
    assert environment["AWS_ACCESS_KEY_ID"] == "testing"
    assert environment["AWS_DEFAULT_REGION"] == "us-east-1"
    assert environment["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "EbaySniper"
    assert environment["AWS_LAMBDA_FUNCTION_NAME"] == "fn-dev"
    assert environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert environment["PYTHONPATH"].split(":") == [
        str(tmp_path / "code"),
        str(tmp_path / "shared"),
    ]
    assert environment["EXTRA"] == "1"
    assert environment["USERS_TABLE"] == "override"
    assert "X" not in environment
    assert "AWS_PROFILE" not in environment


@pytest.mark.parametrize(
    ("template_text", "key_text", "expected"),
    [
        ("Resources:\n  Fn: [\n", None, "not valid YAML"),
        ("Resources: {}\n", "not a key", "Delete it to generate a new one"),
    ],
)
def test_startup_problems_are_one_clear_error(
    tmp_path: Path, template_text: str, key_text: str | None, expected: str
) -> None:
    # A broken template or identity key stops `make dev` with a sentence (exit 1),
    # not a traceback, and leaves nothing running.
    template = tmp_path / "template.yaml"
    template.write_text(template_text)
    state = tmp_path / "state"
    if key_text is not None:
        state.mkdir()
        (state / "identity-key.pem").write_text(key_text)
    config = StackConfig(
        template=template,
        base_dir=tmp_path,
        api_port=0,
        aws_port=0,
        lambda_port=0,
        ebay_port=None,
        persist=state,
    )
    stack = LocalStack(config, Console(io.StringIO()))

    with pytest.raises(StartupError, match=expected):
        stack.prepare()
    assert stack.aws is None
