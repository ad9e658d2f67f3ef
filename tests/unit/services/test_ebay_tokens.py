"""Just-in-time access tokens: refreshed when they would expire, relink when dead."""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3
import pytest
from pydantic import SecretStr

from sniper.ebay import AccessToken, EbayAuthError
from sniper.repositories.ebay_links import EbayLinkRepository, StoredEbayLink
from sniper.services.ebay_tokens import (
    SAFETY_MARGIN_SECONDS,
    EbayNotLinkedError,
    EbayRelinkRequiredError,
    UserTokenProvider,
    call_with_user_token,
)
from sniper.token_cipher import TokenCipher
from tests.conftest import MockedAws

NOW = 1_800_000_000
USER = "user-1"


@dataclass
class FixedClock:
    at: float = NOW

    def now(self) -> float:
        return self.at


@dataclass
class ScriptedRefresher:
    """Our own refresher interface, answering from a script."""

    refused: bool = False
    calls: list[str] = field(default_factory=list)

    def refresh_access_token(self, refresh_token: str) -> AccessToken:
        self.calls.append(refresh_token)
        if self.refused:
            raise EbayAuthError("invalid_grant", error_id="invalid_grant")
        return AccessToken(
            access_token=SecretStr(f"fresh-{len(self.calls)}"), expires_at=NOW + 7200
        )


@pytest.fixture
def cipher(mocked_aws: MockedAws) -> TokenCipher:
    return TokenCipher(boto3.client("kms").create_key()["KeyMetadata"]["Arn"])


@pytest.fixture
def links(mocked_aws: MockedAws) -> EbayLinkRepository:
    return EbayLinkRepository(mocked_aws.tables["UsersTable"])


def store_link(
    links: EbayLinkRepository,
    cipher: TokenCipher,
    access_expires: int,
    refresh_expires: int = NOW + 86400 * 500,
) -> None:
    links.save(
        StoredEbayLink(
            user_id=USER,
            ebay_user_id="ebay-1",
            ebay_username="buyer",
            access_token_ciphertext=cipher.encrypt(USER, SecretStr("stored-access")),
            access_token_expires_at=access_expires,
            refresh_token_ciphertext=cipher.encrypt(USER, SecretStr("the-refresh")),
            refresh_token_expires_at=refresh_expires,
            linked_at=NOW - 100,
            updated_at=NOW - 100,
        )
    )


def provider(
    links: EbayLinkRepository, cipher: TokenCipher, refresher: ScriptedRefresher
) -> UserTokenProvider:
    return UserTokenProvider(links, cipher, refresher, FixedClock())


def test_a_token_valid_long_enough_is_used_as_stored(
    links: EbayLinkRepository, cipher: TokenCipher
) -> None:
    store_link(links, cipher, access_expires=NOW + 3600)
    refresher = ScriptedRefresher()

    token = provider(links, cipher, refresher).access_token(USER)

    assert token.get_secret_value() == "stored-access"
    assert refresher.calls == []


def test_a_token_that_would_expire_before_it_is_needed_is_refreshed(
    links: EbayLinkRepository, cipher: TokenCipher
) -> None:
    store_link(links, cipher, access_expires=NOW + 600)
    refresher = ScriptedRefresher()
    tokens = provider(links, cipher, refresher)

    token = tokens.access_token(USER, valid_until=NOW + 600)

    assert token.get_secret_value() == "fresh-1"
    assert refresher.calls == ["the-refresh"]
    stored = links.get(USER)
    assert stored is not None
    assert stored.access_token_expires_at == NOW + 7200
    assert cipher.decrypt(USER, stored.access_token_ciphertext).get_secret_value() == (
        "fresh-1"
    )
    # The next caller gets the stored fresh token without another refresh.
    assert tokens.access_token(USER).get_secret_value() == "fresh-1"
    assert len(refresher.calls) == 1


def test_the_safety_margin_triggers_a_refresh(
    links: EbayLinkRepository, cipher: TokenCipher
) -> None:
    store_link(links, cipher, access_expires=NOW + SAFETY_MARGIN_SECONDS - 1)
    refresher = ScriptedRefresher()

    provider(links, cipher, refresher).access_token(USER)

    assert len(refresher.calls) == 1


def test_no_link_means_not_linked(
    links: EbayLinkRepository, cipher: TokenCipher
) -> None:
    with pytest.raises(EbayNotLinkedError):
        provider(links, cipher, ScriptedRefresher()).access_token(USER)


def test_a_dead_refresh_token_asks_for_a_relink(
    links: EbayLinkRepository, cipher: TokenCipher
) -> None:
    store_link(links, cipher, access_expires=NOW - 1, refresh_expires=NOW - 1)
    refresher = ScriptedRefresher()

    with pytest.raises(EbayRelinkRequiredError):
        provider(links, cipher, refresher).access_token(USER)
    assert refresher.calls == []


def test_a_refused_refresh_asks_for_a_relink(
    links: EbayLinkRepository, cipher: TokenCipher
) -> None:
    store_link(links, cipher, access_expires=NOW - 1)

    refresher = ScriptedRefresher(refused=True)
    tokens = provider(links, cipher, refresher)

    with pytest.raises(EbayRelinkRequiredError):
        tokens.access_token(USER)
    # The refusal is remembered: no more refresh attempts until a re-link.
    stored = links.get(USER)
    assert stored is not None
    assert stored.refused_at == NOW
    with pytest.raises(EbayRelinkRequiredError):
        tokens.access_token(USER)
    assert len(refresher.calls) == 1


def test_a_refused_token_is_refreshed_once_and_the_call_repeated(
    links: EbayLinkRepository, cipher: TokenCipher
) -> None:
    store_link(links, cipher, access_expires=NOW + 3600)
    refresher = ScriptedRefresher()
    seen: list[str] = []

    def call(token: str) -> str:
        seen.append(token)
        if token == "stored-access":
            raise EbayAuthError("token revoked", error_id=1001)
        return "ok"

    result = call_with_user_token(provider(links, cipher, refresher), USER, call)

    assert result == "ok"
    assert seen == ["stored-access", "fresh-1"]


def test_a_ciphertext_of_another_user_does_not_decrypt(cipher: TokenCipher) -> None:
    ciphertext = cipher.encrypt("user-a", SecretStr("secret-token"))

    with pytest.raises(Exception, match="InvalidCiphertext"):
        cipher.decrypt("user-b", ciphertext)
