"""A local Postmark: the API postmarker talks to, and a window onto what was sent.

Postmark's side (what `PostmarkClient(root_api_url=...)` calls):
- `POST /email`, `POST /email/batch` with `X-Postmark-Server-Token`: a missing or
  wrong token is 401 ErrorCode 10; a message without From, without recipients,
  with an unreadable address or without a body is 422 ErrorCode 300; a recipient
  on the reserved `.invalid` domain (`someone@bounced.invalid`) is 422 ErrorCode
  406, "inactive recipient". Postmark's messages quote the address, and so do
  these: the app must never pass them on. Accepted messages are kept (the newest
  500) and answered as Postmark does: `{"To", "SubmittedAt", "MessageID",
  "ErrorCode": 0, "Message": "OK"}`.

The developer's side:
- `GET /` the sent emails as a page; `GET /outbox/emails` as JSON, newest first
  (`?to=` and `?tag=` filter); `GET /outbox/emails/{id}` one email as JSON,
  `.html` its HTML body, `.txt` its text body; `DELETE /outbox/emails` forgets them.
- `POST /outbox/faults {"status": 503, "count": 1}`: the next `count` sends answer
  `status` (a Postmark outage, for retry tests).

HTML bodies are served as the app rendered them, under a Content-Security-Policy
that runs no script and loads nothing: what an escaping bug let through shows up
as text to look at, not as code that runs.
"""

from __future__ import annotations

import hmac
import html
import json
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import getaddresses
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

TOKEN_HEADER = "X-Postmark-Server-Token"
KEPT_EMAILS = 500
MAX_RECIPIENTS = 50
MAX_BATCH = 500
INACTIVE_DOMAIN = ".invalid"
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
)
SAFE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_ADDRESS = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_ID_FILE = re.compile(r"(?P<id>[0-9a-f-]{36})(?P<suffix>\.html|\.txt|\.json)?")


def token_from_secret(value: str) -> str:
    """The token a secret's value holds, read as the Notification Handler reads
    it: `{"serverToken": "..."}` or the token itself."""
    text = value.strip()
    if text.startswith("{"):
        document = json.loads(text)
        token = document.get("serverToken") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise ValueError('the secret has no "serverToken"')
        return token.strip()
    return text


@dataclass(frozen=True)
class StoredEmail:
    id: str
    submitted_at: str
    sender: str
    to: str
    subject: str
    html_body: str
    text_body: str
    cc: str = ""
    bcc: str = ""
    reply_to: str = ""
    tag: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    message_stream: str | None = None
    headers: list[Any] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "submittedAt": self.submitted_at,
            "from": self.sender,
            "to": self.to,
            "subject": self.subject,
            "tag": self.tag,
            "metadata": self.metadata,
            "messageStream": self.message_stream,
            "html": f"/outbox/emails/{self.id}.html",
            "text": f"/outbox/emails/{self.id}.txt",
        }

    def document(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "cc": self.cc,
            "bcc": self.bcc,
            "replyTo": self.reply_to,
            "headers": self.headers,
            "htmlBody": self.html_body,
            "textBody": self.text_body,
        }


class Outbox:
    """The accepted emails, newest last, and the faults still to inject."""

    def __init__(self, token: str, keep: int = KEPT_EMAILS) -> None:
        if not token:
            raise ValueError("the outbox needs the server token it accepts")
        self.token = token
        self._emails: deque[StoredEmail] = deque(maxlen=keep)
        self._faults: list[int] = []
        self._lock = threading.Lock()

    def add(self, email: StoredEmail) -> None:
        with self._lock:
            self._emails.append(email)

    def emails(self) -> list[StoredEmail]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._emails))

    def get(self, email_id: str) -> StoredEmail | None:
        with self._lock:
            return next((e for e in self._emails if e.id == email_id), None)

    def clear(self) -> None:
        with self._lock:
            self._emails.clear()
            self._faults.clear()

    def fail_next(self, status: int, count: int = 1) -> None:
        with self._lock:
            self._faults.extend([status] * count)

    def take_fault(self) -> int | None:
        with self._lock:
            return self._faults.pop(0) if self._faults else None

    def accepts(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(
            token.encode(), self.token.encode()
        )


def _postmark_error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"ErrorCode": code, "Message": message}, status_code=status)


def _recipients(value: Any) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return []
    return [address for _, address in getaddresses([value]) if address] or [value]


def _check(message: Any) -> tuple[int, str] | None:
    """Postmark's verdict on one message: (ErrorCode, Message), or None if OK."""
    if not isinstance(message, dict):
        return 403, "Incompatible JSON: each message must be an object."
    sender = _recipients(message.get("From"))
    if len(sender) != 1 or not _ADDRESS.fullmatch(sender[0]):
        return 300, f"Invalid 'From' address: '{message.get('From') or ''}'."
    everyone: list[str] = []
    for name in ("To", "Cc", "Bcc"):
        for address in _recipients(message.get(name)):
            if not _ADDRESS.fullmatch(address):
                return 300, f"Invalid '{name}' address: '{address}'."
            everyone.append(address)
    if not _recipients(message.get("To")):
        return 300, "Zero recipients specified"
    if len(everyone) > MAX_RECIPIENTS:
        return 300, f"Maximum of {MAX_RECIPIENTS} recipients allowed."
    if not (message.get("HtmlBody") or message.get("TextBody")):
        return 300, "Provide either email TextBody or HtmlBody or both."
    inactive = [a for a in everyone if a.lower().endswith(INACTIVE_DOMAIN)]
    if inactive:
        return 406, (
            "You tried to send to recipient(s) that have been marked as inactive. "
            f"Found inactive addresses: {', '.join(inactive)}. Inactive recipients "
            "are ones that have generated a hard bounce, a spam complaint, or a "
            "manual suppression."
        )
    return None


def _store(outbox: Outbox, message: dict[str, Any]) -> dict[str, Any]:
    def text(name: str) -> str:
        value = message.get(name)
        return value if isinstance(value, str) else ""

    metadata = message.get("Metadata")
    headers = message.get("Headers")
    email = StoredEmail(
        id=str(uuid.uuid4()),
        submitted_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
        sender=text("From"),
        to=text("To"),
        cc=text("Cc"),
        bcc=text("Bcc"),
        reply_to=text("ReplyTo"),
        subject=text("Subject"),
        html_body=text("HtmlBody"),
        text_body=text("TextBody"),
        tag=message.get("Tag") if isinstance(message.get("Tag"), str) else None,
        metadata=metadata if isinstance(metadata, dict) else {},
        message_stream=text("MessageStream") or None,
        headers=headers if isinstance(headers, list) else [],
    )
    outbox.add(email)
    return {
        "To": email.to,
        "SubmittedAt": email.submitted_at,
        "MessageID": email.id,
        "ErrorCode": 0,
        "Message": "OK",
    }


async def _authorised_body(outbox: Outbox, request: Request) -> Any:
    """The request's JSON, or the Response Postmark would give instead."""
    token = request.headers.get(TOKEN_HEADER)
    if not token:
        return _postmark_error(
            401,
            10,
            "No Account or Server API tokens were supplied in the HTTP headers. "
            f"Please add a header for either {TOKEN_HEADER} or "
            "X-Postmark-Account-Token.",
        )
    if not outbox.accepts(token):
        return _postmark_error(
            401,
            10,
            f"The Server Token you provided in the {TOKEN_HEADER} request header "
            "was invalid. Please verify that you are using a valid token.",
        )
    fault = outbox.take_fault()
    if fault is not None:
        return _postmark_error(fault, 100, f"Outbox fault: answering {fault}.")
    try:
        return json.loads(await request.body())
    except ValueError:
        return _postmark_error(422, 402, "Received invalid JSON input.")


def create_app(outbox: Outbox) -> Starlette:
    async def send_email(request: Request) -> Response:
        message = await _authorised_body(outbox, request)
        if isinstance(message, Response):
            return message
        problem = _check(message)
        if problem is not None:
            return _postmark_error(422, *problem)
        return JSONResponse(_store(outbox, message))

    async def send_batch(request: Request) -> Response:
        messages = await _authorised_body(outbox, request)
        if isinstance(messages, Response):
            return messages
        if not isinstance(messages, list):
            return _postmark_error(422, 403, "Incompatible JSON: expected an array.")
        if len(messages) > MAX_BATCH:
            return _postmark_error(
                422, 300, f"Maximum of {MAX_BATCH} messages per batch."
            )
        answers = []
        for message in messages:
            problem = _check(message)
            if problem is None:
                answers.append(_store(outbox, message))
            else:
                answers.append({"ErrorCode": problem[0], "Message": problem[1]})
        return JSONResponse(answers)

    async def list_emails(request: Request) -> Response:
        to = request.query_params.get("to", "").lower()
        tag = request.query_params.get("tag")
        emails = [
            email.summary()
            for email in outbox.emails()
            if (not to or to in email.to.lower()) and (tag is None or email.tag == tag)
        ]
        return JSONResponse({"emails": emails, "count": len(emails)})

    async def clear_emails(request: Request) -> Response:
        outbox.clear()
        return Response(status_code=204)

    async def one_email(request: Request) -> Response:
        match = _ID_FILE.fullmatch(request.path_params["name"])
        email = outbox.get(match["id"]) if match else None
        if email is None or match is None:
            return JSONResponse({"message": "no such email"}, status_code=404)
        if match["suffix"] == ".html":
            return HTMLResponse(email.html_body, headers=SAFE_HEADERS)
        if match["suffix"] == ".txt":
            return PlainTextResponse(email.text_body, headers=SAFE_HEADERS)
        return JSONResponse(email.document())

    async def faults(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
            status, count = int(body["status"]), int(body.get("count", 1))
        except (ValueError, KeyError, TypeError):
            return JSONResponse(
                {"message": 'send {"status": 503, "count": 1}'}, status_code=400
            )
        if not 400 <= status <= 599 or not 1 <= count <= 100:
            return JSONResponse(
                {"message": "status 400-599, count 1-100"}, status_code=400
            )
        outbox.fail_next(status, count)
        return JSONResponse({"status": status, "count": count})

    async def index(request: Request) -> Response:
        rows = "".join(
            "<tr>"
            f"<td>{html.escape(email.submitted_at)}</td>"
            f"<td>{html.escape(email.to)}</td>"
            f'<td><a href="{html.escape(email.summary()["html"])}">'
            f"{html.escape(email.subject or '(no subject)')}</a></td>"
            f'<td><a href="{html.escape(email.summary()["text"])}">text</a></td>'
            f"<td>{html.escape(email.tag or '')}</td>"
            "</tr>"
            for email in outbox.emails()
        )
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>Local Postmark outbox</title></head>"
            '<body style="font-family: sans-serif;">'
            f"<h1>Outbox: {len(outbox.emails())} email(s)</h1>"
            '<table cellpadding="4"><tr><th>submitted</th><th>to</th>'
            f"<th>subject</th><th></th><th>tag</th></tr>{rows}</table>"
            "<p>JSON: <code>GET /outbox/emails</code>; clear: "
            "<code>DELETE /outbox/emails</code>.</p></body></html>"
        )
        return HTMLResponse(page, headers=SAFE_HEADERS)

    return Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/email", send_email, methods=["POST"]),
            Route("/email/batch", send_batch, methods=["POST"]),
            Route("/outbox/emails", list_emails, methods=["GET"]),
            Route("/outbox/emails", clear_emails, methods=["DELETE"]),
            Route("/outbox/emails/{name}", one_email, methods=["GET"]),
            Route("/outbox/faults", faults, methods=["POST"]),
        ]
    )
