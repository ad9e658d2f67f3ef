"""eBay's push notifications as eBay sends them: signed account deletion notices.

eBay signs each notice's JSON body with ECDSA (SHA1 digest, DER signature) and
sends `X-EBAY-SIGNATURE`: base64 of `{"alg", "kid", "signature", "digest"}`. The
receiver fetches the public key for `kid` from the Notification API's
getPublicKey. The emulator makes one P-256 key pair when it starts (a fresh `kid`
each start, so a key cached by an old process is never mistaken for the new one)
and serves its public half the way eBay does: PEM on one line.

No HTTP here: `api/notification.py` serves the key and the admin calls that send
notices and challenges.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
)

from local.ebay_emulator.timefmt import format_timestamp

MARKETPLACE_ACCOUNT_DELETION = "MARKETPLACE_ACCOUNT_DELETION"
SCHEMA_VERSION = "1.0"
SIGNATURE_HEADER = "X-EBAY-SIGNATURE"
ALGORITHM = "ECDSA"
DIGEST = "SHA1"
# eBay's own sample header (in its event notification SDKs' tests) says "ecdsa";
# its documentation writes "ECDSA". Receivers must take either.
HEADER_ALGORITHM = "ecdsa"
# What eBay counts as an acknowledgement; anything else is delivered again.
ACKNOWLEDGED = frozenset({200, 201, 202, 204})


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class NotificationSigner:
    """The emulator's notification key pair and its id."""

    key_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    private_key: ec.EllipticCurvePrivateKey = field(default_factory=_new_key)

    def public_key_body(self) -> dict[str, str]:
        """getPublicKey's answer (notification.yaml `PublicKey`)."""
        der = self.private_key.public_key().public_bytes(
            Encoding.DER, PublicFormat.SubjectPublicKeyInfo
        )
        pem = (
            "-----BEGIN PUBLIC KEY-----"
            + base64.b64encode(der).decode()
            + "-----END PUBLIC KEY-----"
        )
        return {"algorithm": ALGORITHM, "digest": DIGEST, "key": pem}

    def signature_header(self, body: bytes) -> str:
        """`X-EBAY-SIGNATURE` for `body`, signed as eBay signs."""
        digest = hashes.SHA1()  # noqa: S303 - the digest eBay signs notices with
        signature = self.private_key.sign(body, ec.ECDSA(digest))
        packed = {
            "alg": HEADER_ALGORITHM,
            "kid": self.key_id,
            "signature": base64.b64encode(signature).decode(),
            "digest": DIGEST,
        }
        return base64.b64encode(json.dumps(packed).encode()).decode()


@dataclass(frozen=True)
class SignedNotice:
    """A notice ready to POST: its body bytes and their signature header."""

    notice: dict[str, Any]
    body: bytes
    signature: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json", SIGNATURE_HEADER: self.signature}


def eias_token(user_id: str) -> str:
    """An opaque, stable stand-in for eBay's eiasToken of a user."""
    return base64.b64encode(
        hashlib.sha256(f"eias:{user_id}".encode()).digest()
    ).decode()


def account_deletion_notice(
    username: str, user_id: str, now: float, attempt: int = 1
) -> dict[str, Any]:
    """MARKETPLACE_ACCOUNT_DELETION as eBay's AsyncAPI contract describes it."""
    return {
        "metadata": {
            "topic": MARKETPLACE_ACCOUNT_DELETION,
            "schemaVersion": SCHEMA_VERSION,
            "deprecated": False,
        },
        "notification": {
            "notificationId": f"{uuid.uuid4()}_{uuid.uuid4()}",
            "eventDate": format_timestamp(now),
            "publishDate": format_timestamp(now),
            "publishAttemptCount": attempt,
            "data": {
                "username": username,
                "userId": user_id,
                "eiasToken": eias_token(user_id),
            },
        },
    }


def sign_notice(signer: NotificationSigner, notice: dict[str, Any]) -> SignedNotice:
    """The notice as compact JSON (as eBay sends it) and its signature."""
    body = json.dumps(notice, separators=(",", ":")).encode()
    return SignedNotice(
        notice=notice, body=body, signature=signer.signature_header(body)
    )


def challenge_response(code: str, verification_token: str, endpoint: str) -> str:
    """What eBay expects back from its endpoint challenge."""
    return hashlib.sha256((code + verification_token + endpoint).encode()).hexdigest()
