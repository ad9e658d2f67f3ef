"""The emulator as eBay's notification service: getPublicKey, signed account
deletion notices delivered over HTTP, and the endpoint challenge.

A receiver on localhost plays the app's endpoint; the checks here use only
`cryptography` and the standard library, not the sniper's own verifier.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from local.ebay_emulator import EmulatorServer

from .driver import EbayDriver
from .openapi_schemas import validate, validate_errors

KEY_PATH = "/commerce/notification/v1/public_key/"
TOKEN = "sniper-local_verification-token_0123456789"


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Endpoint:
    """What the receiver saw and how it answers."""

    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 204
    answer: Any = None  # JSON body to answer with
    content_type: str = "application/json"


class _Receiver(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        self._record()

    def do_POST(self) -> None:
        self._record()

    def _record(self) -> None:
        endpoint = self.server.endpoint
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        endpoint.requests.append(
            Received(
                method=self.command,
                path=url.path,
                query=parse_qs(url.query),
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length),
            )
        )
        answer = endpoint.answer(self) if callable(endpoint.answer) else endpoint.answer
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(endpoint.status)
        if payload:
            self.send_header("Content-Type", endpoint.content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    endpoint: Endpoint


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = _Server(("127.0.0.1", 0), _Receiver)
    server.endpoint = Endpoint(
        url=f"http://127.0.0.1:{server.server_address[1]}/ebay/deletion"
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.endpoint
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def key_id_of(signature_header: str) -> str:
    kid: str = json.loads(base64.b64decode(signature_header))["kid"]
    return kid


def fetch_key(ebay: EbayDriver, key_id: str) -> dict[str, Any]:
    response = ebay.http.get(
        KEY_PATH + key_id, headers={"Authorization": f"Bearer {ebay.app_token()}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def load_key(pem_one_line: str) -> ec.EllipticCurvePublicKey:
    """eBay's one-line PEM, with the line breaks PEM readers want put back."""
    body = pem_one_line.removeprefix("-----BEGIN PUBLIC KEY-----").removesuffix(
        "-----END PUBLIC KEY-----"
    )
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    pem = f"-----BEGIN PUBLIC KEY-----\n{lines}\n-----END PUBLIC KEY-----\n"
    key = load_pem_public_key(pem.encode())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def send_deletion(ebay: EbayDriver, username: str, url: str) -> Any:
    return ebay.admin(
        "POST",
        "/notifications/account-deletion",
        json={"username": username, "endpoint": url},
    )


# getPublicKey -----------------------------------------------------------------


def test_the_public_key_is_served_as_ebay_serves_it(
    ebay: EbayDriver, emulator_server: EmulatorServer
) -> None:
    key_id = emulator_server.state.notification_signer.key_id

    body = fetch_key(ebay, key_id)

    validate(body, "notification", "PublicKey")
    assert (body["algorithm"], body["digest"]) == ("ECDSA", "SHA1")
    assert body["key"].startswith("-----BEGIN PUBLIC KEY-----MF")
    assert "\n" not in body["key"]
    assert load_key(body["key"]).curve.name == "secp256r1"


def test_an_unknown_key_id_is_404_195001(ebay: EbayDriver) -> None:
    response = ebay.http.get(
        KEY_PATH + "no-such-key",
        headers={"Authorization": f"Bearer {ebay.app_token()}"},
    )

    assert response.status_code == 404
    validate_errors(response.json(), "notification")
    assert response.json()["errors"][0]["errorId"] == 195001


def test_the_key_needs_an_application_token(
    ebay: EbayDriver, emulator_server: EmulatorServer
) -> None:
    path = KEY_PATH + emulator_server.state.notification_signer.key_id

    anonymous = ebay.http.get(path)
    as_user = ebay.http.get(
        path, headers={"Authorization": f"Bearer {ebay.user_token('someone')}"}
    )
    unknown = ebay.http.get(path, headers={"Authorization": "Bearer v^1.1#nope"})

    assert [anonymous.status_code, as_user.status_code, unknown.status_code] == [
        403,
        403,
        401,
    ]


def test_the_key_outlives_a_reset(
    ebay: EbayDriver, emulator_server: EmulatorServer
) -> None:
    key_id = emulator_server.state.notification_signer.key_id

    ebay.admin("POST", "/reset")

    assert emulator_server.state.notification_signer.key_id == key_id
    assert fetch_key(ebay, key_id)["digest"] == "SHA1"


def test_key_faults_answer_in_the_notification_apis_words(
    ebay: EbayDriver, emulator_server: EmulatorServer
) -> None:
    ebay.add_fault(kind="status", status=500, pathPrefix="/commerce/notification/")
    key_id = emulator_server.state.notification_signer.key_id

    response = ebay.http.get(
        KEY_PATH + key_id, headers={"Authorization": f"Bearer {ebay.app_token()}"}
    )

    assert response.status_code == 500
    error = response.json()["errors"][0]
    assert (error["errorId"], error["domain"]) == (195000, "API_NOTIFICATION")


# Account deletion notices -----------------------------------------------------


def test_a_deletion_notice_is_signed_json_as_ebay_sends_it(
    ebay: EbayDriver, endpoint: Endpoint
) -> None:
    user = ebay.admin("POST", "/users", json={"username": "leaving"}).json()

    result = send_deletion(ebay, "leaving", endpoint.url).json()

    assert (result["status"], result["acknowledged"]) == (204, True)
    [request] = endpoint.requests
    assert (request.method, request.path) == ("POST", "/ebay/deletion")
    assert request.headers["content-type"] == "application/json"
    notice = json.loads(request.body)
    assert request.body == json.dumps(notice, separators=(",", ":")).encode()
    assert notice == result["notification"]
    assert notice["metadata"] == {
        "topic": "MARKETPLACE_ACCOUNT_DELETION",
        "schemaVersion": "1.0",
        "deprecated": False,
    }
    details = notice["notification"]
    assert details["data"]["username"] == "leaving"
    assert details["data"]["userId"] == user["userId"]
    assert details["data"]["eiasToken"]
    assert details["publishAttemptCount"] == 1
    assert details["eventDate"].endswith("Z")
    assert len(details["notificationId"].split("_")) == 2


def test_the_signature_verifies_with_the_served_key_and_only_over_the_body(
    ebay: EbayDriver, endpoint: Endpoint
) -> None:
    ebay.admin("POST", "/users", json={"username": "leaving"})
    send_deletion(ebay, "leaving", endpoint.url)
    [request] = endpoint.requests

    header = json.loads(base64.b64decode(request.headers["x-ebay-signature"]))
    key = load_key(fetch_key(ebay, header["kid"])["key"])
    signature = base64.b64decode(header["signature"])

    assert set(header) == {"alg", "kid", "signature", "digest"}
    assert (header["alg"].upper(), header["digest"]) == ("ECDSA", "SHA1")
    key.verify(signature, request.body, ec.ECDSA(hashes.SHA1()))  # noqa: S303
    with pytest.raises(InvalidSignature):
        key.verify(signature, request.body + b" ", ec.ECDSA(hashes.SHA1()))  # noqa: S303


def test_the_endpoints_answer_is_reported(ebay: EbayDriver, endpoint: Endpoint) -> None:
    ebay.admin("POST", "/users", json={"username": "leaving"})
    endpoint.status, endpoint.answer = 412, {"message": "bad signature"}

    result = send_deletion(ebay, "leaving", endpoint.url).json()

    assert (result["status"], result["acknowledged"]) == (412, False)
    assert "bad signature" in result["responseBody"]


def test_deleting_an_unknown_member_is_404(
    ebay: EbayDriver, endpoint: Endpoint
) -> None:
    response = send_deletion(ebay, "nobody", endpoint.url)

    assert response.status_code == 404
    assert endpoint.requests == []


@pytest.mark.parametrize(
    "spec",
    [
        {"username": "leaving"},
        {"username": "leaving", "endpoint": "not a url"},
        {"username": "leaving", "endpoint": "ftp://x.example/h"},
        {"endpoint": "http://127.0.0.1:1/h"},
        {"username": "leaving", "endpoint": "http://x.example/h", "extra": 1},
    ],
)
def test_a_malformed_delivery_request_is_400(
    ebay: EbayDriver, spec: dict[str, Any]
) -> None:
    ebay.admin("POST", "/users", json={"username": "leaving"})

    assert (
        ebay.admin("POST", "/notifications/account-deletion", json=spec).status_code
        == 400
    )


def test_an_unreachable_endpoint_is_502(ebay: EbayDriver) -> None:
    ebay.admin("POST", "/users", json={"username": "leaving"})

    response = send_deletion(ebay, "leaving", "http://127.0.0.1:1/nothing-here")

    assert response.status_code == 502
    assert "did not answer" in response.json()["error"]


# The endpoint challenge -------------------------------------------------------


def correct_answer(handler: BaseHTTPRequestHandler) -> dict[str, str]:
    url = urlsplit(handler.path)
    code = parse_qs(url.query)["challenge_code"][0]
    endpoint = f"http://{handler.headers['Host']}{url.path}"
    digest = hashlib.sha256((code + TOKEN + endpoint).encode()).hexdigest()
    return {"challengeResponse": digest}


def challenge(ebay: EbayDriver, url: str, token: str = TOKEN) -> Any:
    return ebay.admin(
        "POST",
        "/notifications/challenge",
        json={"endpoint": url, "verificationToken": token},
    )


def test_a_correct_challenge_answer_matches(
    ebay: EbayDriver, endpoint: Endpoint
) -> None:
    endpoint.status, endpoint.answer = 200, correct_answer

    result = challenge(ebay, endpoint.url).json()

    assert result["matched"] is True, result
    [request] = endpoint.requests
    assert request.method == "GET"
    assert request.query == {"challenge_code": [result["challengeCode"]]}
    assert result["received"] == result["expected"]


@pytest.mark.parametrize(
    ("status", "answer", "content_type"),
    [
        (200, {"challengeResponse": "0" * 64}, "application/json"),
        (200, correct_answer, "text/plain"),
        (500, correct_answer, "application/json"),
        (200, None, "application/json"),
    ],
)
def test_a_wrong_challenge_answer_does_not_match(
    ebay: EbayDriver,
    endpoint: Endpoint,
    status: int,
    answer: Any,
    content_type: str,
) -> None:
    endpoint.status, endpoint.answer, endpoint.content_type = (
        status,
        answer,
        content_type,
    )

    result = challenge(ebay, endpoint.url).json()

    assert result["matched"] is False
    assert result["status"] == status


@pytest.mark.parametrize(
    "token", ["short", "x" * 81, "has spaces but is long enough!!!!"]
)
def test_a_token_ebay_would_not_accept_is_400(
    ebay: EbayDriver, endpoint: Endpoint, token: str
) -> None:
    assert challenge(ebay, endpoint.url, token).status_code == 400
    assert endpoint.requests == []
