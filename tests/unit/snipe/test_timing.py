"""The executor's numbers come from the environment (tests and `make dev` shrink
them) and default to what the README's timeline and GB-seconds assume."""

from __future__ import annotations

import pytest

from sniper.snipe.timing import SnipeTiming


def test_defaults_are_the_documented_timeline() -> None:
    timing = SnipeTiming.from_environ({})

    end, lead = 1_000, 5
    target = timing.target_time(end, lead)
    assert timing.fire_at(end, lead) == end - lead - 90
    assert timing.warmup_at(target) == target - 2
    assert timing.commit_at(target) == pytest.approx(target - 0.2)
    assert timing.cutoff(end) == end - 1
    assert timing.outcome_deadline(end) == end + 60
    assert (timing.recheck_seconds, timing.bid_timeout_seconds) == (10, 2)
    # Outcome checks at end + 5, 10, 20, 40, 80, 160 minutes, then given up.
    assert timing.outcome_checks == 6
    assert [timing.outcome_check_at(end, n) - end for n in range(1, 7)] == [
        300 * 2**k for k in range(6)
    ]


def test_every_number_is_a_setting() -> None:
    timing = SnipeTiming.from_environ(
        {
            "SNIPE_WARMUP_SECONDS": "0.5",
            "SNIPE_COMMIT_AHEAD_SECONDS": "0.1",
            "BID_TIMEOUT_SECONDS": "0.6",
            "BID_RECHECK_SECONDS": "0.5",
            "OUTCOME_CHECK_ATTEMPTS": "2",
        }
    )

    assert (
        timing.warmup_seconds,
        timing.commit_ahead_seconds,
        timing.bid_timeout_seconds,
        timing.recheck_seconds,
        timing.outcome_checks,
    ) == (0.5, 0.1, 0.6, 0.5, 2)


def test_a_bad_number_fails_naming_its_variable() -> None:
    with pytest.raises(ValueError, match="BID_TIMEOUT_SECONDS"):
        SnipeTiming.from_environ({"BID_TIMEOUT_SECONDS": "soon"})
