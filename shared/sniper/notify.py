"""Telling the Notification Handler something happened: an asynchronous invoke.

`InvocationType=Event` returns as soon as Lambda queued the event, so a slow or
failing email never delays a snipe; Lambda's async retries and the handler's own
idempotency take care of delivery.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from pydantic import BaseModel

from sniper import aws
from sniper.models.snipe import BidNotificationEvent, RelinkReminderEvent
from sniper.settings import MissingSettingError

FUNCTION_VARIABLE = "NOTIFICATION_FUNCTION_NAME"


def notification_function() -> str:
    value = os.environ.get(FUNCTION_VARIABLE, "").strip()
    if not value:
        raise MissingSettingError(FUNCTION_VARIABLE, "the Notification Handler")
    return value


class LambdaNotifier:
    """Queues notification events for the Notification Handler."""

    def __init__(self, function: Callable[[], str] = notification_function) -> None:
        self._function = function

    def send(self, event: BidNotificationEvent | RelinkReminderEvent) -> None:
        self._invoke(event)

    def _invoke(self, event: BaseModel) -> None:
        aws.lambda_client().invoke(
            FunctionName=self._function(),
            InvocationType="Event",
            Payload=event.model_dump_json(exclude_none=True).encode(),
        )
