"""The daily token job: keep users' eBay links alive for the bids they set.

eBay refresh tokens live about eighteen months and cannot be renewed without the
user, so each user whose refresh token expires within the threshold is asked, once
per token, to link eBay again.

The job also refreshes ahead of time the access tokens of users with PENDING bids
ending before the next run (plus a margin). The executor refreshes just in time
anyway, so this rarely saves a snipe a round trip to eBay; what it buys is a day's
notice: a refresh token eBay refuses (revoked, password changed, app removed) shows
up now instead of seconds before the auction ends. The link is then marked as
needing a re-link (`UserTokenProvider` does that on eBay's refusal) and the user is
asked to re-link while the auction still runs.

One user's failure never stops the others: it is logged (never a token) and counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

from sniper.clock import Clock, SystemClock
from sniper.ebay import EbayError
from sniper.errors import EbayNotLinkedError, EbayRelinkRequiredError
from sniper.models.snipe import RelinkReminderEvent
from sniper.models.statuses import BidStatus
from sniper.models.token_refresh import TokenRefreshResult
from sniper.observability import logger
from sniper.repositories.bids import InFlightBid
from sniper.repositories.ebay_links import ExpiringLink, StoredEbayLink

DAY_SECONDS = 86_400
DEFAULT_THRESHOLD_DAYS = 7
# The next daily run, plus two hours: a late or retried run still covers every bid.
BID_WINDOW_SECONDS = 26 * 3_600


class ExpiringLinks(Protocol):
    def expiring(self, since: int, until: int) -> Iterable[ExpiringLink]: ...

    def mark_relink_reminded(
        self, user_id: str, refresh_token_expires_at: int, now: int
    ) -> bool: ...

    def clear_relink_reminder(
        self, user_id: str, refresh_token_expires_at: int
    ) -> bool: ...


class PendingBids(Protocol):
    def in_flight(
        self, bucket: BidStatus, ends_before: int
    ) -> Iterable[InFlightBid]: ...


class AccessTokens(Protocol):
    def link_of(self, user_id: str) -> StoredEbayLink: ...

    def access_token(
        self, user_id: str, valid_until: float | None = None
    ) -> SecretStr: ...


class RelinkNotifier(Protocol):
    def send(self, event: RelinkReminderEvent) -> None: ...


@dataclass
class _Tally:
    users: set[str]
    reminders: int = 0
    refreshed: int = 0
    refused: int = 0
    failures: int = 0

    def result(self) -> TokenRefreshResult:
        return TokenRefreshResult(
            usersChecked=len(self.users),
            remindersSent=self.reminders,
            accessTokensRefreshed=self.refreshed,
            refused=self.refused,
            failures=self.failures,
        )


class TokenRefreshService:
    """One run of the daily job; safe to run twice (a retried event) or late."""

    def __init__(
        self,
        links: ExpiringLinks,
        bids: PendingBids,
        tokens: AccessTokens,
        notifier: RelinkNotifier,
        *,
        threshold_days: int = DEFAULT_THRESHOLD_DAYS,
        bid_window_seconds: int = BID_WINDOW_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        self.links = links
        self.bids = bids
        self.tokens = tokens
        self.notifier = notifier
        self.threshold_seconds = threshold_days * DAY_SECONDS
        self.bid_window_seconds = bid_window_seconds
        self.clock = clock or SystemClock()

    def run(self) -> TokenRefreshResult:
        now = int(self.clock.now())
        tally = _Tally(users=set())
        for link in self.links.expiring(now, now + self.threshold_seconds):
            tally.users.add(link.user_id)
            with _isolated(link.user_id, "relink reminder", tally):
                self._remind(link.user_id, link.refresh_token_expires_at, now, tally)
        for user_id, until in sorted(self._upcoming(now).items()):
            tally.users.add(user_id)
            with _isolated(user_id, "access token refresh", tally):
                self._refresh(user_id, until, now, tally)
        result = tally.result()
        # Keys naming a token are masked by the Logger: these say what they count.
        logger.info(
            "Token Refresh done",
            extra={
                "usersChecked": result.usersChecked,
                "remindersSent": result.remindersSent,
                "refreshed": result.accessTokensRefreshed,
                "refused": result.refused,
                "failures": result.failures,
            },
        )
        return result

    def _upcoming(self, now: int) -> dict[str, int]:
        """Each user with PENDING bids ending in the window: their latest end.

        A stored token that covers the latest end covers every bid of the user,
        and nothing needs doing; one that does not is refreshed. Bids whose end
        has passed are the sweeps' business, not ours.
        """
        latest: dict[str, int] = {}
        ends_before = now + self.bid_window_seconds
        for bid in self.bids.in_flight(BidStatus.PENDING, ends_before):
            if bid.auction_end_time > now:
                latest[bid.user_id] = max(
                    bid.auction_end_time, latest.get(bid.user_id, 0)
                )
        return latest

    def _refresh(self, user_id: str, until: int, now: int, tally: _Tally) -> None:
        """Ask for a token valid until `until`: unless the stored one lasts that
        long, eBay's refresh grant runs now, trying the refresh token a day
        before the snipe needs it."""
        try:
            before = self.tokens.link_of(user_id)
        except EbayNotLinkedError:
            logger.info("Pending bids but no eBay link", extra={"userId": user_id})
            return
        try:
            self.tokens.access_token(user_id, valid_until=until)
        except EbayRelinkRequiredError:
            tally.refused += 1
            logger.info("eBay link needs a re-link", extra={"userId": user_id})
            self._remind(user_id, before.refresh_token_expires_at, now, tally)
            return
        after = self.tokens.link_of(user_id)
        if after.access_token_expires_at != before.access_token_expires_at:
            tally.refreshed += 1

    def _remind(
        self, user_id: str, refresh_token_expires_at: int, now: int, tally: _Tally
    ) -> None:
        """Ask the user to re-link, once per refresh token.

        The mark is claimed before sending, so two runs at once (EventBridge may
        deliver a schedule twice) send one email; it is given back when the send
        fails, so the next run asks again.
        """
        if not self.links.mark_relink_reminded(user_id, refresh_token_expires_at, now):
            return
        event = RelinkReminderEvent(
            userId=user_id, refreshTokenExpiresAt=refresh_token_expires_at
        )
        try:
            self.notifier.send(event)
        except Exception:
            self.links.clear_relink_reminder(user_id, refresh_token_expires_at)
            raise
        tally.reminders += 1
        logger.info(
            "Re-link reminder sent",
            extra={"userId": user_id, "linkExpiresAt": refresh_token_expires_at},
        )


@contextmanager
def _isolated(user_id: str, task: str, tally: _Tally) -> Iterator[None]:
    """Count and log a user's failure instead of letting it end the run."""
    try:
        yield
    except Exception as error:  # the other users still get their turn
        tally.failures += 1
        logger.warning(
            "Token Refresh failed for a user",
            extra={"userId": user_id, "task": task, "error": _described(error)},
        )


def _described(error: Exception) -> str:
    """The error's type, and its message only where that is known to hold no
    token (eBay's errors are built that way); other messages may quote input."""
    if isinstance(error, EbayError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__
