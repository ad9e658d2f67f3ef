"""One emulator for the whole run, on a manual clock, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.ebay_emulator import EmulatorServer, ManualClock
from local.ebay_emulator.clock import DEFAULT_MANUAL_START

from .driver import EbayDriver


@pytest.fixture(scope="session")
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture(scope="session")
def emulator_server(clock: ManualClock) -> Iterator[EmulatorServer]:
    with EmulatorServer(clock=clock) as server:
        yield server


@pytest.fixture(scope="session")
def session_driver(emulator_server: EmulatorServer) -> Iterator[EbayDriver]:
    # One HTTP client for the run: building one (with its TLS context) costs ~50 ms.
    driver = EbayDriver(emulator_server.url)
    yield driver
    driver.close()


@pytest.fixture
def ebay(
    emulator_server: EmulatorServer, session_driver: EbayDriver, clock: ManualClock
) -> EbayDriver:
    """A driver on a freshly reset emulator, its clock back at the start instant."""
    emulator_server.state.reset()
    clock.set(DEFAULT_MANUAL_START)
    session_driver.http.cookies.clear()
    return session_driver
