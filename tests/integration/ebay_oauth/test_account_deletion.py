"""eBay's marketplace account deletion notifications, end to end: the emulator
plays eBay (it signs and delivers notices, runs the endpoint challenge and serves
its public key), moto plays AWS, and the handler runs as Lambda runs it.

eBay delivers over HTTP, so a small relay turns each request the emulator sends
into an API Gateway event for the handler, and the handler's answer back into HTTP.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from local.ebay_emulator import EmulatorServer
from local.ebay_emulator.notifications import (
    NotificationSigner,
    account_deletion_notice,
    sign_notice,
)
from sniper.ebay.notification import PUBLIC_KEY_PATH, UNKNOWN_KEY_LOOKUPS_PER_MINUTE
from tests.conftest import MockedAws
from tests.support.ebay_world import EbayWorld
from tests.support.handlers import (
    ALICE,
    BOB,
    Invoker,
    as_user,
    body_of,
    sample_event,
    with_body,
)
from tests.support.logs import capture_logs

CAROL = "0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d"
PATH = "/ebay/notifications/account-deletion"
TOKEN = "sniper-local_verification-token_0123456789"


@pytest.fixture
def invoke(ebay: EbayWorld) -> Invoker:
    return Invoker("ebay_oauth")


class Relay(ThreadingHTTPServer):
    """HTTP in, API Gateway event to the handler, the handler's answer out."""

    daemon_threads = True

    def __init__(self, invoke: Invoker) -> None:
        super().__init__(("127.0.0.1", 0), _RelayedRequest)
        self.invoke = invoke

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{PATH}"


class _RelayedRequest(BaseHTTPRequestHandler):
    server: Relay

    def do_GET(self) -> None:
        self._relay(sample_event("ebay_oauth/deletion_challenge_get.json"))

    def do_POST(self) -> None:
        self._relay(sample_event("ebay_oauth/deletion_notice_post.json"))

    def _relay(self, event: dict[str, Any]) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        query = parse_qs(url.query)
        headers = dict(self.headers.items())
        event.update(
            path=url.path,
            headers=headers,
            multiValueHeaders={k: [v] for k, v in headers.items()},
            queryStringParameters={k: v[0] for k, v in query.items()} or None,
            multiValueQueryStringParameters=query or None,
            body=body.decode() if body is not None else None,
            isBase64Encoded=False,
        )
        answer = self.server.invoke(event)
        payload = (answer.get("body") or "").encode()
        self.send_response(answer["statusCode"])
        for name, values in (answer.get("multiValueHeaders") or {}).items():
            for value in values:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def relay(invoke: Invoker) -> Iterator[Relay]:
    server = Relay(invoke)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


# Helpers ----------------------------------------------------------------------


def link(invoke: Invoker, ebay: EbayWorld, username: str, user: str) -> None:
    started = invoke(as_user(sample_event("ebay_oauth/auth_url_get.json"), user))
    assert started["statusCode"] == 200, started["body"]
    redirect = ebay.consent(body_of(started)["authUrl"], username)
    callback = as_user(sample_event("ebay_oauth/callback_post.json"), user)
    answer = invoke(with_body(callback, redirect))
    assert answer["statusCode"] == 200, answer["body"]


def ebay_user_id(ebay: EbayWorld, username: str) -> str:
    user_id: str = ebay.admin("GET", f"/users/{username}").json()["userId"]
    return user_id


def deliver(ebay: EbayWorld, relay: Relay, username: str) -> dict[str, Any]:
    """What eBay does when the member closes their account."""
    result: dict[str, Any] = ebay.admin(
        "POST",
        "/notifications/account-deletion",
        json={"username": username, "endpoint": relay.url},
    ).json()
    return result


def notice_event(body: bytes | str, signature: str | None) -> dict[str, Any]:
    event = sample_event("ebay_oauth/deletion_notice_post.json")
    event["body"] = body.decode() if isinstance(body, bytes) else body
    if signature is None:
        del event["headers"]["X-EBAY-SIGNATURE"]
        del event["multiValueHeaders"]["X-EBAY-SIGNATURE"]
    else:
        event["headers"]["X-EBAY-SIGNATURE"] = signature
        event["multiValueHeaders"]["X-EBAY-SIGNATURE"] = [signature]
    return event


def challenge_event(code: str | None) -> dict[str, Any]:
    event = sample_event("ebay_oauth/deletion_challenge_get.json")
    query = None if code is None else {"challenge_code": code}
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = (
        None if query is None else {k: [v] for k, v in query.items()}
    )
    return event


def items_of(mocked_aws: MockedAws, *owners: str) -> list[dict[str, Any]]:
    """Every Users item of these users: their own and the guards they own."""
    return [
        item
        for item in mocked_aws.all_items("UsersTable")
        if item["userId"] in owners or item.get("ownerId") in owners
    ]


def status_of(invoke: Invoker, user: str) -> dict[str, Any]:
    answer = invoke(as_user(sample_event("ebay_oauth/status_get.json"), user))
    status: dict[str, Any] = body_of(answer)
    return status


# Notices ----------------------------------------------------------------------


def test_a_signed_notice_deletes_the_link_its_tokens_and_its_guard(
    invoke: Invoker, ebay: EbayWorld, relay: Relay, mocked_aws: MockedAws
) -> None:
    link(invoke, ebay, "ebay-alice", ALICE)
    link(invoke, ebay, "ebay-bob", BOB)
    bobs_items = items_of(mocked_aws, BOB)
    gone_id = ebay_user_id(ebay, "ebay-alice")

    result = deliver(ebay, relay, "ebay-alice")

    assert (result["status"], result["acknowledged"]) == (204, True)
    assert result["notification"]["notification"]["data"]["userId"] == gone_id
    assert items_of(mocked_aws, ALICE) == []
    assert [
        item
        for item in mocked_aws.all_items("UsersTable")
        if gone_id in item["userId"] or item.get("ebayUserId") == gone_id
    ] == []
    assert status_of(invoke, ALICE)["isLinked"] is False
    assert items_of(mocked_aws, BOB) == bobs_items
    assert status_of(invoke, BOB)["accountId"] == "ebay-bob"
    # The eBay account is free: anyone may link it again.
    link(invoke, ebay, "ebay-alice", CAROL)
    assert status_of(invoke, CAROL)["ebayUserId"] == gone_id


def test_a_repeated_notice_and_an_unknown_member_are_acknowledged(
    invoke: Invoker, ebay: EbayWorld, relay: Relay, mocked_aws: MockedAws
) -> None:
    link(invoke, ebay, "ebay-alice", ALICE)
    ebay.admin("POST", "/users", json={"username": "never-linked-here"})

    first = deliver(ebay, relay, "ebay-alice")
    again = deliver(ebay, relay, "ebay-alice")
    stranger = deliver(ebay, relay, "never-linked-here")

    assert [first["status"], again["status"], stranger["status"]] == [204, 204, 204]
    assert items_of(mocked_aws, ALICE) == []


def test_a_stray_guard_of_the_member_is_deleted_too(
    invoke: Invoker, ebay: EbayWorld, relay: Relay, mocked_aws: MockedAws
) -> None:
    ebay.admin("POST", "/users", json={"username": "ebay-ghost"})
    ghost = ebay_user_id(ebay, "ebay-ghost")
    table = mocked_aws.table("UsersTable")
    table.put_item(Item={"userId": f"EBAY#{ghost}", "sk": "GUARD", "ownerId": ALICE})

    assert deliver(ebay, relay, "ebay-ghost")["status"] == 204

    assert items_of(mocked_aws, ALICE) == []


def test_other_topics_are_acknowledged_and_ignored(
    invoke: Invoker,
    ebay: EbayWorld,
    ebay_emulator: EmulatorServer,
    mocked_aws: MockedAws,
) -> None:
    link(invoke, ebay, "ebay-alice", ALICE)
    user_id = ebay_user_id(ebay, "ebay-alice")
    notice = account_deletion_notice("ebay-alice", user_id, 1_800_000_000)
    notice["metadata"]["topic"] = "PRIORITY_LISTING_REVISION"
    signed = sign_notice(ebay_emulator.state.notification_signer, notice)

    answer = invoke(notice_event(signed.body, signed.signature))

    assert answer["statusCode"] == 204
    assert status_of(invoke, ALICE)["isLinked"] is True


# Refusals ---------------------------------------------------------------------


@pytest.fixture
def alice_linked(invoke: Invoker, ebay: EbayWorld, mocked_aws: MockedAws) -> Any:
    link(invoke, ebay, "ebay-alice", ALICE)
    return items_of(mocked_aws, ALICE)


def test_a_tampered_notice_is_412_and_deletes_nothing(
    invoke: Invoker,
    ebay_emulator: EmulatorServer,
    alice_linked: Any,
    mocked_aws: MockedAws,
) -> None:
    signed = ebay_emulator.state.account_deletion_notice("ebay-alice")
    tampered = signed.body.replace(
        b'"publishAttemptCount":1', b'"publishAttemptCount":2'
    )
    assert tampered != signed.body

    answer = invoke(notice_event(tampered, signed.signature))

    assert answer["statusCode"] == 412
    assert body_of(answer)["code"] == "PRECONDITION_FAILED"
    assert "does not match" in body_of(answer)["message"]
    assert items_of(mocked_aws, ALICE) == alice_linked


def test_a_notice_signed_with_another_key_is_412(
    invoke: Invoker,
    ebay_emulator: EmulatorServer,
    alice_linked: Any,
    mocked_aws: MockedAws,
) -> None:
    real = ebay_emulator.state.notification_signer
    impostor = NotificationSigner(key_id=real.key_id)  # eBay's key id, not its key
    signed = sign_notice(
        impostor, ebay_emulator.state.account_deletion_notice("ebay-alice").notice
    )

    answer = invoke(notice_event(signed.body, signed.signature))

    assert answer["statusCode"] == 412
    assert items_of(mocked_aws, ALICE) == alice_linked


def test_a_key_id_ebay_does_not_know_is_412(
    invoke: Invoker,
    ebay_emulator: EmulatorServer,
    alice_linked: Any,
    mocked_aws: MockedAws,
) -> None:
    impostor = NotificationSigner()  # its own key id, unknown to eBay
    signed = sign_notice(
        impostor, ebay_emulator.state.account_deletion_notice("ebay-alice").notice
    )

    answer = invoke(notice_event(signed.body, signed.signature))

    assert answer["statusCode"] == 412
    assert "no usable public key" in body_of(answer)["message"]
    assert items_of(mocked_aws, ALICE) == alice_linked


def forged(ebay_emulator: EmulatorServer, **fields: Any) -> str:
    """eBay's real header for a real notice, with some fields changed."""
    signed = ebay_emulator.state.account_deletion_notice("ebay-alice")
    packed = json.loads(base64.b64decode(signed.signature))
    return base64.b64encode(json.dumps({**packed, **fields}).encode()).decode()


def test_a_missing_garbage_or_doctored_signature_header_is_412(
    invoke: Invoker,
    ebay_emulator: EmulatorServer,
    alice_linked: Any,
    mocked_aws: MockedAws,
) -> None:
    signed = ebay_emulator.state.account_deletion_notice("ebay-alice")
    headers = [
        None,
        "",
        "garbage!",
        base64.b64encode(b"{}").decode(),
        forged(ebay_emulator, alg="RSA"),
        forged(ebay_emulator, digest="SHA256"),
        forged(ebay_emulator, kid="../../identity/v1/oauth2/token"),
        forged(ebay_emulator, signature="bm90IGEgc2lnbmF0dXJl"),
    ]

    answers = [invoke(notice_event(signed.body, header)) for header in headers]

    assert [answer["statusCode"] for answer in answers] == [412] * len(headers)
    assert all(body_of(a)["code"] == "PRECONDITION_FAILED" for a in answers)
    assert items_of(mocked_aws, ALICE) == alice_linked


def public_key_lookups(ebay: EbayWorld) -> list[str]:
    """The key ids the functions asked eBay's getPublicKey for, oldest first."""
    return [
        entry["path"].removeprefix(PUBLIC_KEY_PATH)
        for entry in ebay.admin("GET", "/requests").json()
        if entry["path"].startswith(PUBLIC_KEY_PATH)
    ]


def test_a_flood_of_forged_key_ids_costs_ebay_a_bounded_number_of_lookups(
    invoke: Invoker,
    ebay: EbayWorld,
    ebay_emulator: EmulatorServer,
    alice_linked: Any,
    mocked_aws: MockedAws,
) -> None:
    ebay.admin("POST", "/users", json={"username": "ebay-stranger"})
    real_key = ebay_emulator.state.notification_signer.key_id
    stranger = ebay_emulator.state.account_deletion_notice("ebay-stranger")
    assert invoke(notice_event(stranger.body, stranger.signature))["statusCode"] == 204
    alices = ebay_emulator.state.account_deletion_notice("ebay-alice")
    flood = 3 * UNKNOWN_KEY_LOOKUPS_PER_MINUTE

    with capture_logs(logging.WARNING) as logs:
        answers = [
            invoke(notice_event(alices.body, forged(ebay_emulator, kid=f"forged-{n}")))
            for n in range(flood)
        ]

    assert [answer["statusCode"] for answer in answers] == [412] * flood
    assert {body_of(answer)["code"] for answer in answers} == {"PRECONDITION_FAILED"}
    assert items_of(mocked_aws, ALICE) == alice_linked
    # The real key's lookup counts too: the bound is on any key id not yet known.
    lookups = public_key_lookups(ebay)
    assert lookups[0] == real_key
    assert len(lookups) == UNKNOWN_KEY_LOOKUPS_PER_MINUTE
    over = [line for line in logs.lines() if "over the bound" in line["message"]]
    assert len(over) == flood - (UNKNOWN_KEY_LOOKUPS_PER_MINUTE - 1)
    # eBay's real key, cached before the flood, still verifies without a lookup.
    assert invoke(notice_event(alices.body, alices.signature))["statusCode"] == 204
    assert items_of(mocked_aws, ALICE) == []
    assert public_key_lookups(ebay) == lookups


def test_a_body_that_is_not_a_json_object_is_400(
    invoke: Invoker, ebay_emulator: EmulatorServer, ebay: EbayWorld
) -> None:
    ebay.admin("POST", "/users", json={"username": "ebay-alice"})
    signed = ebay_emulator.state.account_deletion_notice("ebay-alice")

    for body in ("not json", "[1, 2, 3]", "", '"a string"', "\udcff"):
        answer = invoke(notice_event(body, signed.signature))

        assert answer["statusCode"] == 400, body
        assert body_of(answer)["message"] == "The notice is not a JSON object."


def test_a_deeply_nested_notice_is_400(invoke: Invoker, ebay: EbayWorld) -> None:
    for body in ('{"a":' * 20_000 + "1" + "}" * 20_000, "[" * 20_000 + "]" * 20_000):
        answer = invoke(notice_event(body, None))

        assert answer["statusCode"] == 400
        assert body_of(answer)["message"] == "The notice is not a JSON object."


def test_a_signed_notice_without_the_user_id_is_400(
    invoke: Invoker, ebay_emulator: EmulatorServer
) -> None:
    changes: list[Callable[[dict[str, Any]], object]] = [
        lambda n: n["notification"]["data"].pop("userId"),
        lambda n: n["notification"]["data"].update(userId=""),
        lambda n: n["notification"]["data"].update(userId=12345),
        lambda n: n["notification"].pop("data"),
        lambda n: n.pop("metadata"),
    ]
    for change in changes:
        notice = account_deletion_notice("ebay-alice", "someone", 1_800_000_000)
        change(notice)
        signed = sign_notice(ebay_emulator.state.notification_signer, notice)

        answer = invoke(notice_event(signed.body, signed.signature))

        assert answer["statusCode"] == 400, notice


def test_a_body_that_is_not_base64_as_announced_is_400(
    invoke: Invoker, ebay: EbayWorld
) -> None:
    event = notice_event("{}", "x")
    event.update(body="%%% not base64 %%%", isBase64Encoded=True)

    assert invoke(event)["statusCode"] == 400


def test_a_base64_body_verifies_like_a_text_body(
    invoke: Invoker,
    ebay_emulator: EmulatorServer,
    alice_linked: Any,
    mocked_aws: MockedAws,
) -> None:
    signed = ebay_emulator.state.account_deletion_notice("ebay-alice")
    event = notice_event("", signed.signature)
    event.update(body=base64.b64encode(signed.body).decode(), isBase64Encoded=True)

    assert invoke(event)["statusCode"] == 204
    assert items_of(mocked_aws, ALICE) == []


def test_when_ebay_cannot_hand_out_its_key_the_notice_waits_for_redelivery(
    invoke: Invoker, ebay: EbayWorld, relay: Relay, mocked_aws: MockedAws
) -> None:
    link(invoke, ebay, "ebay-alice", ALICE)
    ebay.fault(kind="status", status=503, count=1, pathPrefix="/commerce/notification")

    first = deliver(ebay, relay, "ebay-alice")

    assert first["status"] == 503
    assert json.loads(first["responseBody"])["code"] == "SERVICE_UNAVAILABLE"
    assert status_of(invoke, ALICE)["isLinked"] is True
    assert deliver(ebay, relay, "ebay-alice")["status"] == 204
    assert items_of(mocked_aws, ALICE) == []


def test_the_log_names_the_ebay_user_id_and_nothing_personal(
    invoke: Invoker, ebay: EbayWorld, ebay_emulator: EmulatorServer
) -> None:
    link(invoke, ebay, "ebay-alice", ALICE)
    signed = ebay_emulator.state.account_deletion_notice("ebay-alice")
    data = signed.notice["notification"]["data"]

    with capture_logs(logging.INFO) as logs:
        assert invoke(notice_event(signed.body, signed.signature))["statusCode"] == 204

    line = next(
        line for line in logs.lines() if "link and tokens deleted" in line["message"]
    )
    assert line["ebay_user_id"] == data["userId"]
    assert data["eiasToken"] not in logs.text
    assert "ebay-alice" not in logs.text


# The challenge ----------------------------------------------------------------


def test_the_challenge_is_answered_as_ebay_expects(
    invoke: Invoker, ebay: EbayWorld, relay: Relay
) -> None:
    ebay.app_secret(verificationToken=TOKEN, deletionEndpointUrl=relay.url)

    result = ebay.admin(
        "POST",
        "/notifications/challenge",
        json={"endpoint": relay.url, "verificationToken": TOKEN},
    ).json()

    assert result["matched"] is True, result
    assert result["status"] == 200
    assert result["contentType"].startswith("application/json")


def test_the_challenge_answer_is_json_with_the_hash(
    invoke: Invoker, ebay: EbayWorld
) -> None:
    endpoint = "https://api.example.com/prod/ebay/notifications/account-deletion"
    ebay.app_secret(verificationToken=TOKEN, deletionEndpointUrl=endpoint)

    answer = invoke(challenge_event("a8628072-3d33-45ee-9004-bee86830a22d"))

    assert answer["statusCode"] == 200
    assert answer["multiValueHeaders"]["Content-Type"] == ["application/json"]
    # printf '%s' CODE TOKEN ENDPOINT | sha256sum
    assert body_of(answer) == {
        "challengeResponse": (
            "6fe37ed7b40acaae63b352dd91f0011f164be0271ff80bfe2ff096146a83b6ca"
        )
    }


def test_a_challenge_with_the_wrong_token_does_not_match(
    invoke: Invoker, ebay: EbayWorld, relay: Relay
) -> None:
    ebay.app_secret(verificationToken=TOKEN, deletionEndpointUrl=relay.url)

    result = ebay.admin(
        "POST",
        "/notifications/challenge",
        json={"endpoint": relay.url, "verificationToken": "x" * 40},
    ).json()

    assert result["matched"] is False
    assert result["received"] != result["expected"]


def test_a_challenge_without_configuration_is_503(
    invoke: Invoker, ebay: EbayWorld
) -> None:
    for fields in (
        {},
        {"verificationToken": TOKEN},
        {"verificationToken": None, "deletionEndpointUrl": "https://x.example/h"},
    ):
        ebay.app_secret(**fields)

        answer = invoke(challenge_event("abc"))

        assert answer["statusCode"] == 503, fields
        assert "not configured" in body_of(answer)["message"]
        assert "verificationToken" in body_of(answer)["message"]


def test_a_challenge_with_an_unusable_configuration_is_503(
    invoke: Invoker, ebay: EbayWorld
) -> None:
    for fields in (
        {"verificationToken": "too-short", "deletionEndpointUrl": "https://x.io/h"},
        {"verificationToken": "x" * 81, "deletionEndpointUrl": "https://x.io/h"},
        {"verificationToken": "has spaces " * 4, "deletionEndpointUrl": "https://x/"},
        {"verificationToken": TOKEN, "deletionEndpointUrl": "ftp://x.example/h"},
    ):
        ebay.app_secret(**fields)

        answer = invoke(challenge_event("abc"))

        assert answer["statusCode"] == 503, fields
        assert fields["verificationToken"] not in answer["body"]


def test_a_challenge_without_a_code_is_400(invoke: Invoker, ebay: EbayWorld) -> None:
    ebay.app_secret(verificationToken=TOKEN, deletionEndpointUrl="https://x.io/h")

    for code in (None, ""):
        answer = invoke(challenge_event(code))

        assert answer["statusCode"] == 400
        assert body_of(answer)["errors"][0]["field"] == "challenge_code"


def test_linking_still_works_with_a_malformed_deletion_configuration(
    invoke: Invoker, ebay: EbayWorld
) -> None:
    ebay.app_secret(verificationToken="short", deletionEndpointUrl="nonsense")

    link(invoke, ebay, "ebay-alice", ALICE)

    assert status_of(invoke, ALICE)["isLinked"] is True
