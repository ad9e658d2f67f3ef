"""Schedule expressions: parsing and when they fire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from local.stack.expressions import At, Cron, ExpressionError, Rate, parse

UTC = UTC


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_at_in_utc_and_in_a_time_zone() -> None:
    in_utc = parse("at(2026-03-11T10:21:00)")
    in_berlin = parse("at(2026-03-11T10:21:00)", "Europe/Berlin")

    assert in_utc == At(utc(2026, 3, 11, 10, 21))
    assert isinstance(in_berlin, At)
    assert in_berlin.when == utc(2026, 3, 11, 9, 21)


def test_at_is_due_once() -> None:
    at = parse("at(2026-03-11T10:21:00)")
    assert isinstance(at, At)

    assert at.next_after(utc(2026, 3, 11, 10, 20, 59)) == utc(2026, 3, 11, 10, 21)
    assert at.next_after(utc(2026, 3, 11, 10, 21)) is None


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [
        ("rate(1 minute)", 60),
        ("rate(5 minutes)", 300),
        ("rate(2 hours)", 7200),
        ("rate(1 day)", 86400),
    ],
)
def test_rates(expression: str, seconds: int) -> None:
    assert parse(expression) == Rate(seconds)


def test_rate_cadence_from_its_anchor() -> None:
    rate = Rate(60)
    anchor = utc(2026, 1, 1, 0, 0, 0)

    assert rate.next_after(anchor, anchor) == utc(2026, 1, 1, 0, 1)
    assert rate.next_after(utc(2026, 1, 1, 0, 0, 59), anchor) == utc(2026, 1, 1, 0, 1)
    assert rate.next_after(utc(2026, 1, 1, 0, 1), anchor) == utc(2026, 1, 1, 0, 2)
    assert rate.next_after(utc(2026, 1, 1, 0, 30, 5), anchor) == utc(2026, 1, 1, 0, 31)


def cron(expression: str, tz: str | None = None) -> Cron:
    parsed = parse(expression, tz)
    assert isinstance(parsed, Cron)
    return parsed


def test_daily_cron() -> None:
    daily = cron("cron(0 3 * * ? *)")

    assert daily.next_after(utc(2026, 5, 1, 2, 0)) == utc(2026, 5, 1, 3, 0)
    assert daily.next_after(utc(2026, 5, 1, 3, 0)) == utc(2026, 5, 2, 3, 0)


def test_cron_steps_ranges_lists_and_names() -> None:
    quarter = cron("cron(0/15 9-17 ? * MON-FRI *)")
    monthly = cron("cron(30 8 1,15 JAN,JUL ? *)")

    assert quarter.next_after(utc(2026, 11, 27, 17, 50)) == utc(
        2026, 11, 30, 9, 0
    )  # Fri→Mon
    assert quarter.next_after(utc(2026, 11, 30, 9, 0)) == utc(2026, 11, 30, 9, 15)
    assert monthly.next_after(utc(2026, 1, 15, 9, 0)) == utc(2026, 7, 1, 8, 30)


def test_cron_last_weekday_and_nth_weekday() -> None:
    last_day = cron("cron(0 0 L * ? *)")
    last_friday = cron("cron(0 0 ? * 6L *)")
    second_tuesday = cron("cron(0 0 ? * 3#2 *)")
    nearest_weekday = cron("cron(0 0 15W * ? *)")

    assert last_day.next_after(utc(2026, 2, 1)) == utc(2026, 2, 28)
    assert last_friday.next_after(utc(2026, 11, 1)) == utc(2026, 11, 27)
    assert second_tuesday.next_after(utc(2026, 11, 1)) == utc(2026, 11, 10)
    # 15 Nov 2026 is a Sunday: the nearest weekday is Monday the 16th.
    assert nearest_weekday.next_after(utc(2026, 11, 1)) == utc(2026, 11, 16)


def test_cron_in_a_time_zone_and_with_years() -> None:
    berlin = cron("cron(0 9 * * ? *)", "Europe/Berlin")
    once = cron("cron(0 0 1 1 ? 2027)")

    assert berlin.next_after(utc(2026, 7, 1, 0, 0)) == utc(2026, 7, 1, 7, 0)
    assert once.next_after(utc(2026, 6, 1)) == utc(2027, 1, 1)
    assert once.next_after(utc(2027, 1, 1) + timedelta(minutes=1)) is None


@pytest.mark.parametrize(
    "expression",
    [
        "at(not-a-date)",
        "at(2026-02-30T10:00:00)",
        "rate(0 minutes)",
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(5 weeks)",
        "cron(0 3 * * *)",
        "cron(0 3 * * * *)",
        "cron(0 3 ? * ? *)",
        "cron(61 3 * * ? *)",
        "every day",
    ],
)
def test_invalid_expressions(expression: str) -> None:
    with pytest.raises(ExpressionError):
        parse(expression)


def test_unknown_time_zone() -> None:
    with pytest.raises(ExpressionError, match="Mars"):
        parse("at(2026-01-01T00:00:00)", "Mars/Olympus")
