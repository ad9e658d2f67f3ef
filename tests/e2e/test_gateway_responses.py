"""API Gateway's own answers over HTTP: the API's error body, with the CORS header.

Whatever stops a request before a function answers (no token, a forged one, no
such route, a body over 10 MB) answers `{"statusCode", "code", "message"}` like
the functions do, and a browser on the frontend's origin may read it.
"""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sniper.api import ErrorBody
from tests.e2e.support import RunningStack

pytestmark = pytest.mark.slow

ORIGIN = "http://localhost:3000"
TEN_MB = 10 * 1024 * 1024


def error_body(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response's body, checked to be the API's error body for `status`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["access-control-allow-origin"] == ORIGIN
    body: dict[str, Any] = response.json()
    assert set(body) == {"statusCode", "code", "message"}
    assert ErrorBody.model_validate(body).statusCode == status
    assert body["code"] == code
    return body


def test_a_missing_token_is_401_unauthorized(stack: RunningStack) -> None:
    response = httpx.get(f"{stack.api}/users/profile", headers={"Origin": ORIGIN})

    body = error_body(response, 401, "UNAUTHORIZED")
    assert body["message"] == "Unauthorized"


def test_a_forged_token_is_401_unauthorized(stack: RunningStack) -> None:
    good = jwt.decode(stack.token(), options={"verify_signature": False})
    header = jwt.get_unverified_header(stack.token())
    foreign = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(good, foreign, algorithm="RS256", headers=header)

    response = httpx.get(
        f"{stack.api}/users/profile", headers={"Authorization": f"Bearer {forged}"}
    )

    error_body(response, 401, "UNAUTHORIZED")


def test_an_unknown_route_is_404_route_not_found(stack: RunningStack) -> None:
    response = httpx.patch(
        f"{stack.api}/no/such/route", headers={"Authorization": "Bearer x"}
    )

    body = error_body(response, 404, "ROUTE_NOT_FOUND")
    assert body["message"].startswith("No route matches PATCH ")


def test_a_body_over_10_mb_is_413(stack: RunningStack) -> None:
    response = httpx.post(
        f"{stack.api}/bids",
        content=b"{" + b" " * TEN_MB + b"}",
        headers={
            "Authorization": f"Bearer {stack.token()}",
            "Content-Type": "application/json",
        },
        timeout=60,
    )

    body = error_body(response, 413, "REQUEST_TOO_LARGE")
    assert "10 MB" in body["message"]
