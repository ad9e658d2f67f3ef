"""A local, Postmark-compatible outbox: functions send to it exactly as to Postmark
(`POSTMARK_API_URL`), and developers read what was sent in a browser or as JSON."""

from local.outbox.app import Outbox, StoredEmail, create_app, token_from_secret
from local.outbox.server import OutboxServer

__all__ = ["Outbox", "OutboxServer", "StoredEmail", "create_app", "token_from_secret"]
