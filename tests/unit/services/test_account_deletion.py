"""The account deletion rules with in-memory fakes of our own interfaces: what is
refused with which status, and what is forgotten. The wire and the table are in
tests/integration/ebay_oauth/test_account_deletion.py."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import SecretStr

from sniper.ebay import (
    EbayAppCredentials,
    EbayAuthError,
    EbayConfigError,
    EbayPermanentError,
    EbayPublicKeyNotFound,
    EbayRateLimited,
    EbayTimeout,
    NotificationPublicKey,
)
from sniper.errors import BadRequestError, ServiceUnavailableError
from sniper.services.account_deletion import (
    AccountDeletionService,
    NoticeOutcome,
    SignatureRejected,
)

KEY_ID = "3f7c2b1e-9a4d-4c6b-8e2f-5d1a0b9c8e7f"
EBAY_USER = "nY2Li1XH0hV"
TOKEN = "t" * 40
ENDPOINT = "https://api.example.com/prod/ebay/notifications/account-deletion"


def notice(topic: str = "MARKETPLACE_ACCOUNT_DELETION", **data: Any) -> bytes:
    document = {
        "metadata": {"topic": topic, "schemaVersion": "1.0", "deprecated": False},
        "notification": {
            "notificationId": "n-1",
            "eventDate": "2026-03-10T09:46:40.000Z",
            "publishDate": "2026-03-10T09:46:40.213Z",
            "publishAttemptCount": 1,
            "data": {"username": "jane", "userId": EBAY_USER, **data},
        },
    }
    return json.dumps(document, separators=(",", ":")).encode()


@dataclass
class Ebay:
    """Signs like eBay; hands out its key, or fails as told."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    failure: Exception | None = None
    asked: list[str] = field(default_factory=list)

    def get_public_key(self, key_id: str) -> NotificationPublicKey:
        self.asked.append(key_id)
        if self.failure is not None:
            raise self.failure
        if key_id != KEY_ID:
            raise EbayPublicKeyNotFound("The specified key id is invalid.")
        der = self.private_key.public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo
        )
        pem = (
            "-----BEGIN PUBLIC KEY-----"
            + base64.b64encode(der).decode()
            + "-----END PUBLIC KEY-----"
        )
        return NotificationPublicKey("ECDSA", "SHA1", pem)

    def sign(self, body: bytes, kid: str = KEY_ID) -> str:
        signature = self.private_key.sign(body, ec.ECDSA(hashes.SHA1()))  # noqa: S303
        header = {
            "alg": "ecdsa",
            "kid": kid,
            "signature": base64.b64encode(signature).decode(),
            "digest": "SHA1",
        }
        return base64.b64encode(json.dumps(header).encode()).decode()


@dataclass
class Links:
    """Links (user -> eBay user) and guards (eBay user -> owner), in memory."""

    links: dict[str, str] = field(default_factory=dict)
    guards: dict[str, str] = field(default_factory=dict)

    def link(self, user_id: str, ebay_user_id: str) -> None:
        self.links[user_id] = ebay_user_id
        self.guards[ebay_user_id] = user_id

    def owner_of(self, ebay_user_id: str) -> str | None:
        return self.guards.get(ebay_user_id)

    def delete(self, user_id: str, *, ebay_user_id: str | None = None) -> bool:
        linked = self.links.get(user_id)
        if linked is None or ebay_user_id not in (None, linked):
            return False
        del self.links[user_id]
        self.guards.pop(linked, None)
        return True

    def release_guard(self, ebay_user_id: str, owner_id: str) -> bool:
        if self.guards.get(ebay_user_id) != owner_id:
            return False
        del self.guards[ebay_user_id]
        return True


def credentials(**fields: str) -> EbayAppCredentials:
    return EbayAppCredentials.model_validate(
        {"clientId": "id", "clientSecret": "secret", "ruName": "ru", **fields}
    )


@pytest.fixture
def ebay() -> Ebay:
    return Ebay()


@pytest.fixture
def links() -> Links:
    store = Links()
    store.link("alice", EBAY_USER)
    store.link("bob", "someone-else")
    return store


def service(
    links: Links, ebay: Ebay, keyset: EbayAppCredentials | None = None
) -> AccountDeletionService:
    chosen = keyset or credentials(
        verificationToken=TOKEN, deletionEndpointUrl=ENDPOINT
    )
    return AccountDeletionService(links, ebay, lambda: chosen)


def test_a_signed_notice_forgets_the_link_and_its_guard_only(
    links: Links, ebay: Ebay
) -> None:
    body = notice()

    outcome = service(links, ebay).receive(body, ebay.sign(body))

    assert outcome is NoticeOutcome.DELETED
    assert links.links == {"bob": "someone-else"}
    assert links.guards == {"someone-else": "bob"}


def test_a_member_not_linked_here_is_nothing_to_do(links: Links, ebay: Ebay) -> None:
    body = notice(userId="never-seen")

    assert service(links, ebay).receive(body, ebay.sign(body)) is (
        NoticeOutcome.NOT_LINKED
    )
    assert len(links.links) == 2


def test_a_guard_without_its_link_is_released(links: Links, ebay: Ebay) -> None:
    links.guards["stray"] = "carol"
    body = notice(userId="stray")

    assert service(links, ebay).receive(body, ebay.sign(body)) is NoticeOutcome.DELETED
    assert "stray" not in links.guards


def test_an_owner_who_moved_to_another_account_keeps_it(
    links: Links, ebay: Ebay
) -> None:
    # The guard still names alice, but alice now links another eBay account.
    links.links["alice"] = "her-new-account"
    links.guards["her-new-account"] = "alice"
    body = notice()

    service(links, ebay).receive(body, ebay.sign(body))

    assert links.links["alice"] == "her-new-account"
    assert EBAY_USER not in links.guards


def test_other_topics_are_ignored(links: Links, ebay: Ebay) -> None:
    body = notice(topic="ITEM_SOLD")

    assert service(links, ebay).receive(body, ebay.sign(body)) is NoticeOutcome.IGNORED
    assert len(links.links) == 2


def test_the_key_is_asked_for_by_the_headers_key_id(links: Links, ebay: Ebay) -> None:
    body = notice()

    service(links, ebay).receive(body, ebay.sign(body))

    assert ebay.asked == [KEY_ID]


@pytest.mark.parametrize(
    "failure",
    [
        EbayPublicKeyNotFound("The specified key id is invalid.", error_id=195001),
        EbayPermanentError("eBay's getPublicKey answer lacks algorithm, digest or key"),
    ],
)
def test_a_key_ebay_does_not_have_is_412(
    links: Links, ebay: Ebay, failure: Exception
) -> None:
    body = notice()
    signature = ebay.sign(body)
    ebay.failure = failure

    with pytest.raises(SignatureRejected) as caught:
        service(links, ebay).receive(body, signature)

    assert caught.value.status_code == 412
    assert len(links.links) == 2


@pytest.mark.parametrize(
    ("failure", "retry_after"),
    [
        (EbayTimeout("eBay did not answer in time"), "60"),
        (EbayRateLimited("Too many requests", retry_after=7.2), "8"),
        (EbayAuthError("refused the application token"), None),
        (EbayConfigError("SECRET_ARN is not set"), None),
    ],
)
def test_a_key_that_cannot_be_fetched_now_is_503(
    links: Links, ebay: Ebay, failure: Exception, retry_after: str | None
) -> None:
    body = notice()
    signature = ebay.sign(body)
    ebay.failure = failure

    with pytest.raises(ServiceUnavailableError) as caught:
        service(links, ebay).receive(body, signature)

    assert caught.value.status_code == 503
    assert caught.value.headers.get("Retry-After") == retry_after
    assert len(links.links) == 2


def test_a_signature_over_another_body_is_412(links: Links, ebay: Ebay) -> None:
    signature = ebay.sign(notice(userId="someone-harmless"))

    with pytest.raises(SignatureRejected, match="does not match"):
        service(links, ebay).receive(notice(), signature)
    assert len(links.links) == 2


def test_an_unsigned_notice_is_412_without_asking_ebay(
    links: Links, ebay: Ebay
) -> None:
    with pytest.raises(SignatureRejected, match="missing"):
        service(links, ebay).receive(notice(), None)
    assert ebay.asked == []


@pytest.mark.parametrize("body", [b"", b"nope", b"[]", b"\xff\xfe", b"null"])
def test_a_body_that_is_not_a_json_object_is_400(
    links: Links, ebay: Ebay, body: bytes
) -> None:
    with pytest.raises(BadRequestError, match="not a JSON object"):
        service(links, ebay).receive(body, ebay.sign(body))


def test_the_challenge_uses_the_registered_token_and_url(
    links: Links, ebay: Ebay
) -> None:
    answer = service(links, ebay).answer_challenge("code-1")

    # printf '%s' code-1 tttt...(40) URL | sha256sum
    assert answer.challengeResponse == (
        "1aaddaa9e2ff8c4318dc32093700cdd4575ac74ffaae0cda038561adf7ab6d1f"
    )


@pytest.mark.parametrize(
    "keyset",
    [
        credentials(),
        credentials(verificationToken=TOKEN),
        credentials(deletionEndpointUrl=ENDPOINT),
        credentials(verificationToken="short", deletionEndpointUrl=ENDPOINT),
        credentials(verificationToken=TOKEN, deletionEndpointUrl="mailto:x@y.z"),
    ],
)
def test_a_challenge_without_a_usable_configuration_is_503(
    links: Links, ebay: Ebay, keyset: EbayAppCredentials
) -> None:
    with pytest.raises(ServiceUnavailableError, match="not configured"):
        service(links, ebay, keyset).answer_challenge("code-1")


def test_the_verification_token_never_shows_in_the_keysets_repr() -> None:
    keyset = credentials(verificationToken=TOKEN, deletionEndpointUrl=ENDPOINT)

    assert TOKEN not in repr(keyset)
    assert keyset.deletion_endpoint().verification_token == SecretStr(TOKEN)
