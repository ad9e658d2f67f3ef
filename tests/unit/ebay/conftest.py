"""Fixtures of the eBay client tests: production settings, the app's keys, a
fake clock, and a client wired to them (respx intercepts its HTTP)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from ebay_test_support import CLIENT_ID, CLIENT_SECRET, RU_NAME, FakeClock, Wire

from sniper.ebay import EbayAppCredentials, EbayClient, EbaySettings


@pytest.fixture
def wire() -> Wire:
    return Wire()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings() -> EbaySettings:
    return EbaySettings.from_env({"EBAY_ENVIRONMENT": "production"})


@pytest.fixture
def credentials() -> EbayAppCredentials:
    return EbayAppCredentials.model_validate(
        {"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET, "ruName": RU_NAME}
    )


@pytest.fixture(scope="session")
def http() -> Iterator[httpx.Client]:
    """One client for the session: building one loads the CA bundle (~50 ms).
    respx intercepts at the transport, so tests stay isolated."""
    with httpx.Client() as shared:
        yield shared


@pytest.fixture
def client(
    settings: EbaySettings,
    credentials: EbayAppCredentials,
    clock: FakeClock,
    http: httpx.Client,
) -> EbayClient:
    return EbayClient(settings, credentials=lambda: credentials, http=http, clock=clock)
