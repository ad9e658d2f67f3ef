"""The bound on eBay public-key lookups: anyone may POST a notice naming a new
key id, and each lookup spends the app's Notification API quota."""

from __future__ import annotations

import pytest
from ebay_test_support import FakeClock

from sniper.ebay import EbayPermanentError, EbayPublicKeyNotFound, NotificationPublicKey
from sniper.ebay.notification import (
    PUBLIC_KEY_CACHE_SECONDS,
    UNKNOWN_KEY_LOOKUPS_PER_MINUTE,
    PublicKeyCache,
    PublicKeyLookupRefused,
    RollingLimit,
)

KEY = NotificationPublicKey(algorithm="ECDSA", digest="SHA1", key_pem="pem")


def test_a_rolling_limit_allows_limit_events_in_any_window() -> None:
    clock = FakeClock()
    limit = RollingLimit(3, 60.0, clock=clock)

    assert [limit.acquire() for _ in range(4)] == [True, True, True, False]
    clock.advance(59.9)
    assert limit.acquire() is False
    clock.advance(0.1)  # the first three are a minute old
    assert [limit.acquire() for _ in range(4)] == [True, True, True, False]


def test_a_refusal_is_not_counted() -> None:
    clock = FakeClock()
    limit = RollingLimit(2, 10.0, clock=clock)
    limit.acquire()
    clock.advance(5)
    limit.acquire()

    for _ in range(50):
        assert limit.acquire() is False
    clock.advance(5)  # only the first event left the window

    assert [limit.acquire(), limit.acquire()] == [True, False]


@pytest.mark.parametrize(("limit", "window"), [(0, 60.0), (1, 0.0)])
def test_a_rolling_limit_needs_room(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="rolling limit"):
        RollingLimit(limit, window)


class Ebay:
    """getPublicKey: ``known`` ids answer KEY, others are not found."""

    def __init__(self, *known: str) -> None:
        self.known = set(known)
        self.asked: list[str] = []

    def fetch(self, key_id: str) -> NotificationPublicKey:
        self.asked.append(key_id)
        if key_id not in self.known:
            raise EbayPublicKeyNotFound("no such key", http_status=404)
        return KEY


def lookup(cache: PublicKeyCache, ebay: Ebay, key_id: str) -> NotificationPublicKey:
    return cache.get(key_id, lambda: ebay.fetch(key_id))


def test_forged_key_ids_beyond_the_bound_cost_no_call() -> None:
    clock = FakeClock()
    cache = PublicKeyCache(clock=clock)
    ebay = Ebay("real")
    assert lookup(cache, ebay, "real") == KEY
    flood = 5 * UNKNOWN_KEY_LOOKUPS_PER_MINUTE

    errors = []
    for index in range(flood):
        with pytest.raises(EbayPermanentError) as caught:
            lookup(cache, ebay, f"forged-{index}")
        errors.append(caught.value)

    assert len(ebay.asked) == UNKNOWN_KEY_LOOKUPS_PER_MINUTE
    refused = [e for e in errors if isinstance(e, PublicKeyLookupRefused)]
    assert len(refused) == flood - (UNKNOWN_KEY_LOOKUPS_PER_MINUTE - 1)
    assert all(isinstance(e, EbayPublicKeyNotFound) for e in errors[: -len(refused)])
    assert lookup(cache, ebay, "real") == KEY  # from the cache, no call
    assert len(ebay.asked) == UNKNOWN_KEY_LOOKUPS_PER_MINUTE


def test_a_refused_key_id_is_looked_up_once_the_minute_has_passed() -> None:
    clock = FakeClock()
    cache = PublicKeyCache(clock=clock, lookups=RollingLimit(1, 60.0, clock=clock))
    ebay = Ebay("new-real")
    with pytest.raises(EbayPublicKeyNotFound):
        lookup(cache, ebay, "forged")

    with pytest.raises(PublicKeyLookupRefused):
        lookup(cache, ebay, "new-real")
    clock.advance(60)

    assert lookup(cache, ebay, "new-real") == KEY
    assert ebay.asked == ["forged", "new-real"]


def test_a_real_key_past_its_hour_stays_in_use_while_lookups_are_held_back() -> None:
    clock = FakeClock()
    cache = PublicKeyCache(clock=clock, lookups=RollingLimit(2, 60.0, clock=clock))
    ebay = Ebay("real")
    lookup(cache, ebay, "real")
    clock.advance(PUBLIC_KEY_CACHE_SECONDS + 1)
    for forged in ("forged-1", "forged-2"):
        with pytest.raises(EbayPublicKeyNotFound):
            lookup(cache, ebay, forged)

    assert lookup(cache, ebay, "real") == KEY
    assert ebay.asked == ["real", "forged-1", "forged-2"]
    clock.advance(60)
    assert lookup(cache, ebay, "real") == KEY
    assert ebay.asked[-1] == "real"  # refreshed as soon as a lookup is allowed
