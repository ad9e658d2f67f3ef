"""The local Postmark outbox: Postmark's validation and answers, and the views."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from local.outbox import Outbox, OutboxServer, token_from_secret
from local.stack.cli import config_from, parser
from local.stack.config import LOCAL_POSTMARK_TOKEN, postmark_secret_value, wire_outbox

TOKEN = "local-postmark-server-token"
HEADERS = {"X-Postmark-Server-Token": TOKEN, "Accept": "application/json"}


@pytest.fixture(scope="module")
def server() -> Iterator[OutboxServer]:
    with OutboxServer(token=TOKEN) as running:
        yield running


@pytest.fixture
def outbox(server: OutboxServer) -> Outbox:
    server.outbox.clear()
    return server.outbox


@pytest.fixture
def client(server: OutboxServer, outbox: Outbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5) as http:
        yield http


def a_message(**fields: Any) -> dict[str, Any]:
    return {
        "From": "eBay Sniper <notifications@example.com>",
        "To": "alice@example.com",
        "Subject": "You won: Leica M6",
        "HtmlBody": "<p>You won</p><script>alert(1)</script>",
        "TextBody": "You won",
        "Tag": "bid-won",
        "Metadata": {"bidId": "b-1", "status": "WON"},
        "TrackLinks": "None",
        "MessageStream": "outbound",
        **fields,
    }


def test_an_accepted_email_is_answered_as_postmark_does(client: httpx.Client) -> None:
    answer = client.post("/email", json=a_message(), headers=HEADERS)

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"To", "SubmittedAt", "MessageID", "ErrorCode", "Message"}
    assert (body["To"], body["ErrorCode"], body["Message"]) == (
        "alice@example.com",
        0,
        "OK",
    )


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "No Account or Server API tokens"),
        ({"X-Postmark-Server-Token": "x"}, "invalid"),
    ],
)
def test_a_missing_or_wrong_token_is_401_error_code_10(
    client: httpx.Client, outbox: Outbox, headers: dict[str, str], message: str
) -> None:
    answer = client.post("/email", json=a_message(), headers=headers)

    assert answer.status_code == 401
    assert answer.json()["ErrorCode"] == 10
    assert message in answer.json()["Message"]
    assert outbox.emails() == []


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"From": ""}, 300, "Invalid 'From' address"),
        ({"From": None}, 300, "Invalid 'From' address"),
        ({"To": ""}, 300, "Zero recipients specified"),
        ({"To": "not an address"}, 300, "Invalid 'To' address"),
        ({"Cc": "broken@"}, 300, "Invalid 'Cc' address"),
        ({"HtmlBody": None, "TextBody": ""}, 300, "TextBody or HtmlBody"),
        ({"To": "gone@bounced.invalid"}, 406, "gone@bounced.invalid"),
    ],
)
def test_invalid_messages_are_422_with_postmarks_error_codes(
    client: httpx.Client, outbox: Outbox, fields: dict[str, Any], code: int, words: str
) -> None:
    answer = client.post("/email", json=a_message(**fields), headers=HEADERS)

    assert answer.status_code == 422
    assert answer.json()["ErrorCode"] == code
    assert words in answer.json()["Message"]
    assert outbox.emails() == []


def test_a_body_that_is_not_json_is_error_code_402(client: httpx.Client) -> None:
    answer = client.post("/email", content=b"{nope", headers=HEADERS)

    assert (answer.status_code, answer.json()["ErrorCode"]) == (422, 402)


def test_a_batch_answers_each_message(client: httpx.Client, outbox: Outbox) -> None:
    answer = client.post(
        "/email/batch",
        json=[a_message(), a_message(To="x@bounced.invalid"), a_message(To="")],
        headers=HEADERS,
    )

    assert answer.status_code == 200
    assert [item["ErrorCode"] for item in answer.json()] == [0, 406, 300]
    assert len(outbox.emails()) == 1


def test_emails_are_listed_newest_first_and_filtered(client: httpx.Client) -> None:
    client.post("/email", json=a_message(Subject="first"), headers=HEADERS)
    client.post(
        "/email",
        json=a_message(Subject="second", To="bob@example.com", Tag="bid-lost"),
        headers=HEADERS,
    )

    listed = client.get("/outbox/emails").json()
    assert [email["subject"] for email in listed["emails"]] == ["second", "first"]
    assert listed["emails"][1]["metadata"] == {"bidId": "b-1", "status": "WON"}
    assert listed["emails"][1]["tag"] == "bid-won"
    only_bob = client.get("/outbox/emails", params={"to": "BOB@example.com"}).json()
    assert [email["subject"] for email in only_bob["emails"]] == ["second"]
    lost = client.get("/outbox/emails", params={"tag": "bid-lost"}).json()
    assert lost["count"] == 1


def test_an_emails_html_is_served_under_a_policy_that_runs_no_script(
    client: httpx.Client,
) -> None:
    sent = client.post("/email", json=a_message(), headers=HEADERS).json()

    page = client.get(f"/outbox/emails/{sent['MessageID']}.html")
    text = client.get(f"/outbox/emails/{sent['MessageID']}.txt")
    document = client.get(f"/outbox/emails/{sent['MessageID']}").json()

    assert page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy
    assert "script-src" not in policy  # falls back to default-src 'none'
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.text == a_message()["HtmlBody"]
    assert text.headers["content-type"].startswith("text/plain")
    assert text.text == "You won"
    assert document["htmlBody"] == a_message()["HtmlBody"]
    assert (
        client.get(
            "/outbox/emails/00000000-0000-0000-0000-000000000000.html"
        ).status_code
        == 404
    )


def test_the_index_escapes_what_it_lists(client: httpx.Client) -> None:
    client.post(
        "/email", json=a_message(Subject="<script>alert(1)</script>"), headers=HEADERS
    )

    page = client.get("/")

    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert "content-security-policy" in page.headers


def test_clearing_forgets_every_email(client: httpx.Client, outbox: Outbox) -> None:
    client.post("/email", json=a_message(), headers=HEADERS)

    assert client.delete("/outbox/emails").status_code == 204
    assert client.get("/outbox/emails").json() == {"emails": [], "count": 0}


def test_faults_answer_the_next_sends(client: httpx.Client, outbox: Outbox) -> None:
    assert (
        client.post("/outbox/faults", json={"status": 503, "count": 2}).status_code
        == 200
    )

    statuses = [
        client.post("/email", json=a_message(), headers=HEADERS).status_code
        for _ in range(3)
    ]

    assert statuses == [503, 503, 200]
    assert len(outbox.emails()) == 1
    assert client.post("/outbox/faults", json={"status": 200}).status_code == 400


@pytest.mark.parametrize(
    ("value", "token"),
    [(json.dumps({"serverToken": "abc"}), "abc"), ("abc\n", "abc")],
)
def test_the_token_is_read_from_the_secret_as_the_handler_reads_it(
    value: str, token: str
) -> None:
    assert token_from_secret(value) == token


def test_the_stack_starts_it_by_default_and_wires_the_functions() -> None:
    default = config_from(parser().parse_args([]))
    skipped = config_from(parser().parse_args(["--no-outbox"]))
    chosen = config_from(
        parser().parse_args(
            ["--outbox-port", "0", "--env", "POSTMARK_API_URL=http://elsewhere/"]
        )
    )

    assert (default.outbox_port, skipped.outbox_port, chosen.outbox_port) == (
        3300,
        None,
        0,
    )
    assert token_from_secret(postmark_secret_value(default)) == LOCAL_POSTMARK_TOKEN
    wire_outbox(default, "http://127.0.0.1:3300/")
    assert default.env["POSTMARK_API_URL"] == "http://127.0.0.1:3300/"
    wire_outbox(chosen, "http://127.0.0.1:3300/")
    assert chosen.env["POSTMARK_API_URL"] == "http://elsewhere/"  # --env wins


def test_a_secret_given_on_the_command_line_is_the_token_accepted() -> None:
    config = config_from(
        parser().parse_args(["--secret", "PostmarkServerTokenSecret=my-token"])
    )

    assert token_from_secret(postmark_secret_value(config)) == "my-token"
