"""call_with_retries: transient errors are retried until the deadline, never
past it; permanent errors are not retried."""

from __future__ import annotations

import pytest
from ebay_test_support import FakeClock

from sniper.ebay import (
    EbayBidRejected,
    EbayDeadlineExceeded,
    EbayRateLimited,
    EbayTimeout,
    EbayTransientError,
    call_with_retries,
)


class Flaky:
    """Fails with the given errors, in order, then answers "ok"; each call
    takes ``duration`` seconds of the fake clock."""

    def __init__(
        self, clock: FakeClock, errors: list[Exception], duration: float = 0.1
    ) -> None:
        self.clock = clock
        self.errors = list(errors)
        self.duration = duration
        self.time_left_seen: list[float] = []

    def __call__(self, time_left: float) -> str:
        self.time_left_seen.append(time_left)
        self.clock.advance(self.duration)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def _retry(fn: Flaky, clock: FakeClock, deadline: float) -> str:
    return call_with_retries(fn, deadline, clock=clock, sleep=clock.sleep)


def test_transient_errors_are_retried_with_growing_backoff(clock: FakeClock) -> None:
    fn = Flaky(clock, [EbayTimeout("slow", phase="read"), EbayTransientError("500")])
    assert _retry(fn, clock, deadline=clock.now + 10) == "ok"
    assert clock.slept == [0.2, 0.4]
    assert len(fn.time_left_seen) == 3


def test_each_try_learns_how_much_time_is_left(clock: FakeClock) -> None:
    fn = Flaky(clock, [EbayTransientError("500")], duration=1.0)
    _retry(fn, clock, deadline=clock.now + 5)
    assert fn.time_left_seen == [5.0, pytest.approx(3.8)]


def test_retry_after_is_honoured(clock: FakeClock) -> None:
    fn = Flaky(clock, [EbayRateLimited("429", retry_after=1.5)])
    assert _retry(fn, clock, deadline=clock.now + 10) == "ok"
    assert clock.slept == [1.5]


def test_a_wait_past_the_deadline_is_not_taken(clock: FakeClock) -> None:
    deadline = clock.now + 3
    limited = EbayRateLimited("429", retry_after=5)
    fn = Flaky(clock, [limited])
    with pytest.raises(EbayRateLimited) as caught:
        _retry(fn, clock, deadline)
    assert caught.value is limited
    assert clock.slept == []
    assert clock.now < deadline


def test_retries_stop_before_the_deadline(clock: FakeClock) -> None:
    deadline = clock.now + 2
    fn = Flaky(clock, [EbayTransientError("500")] * 50, duration=0.3)
    with pytest.raises(EbayTransientError):
        _retry(fn, clock, deadline)
    assert clock.now <= deadline
    assert 2 <= len(fn.time_left_seen) < 50


def test_permanent_errors_are_raised_at_once(clock: FakeClock) -> None:
    fn = Flaky(clock, [EbayBidRejected("too low", error_id=120008)])
    with pytest.raises(EbayBidRejected):
        _retry(fn, clock, deadline=clock.now + 10)
    assert len(fn.time_left_seen) == 1 and clock.slept == []


def test_a_passed_deadline_makes_no_call(clock: FakeClock) -> None:
    fn = Flaky(clock, [])
    with pytest.raises(EbayDeadlineExceeded):
        _retry(fn, clock, deadline=clock.now - 0.5)
    assert fn.time_left_seen == []


def test_attempts_can_be_capped(clock: FakeClock) -> None:
    fn = Flaky(clock, [EbayTransientError("500")] * 5)
    with pytest.raises(EbayTransientError):
        call_with_retries(
            fn, clock.now + 60, clock=clock, sleep=clock.sleep, max_attempts=2
        )
    assert len(fn.time_left_seen) == 2
