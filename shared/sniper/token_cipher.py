"""eBay tokens encrypted with KMS, each bound to the user it belongs to.

The encryption context carries the user id, so a ciphertext copied into another
user's item fails to decrypt instead of lending that user someone else's eBay account.
Tokens are under KMS's 4 KiB plaintext limit, so they are encrypted directly.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from sniper import aws

PURPOSE = "ebay-oauth-token"


class TokenCipher:
    """Encrypts and decrypts one user's tokens with a KMS key."""

    def __init__(self, key_id: str, kms: Any | None = None) -> None:
        self.key_id = key_id
        self._kms = kms

    @property
    def kms(self) -> Any:
        return self._kms or aws.kms_client()

    def encrypt(self, user_id: str, token: SecretStr) -> bytes:
        response = self.kms.encrypt(
            KeyId=self.key_id,
            Plaintext=token.get_secret_value().encode(),
            EncryptionContext=self._context(user_id),
        )
        return bytes(response["CiphertextBlob"])

    def decrypt(self, user_id: str, ciphertext: bytes) -> SecretStr:
        response = self.kms.decrypt(
            CiphertextBlob=ciphertext,
            EncryptionContext=self._context(user_id),
        )
        return SecretStr(bytes(response["Plaintext"]).decode())

    def __repr__(self) -> str:
        return f"TokenCipher(key_id={self.key_id!r})"

    @staticmethod
    def _context(user_id: str) -> dict[str, str]:
        return {"userId": user_id, "purpose": PURPOSE}
