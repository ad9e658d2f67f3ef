"""One outgoing email, the port that sends it, and the two ways sending fails.

The address is kept out of `repr()` and out of every error message: an email
printed in a log line or a traceback must not reveal who it was for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutgoingEmail:
    """A rendered email, ready for any sender."""

    to: str = field(repr=False)
    subject: str
    html_body: str = field(repr=False)
    text_body: str = field(repr=False)
    tag: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


class EmailRejected(Exception):
    """The email service refused this message for good: sending it again would be
    refused again, so the caller reports it instead of retrying."""

    def __init__(
        self, *, status: int | None, error_code: int | None, recipient: bool
    ) -> None:
        super().__init__(
            f"the email was refused (HTTP {status}, ErrorCode {error_code})"
        )
        self.status = status
        self.error_code = error_code
        self.recipient = recipient


class EmailUnavailable(Exception):
    """The email service failed or could not be reached, or is not set up to send:
    worth trying again later (the message says why, without the address)."""


class EmailSender(Protocol):
    """Sends one email; answers the service's message id."""

    def send(self, email: OutgoingEmail) -> str: ...
