"""The local stack's command line and the environment of a container."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.stack.cli import config_from, parser
from local.stack.config import StackConfig, container_environment
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
