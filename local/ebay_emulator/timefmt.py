"""eBay's time formats: UTC timestamps with milliseconds and ISO 8601 durations."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def format_timestamp(instant: float) -> str:
    """`yyyy-MM-ddThh:mm:ss.sssZ`, the form every eBay API answers with."""
    moment = datetime.fromtimestamp(instant, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(text: str) -> float:
    """Read an ISO 8601 instant; a missing offset means UTC, as on eBay."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def round_to_millis(instant: float) -> float:
    """Keep instants at millisecond precision, the precision eBay publishes."""
    return math.floor(instant * 1000) / 1000


def format_duration(seconds: float) -> str:
    """An ISO 8601 duration such as `P2DT3H4M5S`; `PT0S` once nothing is left."""
    remaining = max(0, math.floor(seconds))
    days, remaining = divmod(remaining, 86_400)
    hours, remaining = divmod(remaining, 3_600)
    minutes, secs = divmod(remaining, 60)
    date_part = f"{days}D" if days else ""
    time_part = "".join(
        f"{count}{unit}" for count, unit in ((hours, "H"), (minutes, "M")) if count
    )
    if secs or not (days or hours or minutes):
        time_part += f"{secs}S"
    return f"P{date_part}T{time_part}" if time_part else f"P{date_part}"
