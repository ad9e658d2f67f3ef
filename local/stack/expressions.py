"""Schedule expressions of EventBridge Scheduler and EventBridge rules.

- `at(yyyy-mm-ddThh:mm:ss)`: once, in the schedule's time zone.
- `rate(value unit)`: every `value` minutes, hours or days.
- `cron(minutes hours day-of-month month day-of-week year)`: AWS's six-field cron,
  with `*`, `?`, lists, ranges, steps, month and day names, `L` (last day of the
  month, or `5L` the last Thursday), `W` (nearest weekday) and `#` (`6#3`: the
  third Friday). Day-of-week counts 1 = SUN to 7 = SAT, as AWS does.

Times are timezone-aware datetimes; the caller passes `now`, so tests need no clock.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class ExpressionError(ValueError):
    """A schedule expression AWS would reject."""


_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name.upper(): i for i, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def zone(name: str | None) -> ZoneInfo | timezone:
    if not name or name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ExpressionError(f"unknown time zone {name!r}") from None


@dataclass(frozen=True)
class At:
    """A one-time schedule."""

    when: datetime

    def next_after(self, after: datetime) -> datetime | None:
        return self.when if self.when > after else None


@dataclass(frozen=True)
class Rate:
    """Every `seconds`, counted from an anchor (the start of the schedule)."""

    seconds: int

    def next_after(self, after: datetime, anchor: datetime) -> datetime:
        if after < anchor:
            return anchor + timedelta(seconds=self.seconds)
        periods = int((after - anchor).total_seconds() // self.seconds) + 1
        return anchor + timedelta(seconds=periods * self.seconds)


@dataclass(frozen=True)
class _Field:
    values: frozenset[int]
    any: bool = False


@dataclass(frozen=True)
class Cron:
    """AWS's six-field cron, evaluated in `tz`."""

    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: str
    months: frozenset[int]
    day_of_week: str
    years: frozenset[int] | None
    tz: ZoneInfo | timezone

    def next_after(self, after: datetime) -> datetime | None:
        """The first matching minute strictly after `after` (None: never again)."""
        local = after.astimezone(self.tz)
        day = local.date()
        for _ in range(366 * 5):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = datetime(
                            day.year, day.month, day.day, hour, minute, tzinfo=self.tz
                        )
                        if candidate > local:
                            return candidate.astimezone(UTC)
            day += timedelta(days=1)
        return None

    def _day_matches(self, day: date) -> bool:
        if self.years is not None and day.year not in self.years:
            return False
        if day.month not in self.months:
            return False
        if self.day_of_month != "?":
            return _day_of_month_matches(self.day_of_month, day)
        return _day_of_week_matches(self.day_of_week, day)


Expression = At | Rate | Cron


def parse(expression: str, timezone_name: str | None = None) -> Expression:
    """Parse an expression; `timezone_name` applies to `at()` and `cron()`."""
    text = expression.strip()
    tz = zone(timezone_name)
    if match := _AT.match(text):
        try:
            naive = datetime.fromisoformat(match.group(1))
        except ValueError:
            raise ExpressionError(f"{expression!r} is not a valid date") from None
        return At(naive.replace(tzinfo=tz).astimezone(UTC))
    if match := _RATE.match(text):
        value, unit = int(match.group(1)), match.group(2)
        if value <= 0:
            raise ExpressionError(f"{expression!r}: the rate must be positive")
        if (value == 1) != (not unit.endswith("s")):
            raise ExpressionError(
                f"{expression!r}: use the singular unit for 1 and the plural otherwise"
            )
        return Rate(value * _UNIT_SECONDS[unit.rstrip("s")])
    if match := _CRON.match(text):
        return _cron(match.group(1), tz, expression)
    raise ExpressionError(
        f"{expression!r} is not at(yyyy-mm-ddThh:mm:ss), rate(n unit) or cron(...)"
    )


def _cron(body: str, tz: ZoneInfo | timezone, expression: str) -> Cron:
    fields = body.split()
    if len(fields) != 6:
        raise ExpressionError(f"{expression!r}: cron needs six fields")
    minutes, hours, dom, months, dow, years = fields
    if (dom == "?") == (dow == "?"):
        raise ExpressionError(
            f"{expression!r}: exactly one of day-of-month and day-of-week must be ?"
        )
    try:
        cron = Cron(
            minutes=_values(minutes, 0, 59),
            hours=_values(hours, 0, 23),
            day_of_month=dom.upper(),
            months=_values(months, 1, 12, _MONTHS),
            day_of_week=dow.upper(),
            years=None if years == "*" else _values(years, 1970, 2199),
            tz=tz,
        )
        probe = date(2024, 1, 1)
        if dom != "?":
            _day_of_month_matches(cron.day_of_month, probe)
        else:
            _day_of_week_matches(cron.day_of_week, probe)
    except (ValueError, KeyError) as error:
        raise ExpressionError(f"{expression!r}: {error}") from None
    return cron


def _number(token: str, names: dict[str, int] | None) -> int:
    upper = token.upper()
    if names and upper in names:
        return names[upper]
    return int(token)


def _values(
    text: str, low: int, high: int, names: dict[str, int] | None = None
) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
            if step <= 0:
                raise ValueError(f"step {step} must be positive")
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = _number(first, names), _number(last, names)
        else:
            start = _number(part, names)
            end = high if step != 1 else start
        if not (low <= start <= high and low <= end <= high):
            raise ValueError(f"{part} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def _aws_weekday(day: date) -> int:
    """1 = Sunday ... 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _day_of_month_matches(field: str, day: date) -> bool:
    last = _last_day(day)
    if field == "L":
        return day.day == last
    if field.endswith("W"):
        target = min(int(field[:-1]), last)
        wanted = date(day.year, day.month, target)
        if (
            wanted.weekday() == 5
        ):  # Saturday: the Friday before, or Monday after the 1st
            wanted = wanted - timedelta(days=1) if target > 1 else wanted + timedelta(2)
        elif (
            wanted.weekday() == 6
        ):  # Sunday: the Monday after, or Friday before the last
            wanted = (
                wanted + timedelta(days=1) if target < last else wanted - timedelta(2)
            )
        return day == wanted
    return day.day in _values(field, 1, 31)


def _day_of_week_matches(field: str, day: date) -> bool:
    weekday = _aws_weekday(day)
    if "#" in field:
        name, nth = field.split("#", 1)
        return weekday == _number(name, _DAYS) and (day.day - 1) // 7 + 1 == int(nth)
    if field.endswith("L") and field != "L":
        wanted = _number(field[:-1], _DAYS)
        return weekday == wanted and day.day + 7 > _last_day(day)
    if field == "L":
        return weekday == 7
    return weekday in _values(field, 1, 7, _DAYS)
