"""Logger, Tracer and Metrics configured once, with secrets masked in every log line.

Powertools' Logger has no redaction of its own; this formatter masks any value whose
key names a secret, wherever it sits in the structured record, so a token passed as
`extra` by mistake never reaches CloudWatch.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

MASK = "***"
_SECRET_KEY = re.compile(
    r"(token|secret|password|authorization|cookie|credential|api[_-]?key|^code$)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=^#|-]+", re.IGNORECASE)


def redact(value: Any, key: str = "") -> Any:
    """A copy of `value` with secret-looking entries masked."""
    if key and _SECRET_KEY.search(key) and value not in (None, ""):
        return MASK
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _BEARER.sub(r"\1 " + MASK, value)
    return value


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, masking secrets before serialising."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(redact(log))


# A request that records no business metric is normal, not worth a warning per call.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)

logger = Logger(logger_formatter=RedactingFormatter())
tracer = Tracer()
metrics = Metrics()
