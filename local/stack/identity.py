"""Local sign-in: Cognito-like ID tokens signed with a key generated at start.

The key pair is RS256 (2048 bits), published as a JWKS; tokens carry the claims a
Cognito ID token carries (`sub`, `email`, `cognito:username`, `token_use: id`, `aud`,
`iss`, `exp`, `iat`, `auth_time`, `email_verified`). `sub` is a uuid5 of the user
name, so alice is the same user after every restart. The gateway verifies signature,
expiry, issuer and audience, like API Gateway's Cognito authorizer.

Deleting a user (Cognito's `AdminDeleteUser`, which the local AWS forwards here)
refuses every token issued to that user from then on, and a new token for the same
user name is a new user with a new `sub`, as signing up again in Cognito would be.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

DEFAULT_CLIENT_ID = "local-web-client"
DEFAULT_LIFETIME_S = 3600
MAX_LIFETIME_S = 24 * 3600
_SUB_NAMESPACE = uuid.UUID("5b3c1c5e-6f0a-4d7e-9a51-2a4c7d0e8f13")


class TokenRejected(Exception):
    """The token does not pass the authorizer; `message` is API Gateway's answer."""

    def __init__(self, reason: str, message: str = "Unauthorized") -> None:
        super().__init__(reason)
        self.reason = reason
        self.message = message


def subject_for(username: str, generation: int = 0) -> str:
    """The stable `sub` of a local user name (`generation`: times it was deleted)."""
    seed = username if generation == 0 else f"{username}#{generation}"
    return str(uuid.uuid5(_SUB_NAMESPACE, seed))


def _generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def load_or_create_key(path: Path | None) -> tuple[rsa.RSAPrivateKey, bool]:
    """The signing key kept at `path` (created if missing); in memory without a path."""
    if path is not None and path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError(f"{path} does not hold an RSA private key")
        return key, False
    key = _generate_key()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(pem)
    return key, True


@dataclass(frozen=True)
class IssuedToken:
    id_token: str
    access_token: str
    expires_in: int
    claims: dict[str, Any]


class LocalIdentity:
    """Issues and verifies the local ID tokens."""

    def __init__(
        self, key: rsa.RSAPrivateKey, issuer: str, client_id: str = DEFAULT_CLIENT_ID
    ) -> None:
        self._key = key
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.key_id = _thumbprint(jwk)
        self._jwk = {**jwk, "kid": self.key_id, "alg": "RS256", "use": "sig"}
        # Deleted users: their subjects (refused), and per user name how often it
        # was deleted (the next sign-up's `sub`).
        self.deleted_subjects: set[str] = set()
        self.generations: dict[str, int] = {}

    def delete_user(self, username: str) -> bool:
        """Cognito's AdminDeleteUser: `username` is a user name or a `sub`.

        False when no such user is known (Cognito: `UserNotFoundException`).
        """
        for name in [*self.generations, username]:
            sub = subject_for(name, self.generations.get(name, 0))
            if username in (name, sub) and sub not in self.deleted_subjects:
                self.deleted_subjects.add(sub)
                self.generations[name] = self.generations.get(name, 0) + 1
                return True
        return False

    def export_users(self) -> dict[str, Any]:
        """What `--persist` keeps of the users (the key is kept apart)."""
        return {
            "deletedSubjects": sorted(self.deleted_subjects),
            "generations": dict(self.generations),
        }

    def import_users(self, state: dict[str, Any]) -> None:
        self.deleted_subjects = {str(s) for s in state.get("deletedSubjects", [])}
        self.generations = {
            str(name): int(count)
            for name, count in (state.get("generations") or {}).items()
        }

    @property
    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._jwk]}

    def openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "token_endpoint": f"{self.issuer}/token",
            "id_token_signing_alg_values_supported": ["RS256"],
            "subject_types_supported": ["public"],
            "response_types_supported": ["token"],
        }

    def issue(
        self,
        username: str,
        email: str | None = None,
        *,
        lifetime_s: int = DEFAULT_LIFETIME_S,
        groups: list[str] | None = None,
        extra: dict[str, Any] | None = None,
        now: float | None = None,
        email_verified: bool = True,
    ) -> IssuedToken:
        """An ID token (and a matching access token) for a local user."""
        if not username.strip():
            raise ValueError("username must not be empty")
        if not 1 <= lifetime_s <= MAX_LIFETIME_S:
            raise ValueError(
                f"expiresIn must be between 1 and {MAX_LIFETIME_S} seconds"
            )
        issued_at = int(now if now is not None else time.time())
        sub = subject_for(username, self.generations.get(username, 0))
        common: dict[str, Any] = {
            "sub": sub,
            "iss": self.issuer,
            "auth_time": issued_at,
            "iat": issued_at,
            "exp": issued_at + lifetime_s,
            "jti": str(uuid.uuid4()),
            "origin_jti": str(uuid.uuid4()),
            "event_id": str(uuid.uuid4()),
        }
        if groups:
            common["cognito:groups"] = list(groups)
        claims: dict[str, Any] = {
            **common,
            "aud": self.client_id,
            "token_use": "id",
            "cognito:username": username,
        }
        if email:
            claims["email"] = email
            claims["email_verified"] = email_verified
        claims.update(extra or {})
        access_claims = {
            **common,
            "client_id": self.client_id,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "username": username,
        }
        return IssuedToken(
            id_token=self.sign(claims),
            access_token=self.sign(access_claims),
            expires_in=lifetime_s,
            claims=claims,
        )

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self._key, algorithm="RS256", headers={"kid": self.key_id}
        )

    def verify(self, token: str, *, scopes: tuple[str, ...] = ()) -> dict[str, Any]:
        """The claims of a valid token; `TokenRejected` otherwise.

        Without scopes the authorizer takes ID tokens (audience = our client id);
        with scopes it takes access tokens that carry one of them, as API Gateway's
        Cognito authorizer does.
        """
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise TokenRejected(f"not a JWT: {error}") from None
        if header.get("kid") != self.key_id:
            raise TokenRejected("signed by an unknown key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key.public_key(),
                algorithms=["RS256"],
                issuer=self.issuer,
                options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise TokenRejected("expired", "The incoming token has expired") from None
        except jwt.PyJWTError as error:
            raise TokenRejected(str(error)) from None
        if str(claims.get("sub")) in self.deleted_subjects:
            raise TokenRejected("the user was deleted")
        if scopes:
            granted = set(str(claims.get("scope", "")).split())
            if claims.get("token_use") != "access" or not granted & set(scopes):
                raise TokenRejected("the access token lacks the route's scopes")
            if claims.get("client_id") != self.client_id:
                raise TokenRejected("wrong client_id")
            return claims
        if claims.get("token_use") != "id":
            raise TokenRejected("not an ID token")
        if claims.get("aud") != self.client_id:
            raise TokenRejected("wrong audience")
        return claims


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of an RSA JWK: the key id."""
    canonical = json.dumps(
        {"e": jwk["e"], "kty": jwk["kty"], "n": jwk["n"]}, separators=(",", ":")
    )
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _java_date(epoch: Any) -> str:
    """API Gateway's rendering of `exp`/`iat`: `Thu Jan 01 00:00:00 UTC 2099`."""
    moment = datetime.fromtimestamp(int(epoch), tz=UTC)
    return moment.strftime("%a %b %d %H:%M:%S UTC %Y")


def claims_for_api_gateway(claims: dict[str, Any]) -> dict[str, str]:
    """Claims as API Gateway puts them in `requestContext.authorizer.claims`.

    Every value becomes a string; `exp` and `iat` become dates, lists become
    comma-separated, booleans `true`/`false`.
    """
    rendered = {}
    for name, value in claims.items():
        if name in ("exp", "iat") and isinstance(value, int | float):
            rendered[name] = _java_date(value)
        elif isinstance(value, bool):
            rendered[name] = "true" if value else "false"
        elif isinstance(value, list):
            rendered[name] = ",".join(str(item) for item in value)
        else:
            rendered[name] = str(value)
    return rendered
