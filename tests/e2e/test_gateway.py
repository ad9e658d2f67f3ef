"""The local API Gateway over real HTTP: routes, authorizer, CORS, the proxy event."""

from __future__ import annotations

import base64
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.support import ROOT, STAGE, RunningStack

pytestmark = pytest.mark.slow


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def stack_key(stack: RunningStack) -> rsa.RSAPrivateKey:
    assert stack.persist is not None
    pem = (stack.persist / "identity-key.pem").read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def forged(stack: RunningStack, key: rsa.RSAPrivateKey, **changes: object) -> str:
    """A token like the stack's, signed with `key`, with some claims changed."""
    good = jwt.decode(stack.token(), options={"verify_signature": False})
    header = jwt.get_unverified_header(stack.token())
    return jwt.encode({**good, **changes}, key, algorithm="RS256", headers=header)


def test_health_answers_without_a_token(stack: RunningStack) -> None:
    response = httpx.get(f"{stack.api}/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "stage": STAGE}


def test_profile_without_a_token_is_401_with_the_gateway_cors_header(
    stack: RunningStack,
) -> None:
    response = httpx.get(f"{stack.api}/users/profile")

    assert response.status_code == 401
    assert response.json() == {
        "statusCode": 401,
        "code": "UNAUTHORIZED",
        "message": "Unauthorized",
    }
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert response.headers["x-amzn-errortype"] == "UnauthorizedException"


def test_token_signed_by_a_foreign_key_is_401(stack: RunningStack) -> None:
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    response = httpx.get(
        f"{stack.api}/users/profile", headers=bearer(forged(stack, foreign))
    )

    assert response.status_code == 401


def test_expired_token_is_401(stack: RunningStack) -> None:
    past = int(time.time()) - 7200
    token = forged(stack, stack_key(stack), iat=past, exp=past + 3600)

    response = httpx.get(f"{stack.api}/users/profile", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["message"] == "The incoming token has expired"


@pytest.mark.parametrize(
    "changes",
    [{"aud": "someone-else"}, {"iss": "https://evil.example.com"}, {"token_use": "x"}],
)
def test_wrong_audience_issuer_or_use_is_401(
    stack: RunningStack, changes: dict[str, str]
) -> None:
    token = forged(stack, stack_key(stack), **changes)

    response = httpx.get(f"{stack.api}/users/profile", headers=bearer(token))

    assert response.status_code == 401


def test_profile_with_a_token_from_local_token(stack: RunningStack) -> None:
    issued = httpx.post(
        f"{stack.api}/local/token",
        json={"username": "alice", "email": "alice@example.com"},
    ).json()

    response = httpx.get(
        f"{stack.api}/users/profile", headers=bearer(issued["idToken"])
    )

    assert response.status_code == 200, response.text
    assert response.json()["userId"] == issued["sub"]
    assert response.json()["email"] == "alice@example.com"
    assert issued["sub"] == str(uuid.UUID(issued["sub"]))


def test_profile_with_a_token_from_the_cli(stack: RunningStack) -> None:
    printed = subprocess.run(
        [
            sys.executable,
            "-m",
            "local.stack.token",
            "--api-url",
            stack.api,
            "--username",
            "carol",
            "--email",
            "carol@example.com",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    token = printed.stdout.strip()

    response = httpx.get(f"{stack.api}/users/profile", headers=bearer(token))

    assert response.status_code == 200, response.text
    assert response.json()["email"] == "carol@example.com"


def test_token_cli_without_a_stack_fails_clearly(tmp_path: Path) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "local.stack.token", "--api-url", "http://127.0.0.1:9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert printed.returncode == 1
    assert "make dev" in printed.stderr


def test_cors_preflight_is_answered_from_the_template(stack: RunningStack) -> None:
    response = httpx.options(
        f"{stack.api}/users/profile",
        headers={
            "Origin": "http://localhost:3000",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert (
        response.headers["access-control-allow-methods"]
        == "GET,POST,PUT,DELETE,OPTIONS"
    )
    assert (
        response.headers["access-control-allow-headers"]
        == "Authorization,Content-Type,Idempotency-Key"
    )
    assert response.headers["access-control-max-age"] == "600"


def test_unknown_path_and_undeclared_method_are_404(stack: RunningStack) -> None:
    # API Gateway's 403 "Missing Authentication Token", as the template's
    # MISSING_AUTHENTICATION_TOKEN gateway response restates it.
    unknown = httpx.get(f"{stack.api}/nothing/here")
    wrong_method = httpx.post(f"{stack.api}/health")

    for response in (unknown, wrong_method):
        assert response.status_code == 404
        assert response.json()["code"] == "ROUTE_NOT_FOUND"


def test_jwks_is_published(stack: RunningStack) -> None:
    keys = httpx.get(f"{stack.api}/.well-known/jwks.json").json()["keys"]
    discovery = httpx.get(f"{stack.api}/local/.well-known/openid-configuration").json()

    assert keys[0]["kty"] == "RSA"
    assert keys[0]["alg"] == "RS256"
    assert discovery["issuer"] == f"{stack.api}/local"
    assert jwt.get_unverified_header(stack.token())["kid"] == keys[0]["kid"]


def test_a_route_added_to_the_template_gets_the_rest_proxy_event(
    stack: RunningStack,
) -> None:
    response = httpx.get(
        f"{stack.api}/probe/42?tag=a&tag=b&single=x",
        headers={**bearer(stack.token("dave")), "X-Custom": "hello"},
    )

    assert response.status_code == 201, response.text
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert response.headers.get_list("x-probe") == ["one"]
    answer = response.json()
    event = answer["event"]
    assert event["resource"] == "/probe/{id}"
    assert event["path"] == "/probe/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"tag": "b", "single": "x"}
    assert event["multiValueQueryStringParameters"] == {
        "tag": ["a", "b"],
        "single": ["x"],
    }
    assert event["headers"]["X-Custom"] == "hello"
    assert event["multiValueHeaders"]["X-Custom"] == ["hello"]
    assert event["body"] is None
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["stage"] == STAGE
    assert context["path"] == f"/{STAGE}/probe/42"
    assert context["resourcePath"] == "/probe/{id}"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    claims = context["authorizer"]["claims"]
    assert claims["cognito:username"] == "dave"
    assert claims["email_verified"] == "true"
    assert claims["exp"].endswith(time.strftime("%Y", time.gmtime()))
    assert all(isinstance(value, str) for value in claims.values())
    assert answer["env"] == {
        "PROBE_TABLE": f"probe-{STAGE}",
        "FIRST_ORIGIN": "http://localhost:3000",
        "PROBE_FLAG": "global",
        "PROBE_ONLY": "yes",
        "STAGE": STAGE,
    }
    assert answer["endpoint"] == stack.aws
    assert answer["lambdaEndpoint"] == stack.lambda_url
    assert answer["tz"] == "UTC"


def test_greedy_route_takes_the_rest_of_the_path_and_any_method(
    stack: RunningStack,
) -> None:
    response = httpx.delete(
        f"{stack.api}/probe/files/a/b/c.txt", headers=bearer(stack.token())
    )

    encoded = httpx.get(
        f"{stack.api}/probe/files/a%2Fb/c%20d.txt", headers=bearer(stack.token())
    )

    event = response.json()["event"]
    assert event["resource"] == "/probe/files/{proxy+}"
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["httpMethod"] == "DELETE"
    # As on AWS, `path` and `pathParameters` keep the request's percent-encoding.
    raw = encoded.json()["event"]
    assert raw["path"] == "/probe/files/a%2Fb/c%20d.txt"
    assert raw["pathParameters"] == {"proxy": "a%2Fb/c%20d.txt"}


def test_open_route_passes_bodies_and_no_authorizer(stack: RunningStack) -> None:
    text = httpx.post(f"{stack.api}/probe-public/text", content=b'{"a": 1}')
    binary = httpx.post(f"{stack.api}/probe-public/bin", content=b"\xff\x00\xfe")

    text_event = text.json()["event"]
    assert text_event["body"] == '{"a": 1}'
    assert text_event["isBase64Encoded"] is False
    assert "authorizer" not in text_event["requestContext"]
    binary_event = binary.json()["event"]
    assert binary_event["isBase64Encoded"] is True
    assert base64.b64decode(binary_event["body"]) == b"\xff\x00\xfe"


def test_base64_response_without_binary_media_types_stays_text(
    stack: RunningStack,
) -> None:
    response = httpx.get(f"{stack.api}/probe/binary", headers=bearer(stack.token()))

    assert response.status_code == 200
    assert base64.b64decode(response.text) == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("path", ["boom", "malformed"])
def test_failing_or_malformed_function_is_502(stack: RunningStack, path: str) -> None:
    response = httpx.get(f"{stack.api}/probe/{path}", headers=bearer(stack.token()))

    assert response.status_code == 502
    assert response.json()["code"] == "GATEWAY_ERROR"
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
