"""eBay's ISO 8601 instants as Unix seconds.

eBay writes UTC instants as ``2025-03-11T10:21:00.000Z`` (REST and Trading alike);
the rest of the system compares Unix seconds, so the conversion lives here once.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime


def unix_seconds(value: str) -> int:
    """Whole Unix seconds of an ISO 8601 instant (fractions are dropped, so an
    end time never moves later than eBay's)."""
    try:
        instant = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not an ISO 8601 instant: {value!r}") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)  # eBay runs on UTC
    return math.floor(instant.timestamp())


def unix_seconds_or_none(value: object) -> int | None:
    """``unix_seconds`` for optional fields: absent or blank gives ``None``."""
    if not isinstance(value, str) or not value.strip():
        return None
    return unix_seconds(value)
