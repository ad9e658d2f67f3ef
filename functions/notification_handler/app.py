"""Notification Handler: emails a bid's outcome, or asks a user to link eBay again.

Invoked asynchronously by the Bid Executor and Token Refresh (`sniper.notify`).
Its answer says whether an email went out and why (never to whom). A raised error
means "try again later": Lambda retries twice, then hands the event to the
failure queue; every other outcome, a refusal included, is an answer.
"""

from sniper import init_phase  # first: init runs without GC pauses

# isort: split

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from sniper.composition_notifications import notifier
from sniper.models.notifications import (
    NotificationOutcome,
    NotificationResult,
    parse_notification,
)
from sniper.observability import logger, metrics, tracer_for

tracer = tracer_for("botocore", "requests")


def _fields(error: ValidationError) -> list[str]:
    """The invalid fields' names: pydantic's message would quote the values."""
    return sorted({".".join(str(part) for part in e["loc"]) for e in error.errors()})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        notification = parse_notification(event if isinstance(event, dict) else {})
    except ValidationError as error:
        # Retrying a malformed event cannot help: answered, not raised.
        logger.error("not a notification event", extra={"invalid": _fields(error)})
        result = NotificationResult(
            sent=False, reason=NotificationOutcome.INVALID_EVENT
        )
    else:
        logger.append_keys(
            kind=notification.kind.value,
            userId=notification.userId,
            bidId=getattr(notification, "bidId", None),
        )
        result = notifier()(notification, context)
    name = (
        "NotificationDuplicate"
        if result.duplicate
        else "EmailSent"
        if result.sent
        else "EmailNotSent"
    )
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
    return result.model_dump(mode="json", exclude_none=True)


init_phase.finished()  # last: init is over
