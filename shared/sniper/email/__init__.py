"""Notification emails: rendering (`render`), the sender port (`message`) and its
Postmark adapter (`postmark`, imported only by the code that sends)."""

from sniper.email.message import (
    EmailRejected,
    EmailSender,
    EmailUnavailable,
    OutgoingEmail,
)

__all__ = ["EmailRejected", "EmailSender", "EmailUnavailable", "OutgoingEmail"]
