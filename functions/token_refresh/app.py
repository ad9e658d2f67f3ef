"""Token Refresh: the daily job that keeps users' eBay links alive.

Triggered by an EventBridge schedule; the event carries nothing the job needs
beyond its time. The rules are in `sniper.services.token_refresh`.
"""

from sniper import init_phase  # first: init runs without GC pauses

# isort: split

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.composition_token_refresh import token_refresh_service
from sniper.observability import logger, metrics, tracer_for

tracer = tracer_for("botocore", "httpx")


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_error=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.info("Token Refresh started", extra={"scheduledTime": event.get("time")})
    result = token_refresh_service().run()
    # Failures get a metric of their own, so an alarm can watch it.
    for name, value in (
        ("TokenRefreshUsersChecked", result.usersChecked),
        ("RelinkRemindersSent", result.remindersSent),
        ("AccessTokensRefreshed", result.accessTokensRefreshed),
        ("EbayLinksRefused", result.refused),
        ("TokenRefreshFailures", result.failures),
    ):
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    return result.model_dump()


init_phase.finished()  # last: init is over
