"""Starting and stopping the emulator, in-process and as `python -m`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from local.ebay_emulator import EmulatorServer, EmulatorState, ManualClock, create_app

ROOT = Path(__file__).resolve().parents[2]


def test_each_server_gets_its_own_free_port_and_stops_cleanly() -> None:
    with EmulatorServer() as first, EmulatorServer() as second:
        assert first.port != second.port
        assert httpx.get(first.url + "/__admin/clock").status_code == 200
        url = second.url

    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/__admin/clock", timeout=1)


def test_a_shared_state_is_what_the_server_serves() -> None:
    state = EmulatorState(ManualClock())
    listing = state.create_listing(
        title="Shared", seller="seller1", start_price_cents=500
    )

    with EmulatorServer(state=state) as server:
        view = httpx.get(f"{server.url}/__admin/listings/{listing.item_id}").json()

    assert view["title"] == "Shared"


def test_the_date_header_follows_the_emulator_clock() -> None:
    clock = ManualClock(start=1_767_225_600.0)
    with EmulatorServer(clock=clock) as server:
        clock.advance(90)
        response = httpx.get(server.url + "/__admin/clock")

    assert response.headers["date"] == "Thu, 01 Jan 2026 00:01:30 GMT"


def test_a_state_and_a_separate_clock_are_refused() -> None:
    with pytest.raises(ValueError, match="clock"):
        create_app(EmulatorState(), ManualClock())
    with pytest.raises(ValueError, match="clock"):
        EmulatorServer(state=EmulatorState(), clock=ManualClock())


@pytest.mark.slow
def test_the_module_runs_standalone_and_stops_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "local.ebay_emulator",
            "--port",
            "0",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("eBay emulator listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1].strip()
        apps = httpx.get(url + "/__admin/oauth/apps", timeout=5).json()
        assert apps[0]["clientId"] == "sniper-local"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_concurrent_bids_from_many_threads_keep_the_auction_consistent() -> None:
    clock = ManualClock()
    with EmulatorServer(clock=clock) as server:
        listing = server.state.create_listing(
            title="Contested", seller="seller1", start_price_cents=100
        )
        url = f"{server.url}/__admin/listings/{listing.item_id}/bids"

        def rival(n: int) -> int:
            body = {"bidder": f"rival{n}", "maxAmount": 1_000 + n * 100}
            return httpx.post(url, json=body, timeout=5).status_code

        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(rival, range(24)))
        view = httpx.get(f"{server.url}/__admin/listings/{listing.item_id}").json()

    accepted = [bid for bid in view["bids"] if bid["accepted"]]
    assert len(view["bids"]) == 24
    assert statuses.count(201) == len(accepted) == view["bidCount"]
    assert view["leader"] == "rival23"
    assert [bid["sequence"] for bid in view["bids"]] == list(range(24))
