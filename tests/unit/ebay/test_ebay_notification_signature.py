"""The challenge answer and the X-EBAY-SIGNATURE check, without HTTP.

What eBay documents (developer.ebay.com/marketplace-account-deletion and the
Notification API overview): the challenge answer is hex SHA-256 of challenge code
+ verification token + endpoint URL; the header is base64 of JSON
``{alg, kid, signature, digest}``; the signature is ECDSA with SHA1 over the JSON
body, base64 of DER. Keys here are made for each test.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sniper.ebay import (
    NotificationPublicKey,
    NotificationSignatureError,
    SignatureHeader,
    challenge_response,
    parse_signature_header,
    signed_forms,
    verify_signature,
)

KEY_ID = "3f7c2b1e-9a4d-4c6b-8e2f-5d1a0b9c8e7f"
NOTICE: dict[str, Any] = {
    "metadata": {
        "topic": "MARKETPLACE_ACCOUNT_DELETION",
        "schemaVersion": "1.0",
        "deprecated": False,
    },
    "notification": {
        "notificationId": "6d1f3c2a-8b4e-4f6a-9c0d-2e5b7a9f1c3d_0a7e4b91",
        "eventDate": "2026-03-10T09:46:40.000Z",
        "publishDate": "2026-03-10T09:46:40.213Z",
        "publishAttemptCount": 1,
        "data": {"username": "bidder_jane", "userId": "nY2Li1XH0hV", "eiasToken": "x"},
    },
}
BODY = json.dumps(NOTICE, separators=(",", ":")).encode()


def pem(private_key: Any, *, one_line: bool = True) -> str:
    der = private_key.public_key().public_bytes(
        Encoding.DER, PublicFormat.SubjectPublicKeyInfo
    )
    text = base64.b64encode(der).decode()
    if not one_line:
        lines = [text[i : i + 64] for i in range(0, len(text), 64)]
        text = "\n" + "\n".join(lines) + "\n"
    return f"-----BEGIN PUBLIC KEY-----{text}-----END PUBLIC KEY-----"


def header_value(**fields: Any) -> str:
    return base64.b64encode(json.dumps(fields).encode()).decode()


@pytest.fixture(scope="module")
def signing_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def ebay_key(signing_key: ec.EllipticCurvePrivateKey) -> NotificationPublicKey:
    return NotificationPublicKey(
        algorithm="ECDSA", digest="SHA1", key_pem=pem(signing_key)
    )


def sign(private_key: ec.EllipticCurvePrivateKey, body: bytes = BODY) -> str:
    signature = private_key.sign(body, ec.ECDSA(hashes.SHA1()))  # noqa: S303
    return base64.b64encode(signature).decode()


def signed_header(
    private_key: ec.EllipticCurvePrivateKey, *, body: bytes = BODY, **overrides: Any
) -> SignatureHeader:
    fields = {
        "alg": "ecdsa",
        "kid": KEY_ID,
        "signature": sign(private_key, body),
        "digest": "SHA1",
        **overrides,
    }
    return parse_signature_header(header_value(**fields))


# The challenge ----------------------------------------------------------------


def test_the_challenge_answer_is_sha256_of_code_token_and_endpoint_in_order() -> None:
    answer = challenge_response(
        "71745723-d031-455c-bfa5-f90d11b4f20a",
        "sniper_deletion_token_0123456789abcdef",
        "https://api.example.com/prod/ebay/notifications/account-deletion",
    )

    # printf '%s' CODE TOKEN URL | sha256sum
    assert answer == "1d6894d8c468f9c5b0504b746c24224419802150336faf76b57556ccf4d7b0bc"


def test_the_challenge_answer_depends_on_the_exact_endpoint_url() -> None:
    token = "t" * 32
    with_slash = challenge_response("c", token, "https://x.example/hook/")
    without = challenge_response("c", token, "https://x.example/hook")

    assert with_slash != without


# The header -------------------------------------------------------------------


def test_the_header_is_decoded_into_its_four_fields() -> None:
    header = parse_signature_header(
        header_value(alg="ECDSA", kid=KEY_ID, signature="MEUC", digest="SHA1")
    )

    assert header == SignatureHeader(
        alg="ECDSA", kid=KEY_ID, signature="MEUC", digest="SHA1"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("not base64 at all!", "not base64 of a JSON object"),
        (base64.b64encode(b"not json").decode(), "not base64 of a JSON object"),
        (base64.b64encode(b"[1, 2]").decode(), "not base64 of a JSON object"),
        (base64.b64encode(b"\xff\xfe").decode(), "not base64 of a JSON object"),
        (header_value(alg="ECDSA", kid=KEY_ID), "lacks alg, kid or signature"),
        (header_value(alg="ECDSA", kid="", signature="x"), "lacks"),
        (header_value(alg=1, kid=KEY_ID, signature="x"), "lacks"),
        (header_value(alg="ECDSA", kid="../x", signature="x"), "key id is malformed"),
        (header_value(alg="ECDSA", kid=KEY_ID, signature="x", digest=1), "digest"),
        ("A" * 5_000, "too long"),
    ],
)
def test_a_garbage_header_is_refused(value: str | None, reason: str) -> None:
    with pytest.raises(NotificationSignatureError, match=reason):
        parse_signature_header(value)


# The signature ----------------------------------------------------------------


def test_a_good_signature_verifies(
    signing_key: ec.EllipticCurvePrivateKey, ebay_key: NotificationPublicKey
) -> None:
    verify_signature(signed_header(signing_key), ebay_key, BODY)


def test_the_key_may_come_with_or_without_line_breaks(
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    key = NotificationPublicKey("ECDSA", "SHA1", pem(signing_key, one_line=False))

    verify_signature(signed_header(signing_key, alg="ECDSA"), key, BODY)


def test_a_tampered_body_is_refused(
    signing_key: ec.EllipticCurvePrivateKey, ebay_key: NotificationPublicKey
) -> None:
    tampered = BODY.replace(b"nY2Li1XH0hV", b"someoneElse")

    with pytest.raises(NotificationSignatureError, match="does not match"):
        verify_signature(signed_header(signing_key), ebay_key, tampered)


def test_a_signature_by_another_key_is_refused(
    ebay_key: NotificationPublicKey,
) -> None:
    impostor = ec.generate_private_key(ec.SECP256R1())

    with pytest.raises(NotificationSignatureError, match="does not match"):
        verify_signature(signed_header(impostor), ebay_key, BODY)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"alg": "RSA"}, "unsupported signature algorithm"),
        ({"alg": "HS256"}, "unsupported signature algorithm"),
        ({"digest": "SHA256"}, "digest does not match"),
        ({"signature": "%%%not-base64%%%"}, "not base64"),
        ({"signature": base64.b64encode(b"not DER").decode()}, "does not match"),
    ],
)
def test_a_wrong_algorithm_digest_or_signature_is_refused(
    signing_key: ec.EllipticCurvePrivateKey,
    ebay_key: NotificationPublicKey,
    overrides: dict[str, Any],
    reason: str,
) -> None:
    header = signed_header(signing_key, **overrides)

    with pytest.raises(NotificationSignatureError, match=reason):
        verify_signature(header, ebay_key, BODY)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (NotificationPublicKey("RSA", "SHA1", "x"), "unsupported signature algorithm"),
        (NotificationPublicKey("ECDSA", "MD5", "x"), "unsupported digest"),
        (NotificationPublicKey("ECDSA", "SHA1", "no pem here"), "not a PEM"),
        (
            NotificationPublicKey(
                "ECDSA",
                "SHA1",
                "-----BEGIN PUBLIC KEY-----AAAA-----END PUBLIC KEY-----",
            ),
            "cannot be read",
        ),
    ],
)
def test_an_unusable_key_is_refused(
    signing_key: ec.EllipticCurvePrivateKey,
    key: NotificationPublicKey,
    reason: str,
) -> None:
    with pytest.raises(NotificationSignatureError, match=reason):
        verify_signature(signed_header(signing_key), key, BODY)


def test_a_key_that_is_not_an_ec_key_is_refused(
    signing_key: ec.EllipticCurvePrivateKey,
) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    key = NotificationPublicKey("ECDSA", "SHA1", pem(rsa_key))

    with pytest.raises(NotificationSignatureError, match="not an EC key"):
        verify_signature(signed_header(signing_key), key, BODY)


def test_a_reformatted_body_verifies_through_its_compact_form(
    signing_key: ec.EllipticCurvePrivateKey, ebay_key: NotificationPublicKey
) -> None:
    # eBay signs the compact JSON it sends; its SDKs verify a re-serialization.
    pretty = json.dumps(NOTICE, indent=2).encode()
    header = signed_header(signing_key)

    with pytest.raises(NotificationSignatureError):
        verify_signature(header, ebay_key, pretty)
    verify_signature(header, ebay_key, *signed_forms(pretty, json.loads(pretty)))
    assert signed_forms(BODY, NOTICE) == (BODY,)


def test_a_body_with_a_lone_surrogate_has_no_compact_form() -> None:
    body = b'{"a":"\\ud800"}'

    assert signed_forms(body, json.loads(body)) == (body,)
