"""Local ID tokens: issued like Cognito's, verified like API Gateway's authorizer."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.stack.identity import (
    LocalIdentity,
    TokenRejected,
    claims_for_api_gateway,
    load_or_create_key,
    subject_for,
)

ISSUER = "http://127.0.0.1:3000/local"


@pytest.fixture(scope="module")
def identity() -> LocalIdentity:
    key, _ = load_or_create_key(None)
    return LocalIdentity(key, ISSUER, "client-1")


def test_tokens_carry_cognito_like_claims(identity: LocalIdentity) -> None:
    issued = identity.issue("alice", "alice@example.com", now=1_800_000_000)

    claims = jwt.decode(issued.id_token, options={"verify_signature": False})
    assert claims["sub"] == subject_for("alice") == subject_for("alice")
    assert claims["sub"] != subject_for("bob")
    assert claims["cognito:username"] == "alice"
    assert claims["email"] == "alice@example.com"
    assert claims["token_use"] == "id"
    assert claims["aud"] == "client-1"
    assert claims["iss"] == ISSUER
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["auth_time"] == 1_800_000_000
    assert jwt.get_unverified_header(issued.id_token)["kid"] == identity.key_id


def test_a_fresh_token_verifies(identity: LocalIdentity) -> None:
    claims = identity.verify(identity.issue("alice").id_token)

    assert claims["cognito:username"] == "alice"
    assert "email" not in claims


@pytest.mark.parametrize(
    ("token_of", "reason"),
    [
        (lambda i: i.issue("a", now=time.time() - 7200).id_token, "expired"),
        (lambda i: i.issue("a").access_token, "not an ID token"),
        (lambda i: i.sign({**i.issue("a").claims, "aud": "other"}), "wrong audience"),
        (lambda i: "not-a-jwt", "not a JWT"),
    ],
)
def test_bad_tokens_are_rejected(
    identity: LocalIdentity, token_of: object, reason: str
) -> None:
    with pytest.raises(TokenRejected) as rejected:
        identity.verify(token_of(identity))  # type: ignore[operator]

    assert reason in rejected.value.reason


def test_expired_tokens_get_api_gateways_message(identity: LocalIdentity) -> None:
    with pytest.raises(TokenRejected) as rejected:
        identity.verify(identity.issue("a", now=time.time() - 7200).id_token)

    assert rejected.value.message == "The incoming token has expired"


def test_another_issuer_or_key_is_rejected(identity: LocalIdentity) -> None:
    key, _ = load_or_create_key(None)
    other_issuer = LocalIdentity(identity._key, "http://elsewhere/local", "client-1")
    other_key = LocalIdentity(key, ISSUER, "client-1")

    with pytest.raises(TokenRejected):
        identity.verify(other_issuer.issue("a").id_token)
    with pytest.raises(TokenRejected, match="unknown key"):
        identity.verify(other_key.issue("a").id_token)


def test_scoped_routes_take_access_tokens_with_a_scope(identity: LocalIdentity) -> None:
    issued = identity.issue("a")

    claims = identity.verify(
        issued.access_token, scopes=("aws.cognito.signin.user.admin",)
    )

    assert claims["token_use"] == "access"
    with pytest.raises(TokenRejected):
        identity.verify(issued.access_token, scopes=("bids/write",))
    with pytest.raises(TokenRejected):
        identity.verify(issued.id_token, scopes=("aws.cognito.signin.user.admin",))


def test_the_key_is_kept_in_a_file(tmp_path: Path) -> None:
    path = tmp_path / "state" / "key.pem"

    first, created = load_or_create_key(path)
    second, created_again = load_or_create_key(path)

    assert (created, created_again) == (True, False)
    assert isinstance(second, rsa.RSAPrivateKey)
    assert first.private_numbers() == second.private_numbers()
    assert path.stat().st_mode & 0o777 == 0o600


def test_jwks_publishes_the_public_key(identity: LocalIdentity) -> None:
    (jwk,) = identity.jwks["keys"]

    assert jwk["kid"] == identity.key_id
    assert (jwk["kty"], jwk["alg"], jwk["use"]) == ("RSA", "RS256", "sig")
    assert "d" not in jwk
    public = jwt.PyJWK(jwk).key
    assert jwt.decode(
        identity.issue("a").id_token, public, algorithms=["RS256"], audience="client-1"
    )


def test_claims_are_strings_as_api_gateway_passes_them() -> None:
    claims = claims_for_api_gateway(
        {
            "sub": "s",
            "exp": 4_070_908_800,
            "iat": 1_764_028_800,
            "auth_time": 1_764_028_800,
            "email_verified": True,
            "cognito:groups": ["admin", "bidders"],
        }
    )

    assert claims == {
        "sub": "s",
        "exp": "Thu Jan 01 00:00:00 UTC 2099",
        "iat": "Tue Nov 25 00:00:00 UTC 2025",
        "auth_time": "1764028800",
        "email_verified": "true",
        "cognito:groups": "admin,bidders",
    }


@pytest.mark.parametrize(("username", "lifetime"), [("", 60), ("a", 0), ("a", 10**9)])
def test_issue_refuses_bad_requests(
    identity: LocalIdentity, username: str, lifetime: int
) -> None:
    with pytest.raises(ValueError):
        identity.issue(username, lifetime_s=lifetime)


def fresh_identity() -> LocalIdentity:
    key, _ = load_or_create_key(None)
    return LocalIdentity(key, ISSUER, "client-1")


def test_email_verified_is_true_unless_asked_otherwise() -> None:
    identity = fresh_identity()

    verified = identity.issue("alice", "alice@example.com").claims
    unverified = identity.issue(
        "mallory", "alice@example.com", email_verified=False
    ).claims

    assert verified["email_verified"] is True
    assert unverified["email_verified"] is False
    assert claims_for_api_gateway(unverified)["email_verified"] == "false"


def test_a_deleted_users_tokens_are_refused_and_signing_up_again_is_a_new_user() -> (
    None
):
    identity = fresh_identity()
    before = identity.issue("alice", "alice@example.com")
    other = identity.issue("bob", "bob@example.com")

    assert identity.delete_user("alice") is True

    with pytest.raises(TokenRejected, match="deleted"):
        identity.verify(before.id_token)
    assert identity.verify(other.id_token)["sub"] == subject_for("bob")
    again = identity.issue("alice", "alice@example.com")
    assert again.claims["sub"] != before.claims["sub"]
    assert identity.verify(again.id_token)["cognito:username"] == "alice"


def test_deleted_users_survive_a_restart_with_persist() -> None:
    identity = fresh_identity()
    gone = identity.issue("alice", "alice@example.com")
    identity.delete_user("alice")
    restarted = LocalIdentity(identity._key, ISSUER, "client-1")

    restarted.import_users(identity.export_users())

    with pytest.raises(TokenRejected):
        restarted.verify(gone.id_token)
    assert restarted.issue("alice").claims["sub"] != gone.claims["sub"]
