"""Integration fixtures: the eBay emulator over real HTTP beside moto."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from local.ebay_emulator import EmulatorServer
from tests.conftest import MockedAws, reset_containers
from tests.support.ebay_world import EbayWorld, point_functions_at


@pytest.fixture(scope="session")
def ebay_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer() as server:
        yield server


@pytest.fixture
def ebay(
    ebay_emulator: EmulatorServer,
    mocked_aws: MockedAws,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[EbayWorld]:
    """A fresh emulator state, and the functions' environment pointing at it."""
    with httpx.Client(base_url=ebay_emulator.url, timeout=10) as http:
        http.post("/__admin/reset").raise_for_status()
        key_arn = point_functions_at(ebay_emulator.url, monkeypatch)
        reset_containers()
        yield EbayWorld(url=ebay_emulator.url, http=http, key_arn=key_arn)
