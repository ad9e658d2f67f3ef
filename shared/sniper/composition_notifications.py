"""The Notification Handler's objects, built once per container on first use.

Apart from `sniper.composition` so the notifier imports neither the eBay client nor
KMS, and each builder imports its own parts (the handler's import loads none of
them); nothing here reads a secret or calls AWS when built, except the idempotency
store's client, created (without a call) on the first invocation. postmarker is
imported with the sender, on the first send (in Lambda the function's Tracer has
imported requests, which it sends with, to patch it). Tests call `reset()` beside
`composition.reset()`.
"""

from __future__ import annotations

import os
from functools import cache
from typing import TYPE_CHECKING

from sniper.settings import MissingSettingError, table_names

if TYPE_CHECKING:
    from sniper.email.postmark import PostmarkSender
    from sniper.services.notifications import IdempotentNotifier, NotificationService

IDEMPOTENCY_TABLE_VARIABLE = "IDEMPOTENCY_TABLE"


def idempotency_table() -> str:
    value = os.environ.get(IDEMPOTENCY_TABLE_VARIABLE, "").strip()
    if not value:
        raise MissingSettingError(IDEMPOTENCY_TABLE_VARIABLE, "the Idempotency table")
    return value


@cache
def email_sender() -> PostmarkSender:
    """The token is read on the first send, through Parameters' cache."""
    from sniper.email.postmark import PostmarkSender, PostmarkSettings

    return PostmarkSender(PostmarkSettings.from_environ())


@cache
def notification_service() -> NotificationService:
    from sniper.repositories.bid_history import BidHistoryRepository
    from sniper.repositories.bids import BidRepository
    from sniper.repositories.users import UsersRepository
    from sniper.services.notifications import NotificationService

    tables = table_names()
    return NotificationService(
        profiles=UsersRepository(tables.users),
        # Only `get` is used: the history repository is never touched.
        bids=BidRepository(tables.bids, BidHistoryRepository(tables.bid_history)),
        sender=email_sender(),
    )


@cache
def notifier() -> IdempotentNotifier:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from sniper import aws
    from sniper.services.notifications import IdempotentNotifier

    persistence = DynamoDBPersistenceLayer(
        table_name=idempotency_table(), boto3_client=aws.dynamodb_client()
    )
    return IdempotentNotifier(notification_service(), persistence)


def reset() -> None:
    """Forget every built object; tests rebuild them against a fresh mock."""
    for builder in (email_sender, notification_service, notifier):
        builder.cache_clear()
