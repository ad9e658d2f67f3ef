"""Sending through Postmark with postmarker: settings, the server token, and what
Postmark's answers mean for a retry.

- The server token lives in Secrets Manager (`POSTMARK_SECRET_ARN`) as JSON
  `{"serverToken": "..."}`; a secret holding only the token is accepted too. It is
  read through Powertools Parameters (cached five minutes, so a rotated token is
  picked up without a cold start) on first send, never at import or build time.
- The sender is `EMAIL_FROM`; the API is `POSTMARK_API_URL` (Postmark's by default;
  the local stack points it at its outbox).
- Postmark's answers, classified (https://postmarkapp.com/developer/api/overview):
  a refusal of this one message (ErrorCode 300 invalid request or address, 406
  inactive recipient, other 4xx about the message) raises `EmailRejected`: sending
  it again would only be refused again. A server-side failure (5xx), rate limiting
  (429), a timeout or no connection, and a server or account that cannot send at
  all (ErrorCode 10 bad token, 400/401 sender signature missing or unconfirmed,
  405/412/413 account not allowed to send) raise `EmailUnavailable`: Lambda retries,
  and what still fails lands in the failure queue, to be replayed once fixed.
- Postmark's own message text often quotes the address ("Found inactive addresses:
  ..."): it is never copied into an error, a log line or a result. The token never
  leaves this module (postmarker's client prints it in its `repr`: the client is
  never logged).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from postmarker.core import PostmarkClient
from postmarker.exceptions import ClientError

from sniper.email.message import EmailRejected, EmailUnavailable, OutgoingEmail
from sniper.settings import MissingSettingError

DEFAULT_API_URL = "https://api.postmarkapp.com/"
SECRET_VARIABLE = "POSTMARK_SECRET_ARN"  # noqa: S105 - a variable name
SENDER_VARIABLE = "EMAIL_FROM"
API_URL_VARIABLE = "POSTMARK_API_URL"
SECRET_MAX_AGE_SECONDS = 300
PLACEHOLDER = "REPLACE_ME"
# Connect, read: well inside the function's 30 s, so a hung Postmark is retried by
# Lambda rather than timing the invocation out.
TIMEOUT_SECONDS = (3.05, 10.0)
MESSAGE_STREAM = "outbound"

RECIPIENT_CODES = frozenset({300, 406})
# The server or account cannot send anything: a configuration problem, not this
# message's; retried, then kept in the failure queue for a replay.
ACCOUNT_CODES = frozenset({10, 400, 401, 405, 412, 413})


class PostmarkConfigError(EmailUnavailable):
    """The Postmark secret is missing, unreadable or still the placeholder."""


@dataclass(frozen=True)
class PostmarkSettings:
    secret_arn: str
    sender: str
    api_url: str = DEFAULT_API_URL

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> PostmarkSettings:
        env = os.environ if environ is None else environ

        def required(name: str, purpose: str) -> str:
            value = env.get(name, "").strip()
            if not value:
                raise MissingSettingError(name, purpose)
            return value

        api_url = env.get(API_URL_VARIABLE, "").strip() or DEFAULT_API_URL
        return cls(
            secret_arn=required(SECRET_VARIABLE, "the Postmark server token's secret"),
            sender=required(SENDER_VARIABLE, "the sender of notification emails"),
            # postmarker joins "email" to the root: keep the trailing slash.
            api_url=api_url.rstrip("/") + "/",
        )


def server_token_from_secret(value: Any) -> str:
    """The token from the secret's value: `{"serverToken": "..."}` or the token
    itself. Errors name the problem, never the value."""
    if not isinstance(value, str) or not value.strip():
        raise PostmarkConfigError("the Postmark secret is empty")
    text = value.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise PostmarkConfigError("the Postmark secret is not valid JSON") from None
        token = document.get("serverToken") if isinstance(document, dict) else None
        if not isinstance(token, str) or not token.strip():
            raise PostmarkConfigError(
                'the Postmark secret lacks "serverToken" (expected '
                '{"serverToken": "<server API token>"})'
            )
        text = token.strip()
    if text == PLACEHOLDER:
        raise PostmarkConfigError(
            "the Postmark secret still holds the template's placeholder: put the "
            "server token in it (aws secretsmanager put-secret-value)"
        )
    return text


def load_server_token(secret_arn: str) -> str:
    """Read the token through Powertools Parameters, cached five minutes."""
    # Imported here: Parameters pulls in boto3, which importing this module should
    # not pay for.
    from aws_lambda_powertools.utilities import parameters

    try:
        value = parameters.get_secret(secret_arn, max_age=SECRET_MAX_AGE_SECONDS)
    except parameters.GetParameterError:
        raise PostmarkConfigError(
            f"cannot read the Postmark secret {secret_arn}"
        ) from None
    return server_token_from_secret(value)


def _status_of(error: BaseException) -> int | None:
    cause = error if isinstance(error, requests.HTTPError) else error.__cause__
    response = getattr(cause, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def classify(status: int | None, error_code: int | None) -> Exception:
    """The exception Postmark's refusal stands for (see the module's docstring)."""
    if status is not None and (status >= 500 or status == 429):
        return EmailUnavailable(f"Postmark answered HTTP {status}: try again later")
    if error_code in ACCOUNT_CODES or status == 401:
        return EmailUnavailable(
            f"Postmark cannot send for this server (HTTP {status}, ErrorCode "
            f"{error_code}): check the server token and the sender signature"
        )
    return EmailRejected(
        status=status, error_code=error_code, recipient=error_code in RECIPIENT_CODES
    )


class PostmarkSender:
    """`EmailSender` through Postmark's `POST /email`."""

    def __init__(
        self,
        settings: PostmarkSettings,
        token: Callable[[], str] | None = None,
    ) -> None:
        self.settings = settings
        self._token = token or (lambda: load_server_token(settings.secret_arn))
        self._client: PostmarkClient | None = None
        self._client_token: str | None = None

    def _postmark(self) -> PostmarkClient:
        """One client (one connection pool) per token; a rotated token, a new one."""
        token = self._token()
        if self._client is None or self._client_token != token:
            self._client = PostmarkClient(
                server_token=token,
                root_api_url=self.settings.api_url,
                timeout=TIMEOUT_SECONDS,
            )
            self._client_token = token
        return self._client

    def send(self, email: OutgoingEmail) -> str:
        client = self._postmark()
        try:
            answer = client.emails.send(
                From=self.settings.sender,
                To=email.to,
                Subject=email.subject,
                HtmlBody=email.html_body,
                TextBody=email.text_body,
                Tag=email.tag,
                Metadata=dict(email.metadata) or None,
                TrackOpens=False,
                TrackLinks="None",
                MessageStream=MESSAGE_STREAM,
            )
        except ClientError as error:
            raise classify(_status_of(error), error.error_code) from None
        except requests.HTTPError as error:
            raise classify(_status_of(error), None) from None
        except (requests.JSONDecodeError, KeyError, TypeError):
            # A body that is not Postmark's JSON (a proxy's page): nothing says the
            # message was refused, so it is tried again.
            raise EmailUnavailable("Postmark's answer was not understood") from None
        except requests.RequestException as error:
            raise EmailUnavailable(
                f"Postmark could not be reached ({type(error).__name__})"
            ) from None
        if not isinstance(answer, dict):
            raise EmailUnavailable("Postmark's answer was not a JSON object")
        code = answer.get("ErrorCode", 0)
        if code not in (0, None):
            raise classify(200, code if isinstance(code, int) else None)
        return str(answer.get("MessageID") or "")
