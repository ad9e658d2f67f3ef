"""Token Refresh's rules with fakes of our own interfaces; its settings; its query."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest
from boto3.dynamodb.conditions import ConditionExpressionBuilder
from pydantic import SecretStr

from sniper.composition_token_refresh import expiry_threshold_days
from sniper.models.snipe import RelinkReminderEvent
from sniper.models.statuses import BidStatus
from sniper.repositories.bids import InFlightBid
from sniper.repositories.ebay_links import ExpiringLink, StoredEbayLink, expiry_query
from sniper.services.token_refresh import BID_WINDOW_SECONDS, TokenRefreshService

NOW = 1_800_000_000


@dataclass
class FixedClock:
    def now(self) -> float:
        return NOW


@dataclass
class NoLinks:
    def expiring(self, since: int, until: int) -> Iterable[ExpiringLink]:
        return []

    def mark_relink_reminded(self, user_id: str, expires_at: int, now: int) -> bool:
        return True

    def clear_relink_reminder(self, user_id: str, expires_at: int) -> bool:
        return True


@dataclass
class Bids:
    bids: list[InFlightBid]
    asked: list[tuple[BidStatus, int]] = field(default_factory=list)

    def in_flight(self, bucket: BidStatus, ends_before: int) -> Iterable[InFlightBid]:
        self.asked.append((bucket, ends_before))
        return [b for b in self.bids if b.auction_end_time < ends_before]


@dataclass
class Tokens:
    asked: dict[str, float | None] = field(default_factory=dict)

    def link_of(self, user_id: str) -> StoredEbayLink:
        return StoredEbayLink(
            user_id=user_id,
            ebay_user_id="e",
            ebay_username="e",
            access_token_ciphertext=b"",
            access_token_expires_at=NOW + len(self.asked),
            refresh_token_ciphertext=b"",
            refresh_token_expires_at=NOW + 400 * 86_400,
            linked_at=NOW,
            updated_at=NOW,
        )

    def access_token(self, user_id: str, valid_until: float | None = None) -> SecretStr:
        self.asked[user_id] = valid_until
        return SecretStr("fresh")


@dataclass
class Silent:
    def send(self, event: RelinkReminderEvent) -> None:
        raise AssertionError("no reminder expected")


def pending(user_id: str, ends_at: int) -> InFlightBid:
    return InFlightBid(user_id, f"bid-{ends_at}", BidStatus.PENDING, ends_at)


def test_each_user_is_asked_for_a_token_lasting_until_their_latest_bid() -> None:
    bids = Bids(
        [
            pending("alice", NOW + 3_600),
            pending("alice", NOW + 20 * 3_600),
            pending("bob", NOW + 7_200),
            pending("stale", NOW - 60),  # ended: the sweeps' business
        ]
    )
    tokens = Tokens()

    result = TokenRefreshService(
        NoLinks(), bids, tokens, Silent(), clock=FixedClock()
    ).run()

    assert bids.asked == [(BidStatus.PENDING, NOW + BID_WINDOW_SECONDS)]
    assert tokens.asked == {"alice": NOW + 20 * 3_600, "bob": NOW + 7_200}
    assert result.usersChecked == 2


@pytest.mark.parametrize(("raw", "days"), [(None, 7), ("", 7), (" 14 ", 14), ("1", 1)])
def test_the_threshold_is_whole_days_seven_by_default(
    raw: str | None, days: int
) -> None:
    environ = {} if raw is None else {"TOKEN_EXPIRY_THRESHOLD": raw}

    assert expiry_threshold_days(environ) == days


@pytest.mark.parametrize("raw", ["0", "-3", "7.5", "seven", "366"])
def test_a_threshold_that_is_not_whole_days_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="TOKEN_EXPIRY_THRESHOLD"):
        expiry_threshold_days({"TOKEN_EXPIRY_THRESHOLD": raw})


def test_the_expiry_query_is_a_key_condition_on_the_sparse_index() -> None:
    query = expiry_query(NOW, NOW + 7 * 86_400, 500)
    built = ConditionExpressionBuilder().build_expression(
        query["KeyConditionExpression"], is_key_condition=True
    )

    assert query["IndexName"] == "RefreshTokenExpiryIndex"
    assert set(query) == {"IndexName", "KeyConditionExpression", "Limit"}
    assert built.condition_expression == "(#n0 = :v0 AND #n1 BETWEEN :v1 AND :v2)"
    assert built.attribute_name_placeholders == {
        "#n0": "refreshBucket",
        "#n1": "refreshTokenExpiresAt",
    }
    assert built.attribute_value_placeholders == {
        ":v0": "EBAY",
        ":v1": NOW,
        ":v2": NOW + 7 * 86_400,
    }
