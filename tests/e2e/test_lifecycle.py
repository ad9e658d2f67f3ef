"""Starting and stopping the stack: busy ports, Ctrl-C, state kept by --persist."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from local.template.loader import load_template
from tests.e2e.support import ROOT, free_ports, start_stack, workers_of

pytestmark = pytest.mark.slow


def test_a_busy_api_port_fails_clearly_before_starting_anything() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        aws_port, lambda_port = free_ports(2)

        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "local.stack",
                "--api-port",
                str(port),
                "--aws-port",
                str(aws_port),
                "--lambda-port",
                str(lambda_port),
                "--no-ebay",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert "--api-port" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_ctrl_c_stops_cleanly_and_persisted_state_survives_a_restart(
    tmp_path: Path,
) -> None:
    template = ROOT / "template.yaml"
    # The first run's template also declares a schedule; the second's no longer does.
    with_schedule = load_template(template)
    events = with_schedule["Resources"]["UserManagementFunction"]["Properties"][
        "Events"
    ]
    events["Dropped"] = {
        "Type": "ScheduleV2",
        "Properties": {"ScheduleExpression": "rate(1 day)"},
    }
    first_template = tmp_path / "first.json"
    first_template.write_text(json.dumps(with_schedule))
    state = tmp_path / "state"
    issuer = ("--issuer", "http://localhost:3000/local")  # ports differ per start
    first = start_stack(tmp_path, template=first_template, persist=state, extra=issuer)
    scheduled = first.client("scheduler").list_schedules()["Schedules"]
    assert [s["Name"] for s in scheduled] == ["UserManagementFunctionDropped"]
    token = first.token("erin")
    created = httpx.get(
        f"{first.api}/users/profile", headers={"Authorization": f"Bearer {token}"}
    ).json()
    workers = workers_of(first)

    started = time.monotonic()
    code = first.stop(signal.SIGINT)

    assert code == 0, first.log()
    assert time.monotonic() - started < 10
    if Path("/proc").is_dir():
        assert workers, "the profile request ran in a worker"
        assert workers_of(first) == []  # no orphan container after Ctrl-C
    assert "Traceback" not in first.log()
    assert "stopped" in first.log()
    assert (state / "aws-state.pickle").exists()

    second = start_stack(tmp_path, template=template, persist=state, extra=issuer)
    try:
        again = httpx.get(
            f"{second.api}/users/profile", headers={"Authorization": f"Bearer {token}"}
        )
        assert again.status_code == 200, second.log()
        assert again.json()["createdAt"] == created["createdAt"]
        assert "kept" in second.log()
        assert second.client("scheduler").list_schedules()["Schedules"] == []
        assert "UserManagementFunctionDropped removed" in second.log()
    finally:
        assert second.stop(signal.SIGTERM) == 0
