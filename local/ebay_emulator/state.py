"""Everything the emulator knows, behind one lock.

uvicorn serves from its own thread while tests (and the admin API) change the same
state, so every method takes the lock; handlers that read several things at once
hold `state.lock` around the whole read.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from local.ebay_emulator import auction
from local.ebay_emulator.auction import (
    Bid,
    BidRefusal,
    BidRefused,
    Listing,
    ListingType,
)
from local.ebay_emulator.clock import Clock, ShiftedClock, SystemClock
from local.ebay_emulator.faults import FaultBook
from local.ebay_emulator.money import format_amount
from local.ebay_emulator.notifications import (
    NotificationSigner,
    SignedNotice,
    account_deletion_notice,
    sign_notice,
)
from local.ebay_emulator.oauth import Grant, OAuthApp, TokenStore
from local.ebay_emulator.scripted import (
    LateScriptError,
    ScriptBook,
    ScriptedBid,
    ScriptStatus,
    UnknownScriptError,
)
from local.ebay_emulator.timefmt import format_timestamp, round_to_millis

FIRST_ITEM_ID = 110_000_000_001
JOURNAL_SIZE = 1_000


class UnknownItemError(KeyError):
    """No listing with that id (legacy or RESTful)."""


class UnknownUserError(KeyError):
    """No eBay user with that username."""


@dataclass
class EbayUser:
    """An eBay member. `user_id` never changes; `username` may (as on eBay)."""

    username: str
    user_id: str
    feedback_score: int = 150
    feedback_percentage: str = "99.8"
    watch_list: list[str] = field(default_factory=list)


def immutable_user_id(username: str) -> str:
    """A stable opaque id, so a user re-created after a reset keeps their id."""
    digest = hashlib.sha256(username.encode()).digest()
    return base64.b32encode(digest[:10]).decode().lower()


def legacy_id(item_id: str) -> str:
    """Accept `123` or the RESTful `v1|123|0`; return the legacy numeric id."""
    parts = item_id.split("|")
    if len(parts) == 3 and parts[0] == "v1" and parts[2] == "0":
        return parts[1]
    return item_id


class EmulatorState:
    """Users, listings, watch lists, OAuth apps and tokens, faults, a journal, and
    the key that signs notifications (made once, kept across resets)."""

    def __init__(
        self, clock: Clock | None = None, *, app: OAuthApp | None = None
    ) -> None:
        self.lock = threading.RLock()
        self.clock = ShiftedClock(clock if clock is not None else SystemClock())
        self.default_app = app if app is not None else OAuthApp()
        self.notification_signer = NotificationSigner()
        # Set when scripted bids change, to wake the server's ScriptTimer.
        self.scripts_changed = threading.Event()
        self.reset()

    def reset(self) -> None:
        """Forget everything but the default app; the clock offset returns to 0."""
        with self.lock:
            self.apps: dict[str, OAuthApp] = {
                self.default_app.client_id: self.default_app
            }
            self.users: dict[str, EbayUser] = {}
            self.listings: dict[str, Listing] = {}
            self.tokens = TokenStore()
            self.faults = FaultBook()
            self.journal: deque[dict[str, Any]] = deque(maxlen=JOURNAL_SIZE)
            self.scripts = ScriptBook()
            self._item_ids = itertools.count(FIRST_ITEM_ID)
            self.clock.reset()
        self.scripts_changed.set()

    def now(self) -> float:
        return self.clock.now()

    # OAuth apps -------------------------------------------------------------

    def register_app(self, app: OAuthApp) -> OAuthApp:
        """Add an app, or replace the one with the same client id."""
        with self.lock:
            self.apps[app.client_id] = app
            return app

    def app(self, client_id: str) -> OAuthApp | None:
        with self.lock:
            return self.apps.get(client_id)

    # Users ------------------------------------------------------------------

    def ensure_user(self, username: str) -> EbayUser:
        """The user with this name, created on first sight (consent, rival bids)."""
        with self.lock:
            user = self.users.get(username)
            if user is None:
                taken = {known.user_id for known in self.users.values()}
                user_id = immutable_user_id(username)
                # A renamed member keeps the id their old name gave them; a newcomer
                # taking that old name must not get the same id.
                while user_id in taken:
                    user_id = immutable_user_id(f"{username}#{user_id}")
                user = EbayUser(username=username, user_id=user_id)
                self.users[username] = user
            return user

    def user(self, username: str) -> EbayUser:
        with self.lock:
            user = self.users.get(username)
            if user is None:
                raise UnknownUserError(username)
            return user

    def rename_user(self, username: str, new_username: str) -> EbayUser:
        """Change a username as eBay members can; tokens follow the user."""
        with self.lock:
            if new_username in self.users:
                raise ValueError(f"username {new_username!r} is taken")
            user = self.user(username)
            del self.users[username]
            user.username = new_username
            self.users[new_username] = user
            for listing in self.listings.values():
                auction.rename_bidder(listing, username, new_username)
            for script in self.scripts.bids.values():
                if script.bidder == username:
                    script.bidder = new_username
            self.tokens.rename_user(username, new_username)
            return user

    def issue_user_tokens(
        self,
        username: str,
        scopes: frozenset[str] | None = None,
        client_id: str | None = None,
    ) -> Grant:
        """A user token pair without the consent page (for tests and scripts)."""
        with self.lock:
            app = self.apps.get(client_id or self.default_app.client_id)
            if app is None:
                raise ValueError(f"no OAuth app with client id {client_id!r}")
            self.ensure_user(username)
            return self.tokens.issue_user_tokens(
                app, username, scopes if scopes is not None else app.scopes, self.now()
            )

    def account_deletion_notice(self, username: str) -> SignedNotice:
        """The signed MARKETPLACE_ACCOUNT_DELETION notice eBay would send when
        this user closes their account (the user stays: tokens still work)."""
        with self.lock:
            user = self.user(username)
            notice = account_deletion_notice(user.username, user.user_id, self.now())
        return sign_notice(self.notification_signer, notice)

    # Listings ---------------------------------------------------------------

    def create_listing(
        self,
        *,
        title: str,
        seller: str,
        start_price_cents: int,
        duration_seconds: float | None = None,
        end_time: float | None = None,
        listing_type: ListingType = ListingType.AUCTION,
        currency: str = "USD",
        reserve_cents: int | None = None,
        buy_it_now_cents: int | None = None,
        image_url: str | None = None,
        condition: str = "Used",
    ) -> Listing:
        with self.lock:
            now = self.now()
            if end_time is None:
                end_time = now + (
                    duration_seconds if duration_seconds is not None else 604_800
                )
            self.ensure_user(seller)
            item_id = str(next(self._item_ids))
            listing = Listing(
                item_id=item_id,
                title=title,
                seller=seller,
                listing_type=listing_type,
                currency=currency,
                start_price_cents=start_price_cents,
                start_time=round_to_millis(now),
                end_time=round_to_millis(end_time),
                reserve_cents=reserve_cents,
                buy_it_now_cents=buy_it_now_cents,
                image_url=image_url
                or f"https://i.ebayimg.com/images/g/emulator/{item_id}.jpg",
                condition=condition,
            )
            self.listings[item_id] = listing
            return listing

    def listing(self, item_id: str) -> Listing:
        with self.lock:
            listing = self.listings.get(legacy_id(item_id))
            if listing is None:
                raise UnknownItemError(item_id)
            return listing

    def place_bid(
        self,
        item_id: str,
        bidder: str,
        max_cents: int,
        currency: str,
        source: str = "api",
        *,
        at: float | None = None,
    ) -> Bid:
        """Run a bid through the auction rules (raises `auction.BidRefused`), now
        or as of `at` (a scripted bid's moment)."""
        with self.lock:
            listing = self.listing(item_id)
            self.ensure_user(bidder)
            proxy_bid_id = secrets.token_hex(8)
            when = self.now() if at is None else at
            return auction.place_bid(
                listing, bidder, max_cents, currency, when, proxy_bid_id, source
            )

    def buy_now(self, item_id: str, buyer: str) -> Listing:
        with self.lock:
            listing = self.listing(item_id)
            self.ensure_user(buyer)
            auction.buy_now(listing, buyer, self.now())
            return listing

    # Scripted bids ----------------------------------------------------------

    def script_bid(
        self,
        item_id: str,
        bidder: str,
        max_cents: int,
        currency: str | None = None,
        *,
        at: float | None = None,
        seconds_before_end: float | None = None,
    ) -> ScriptedBid:
        """A rival's bid to place at `at` (emulator time) or `seconds_before_end`.

        A moment after the end raises `LateScriptError`: eBay would refuse the bid.
        """
        if (at is None) == (seconds_before_end is None):
            raise ValueError("give at or secondsBeforeEnd, one of them")
        with self.lock:
            listing = self.listing(item_id)
            script = ScriptedBid(
                script_id=self.scripts.next_id(),
                item_id=listing.item_id,
                bidder=bidder,
                max_cents=max_cents,
                currency=currency or listing.currency,
                created_at=self.now(),
                at=None if at is None else round_to_millis(at),
                seconds_before_end=seconds_before_end,
            )
            if listing.has_ended(script.moment(listing)):
                raise LateScriptError(
                    BidRefusal.ENDED_BY_BUY_IT_NOW
                    if listing.bought_at is not None
                    else BidRefusal.ENDED
                )
            self.scripts.bids[script.script_id] = script
        self.scripts_changed.set()
        return script

    def scripted_bids(self, item_id: str) -> list[ScriptedBid]:
        with self.lock:
            key = self.listing(item_id).item_id
            return [s for s in self.scripts.bids.values() if s.item_id == key]

    def scripted_bid(self, item_id: str, script_id: str) -> ScriptedBid:
        with self.lock:
            key = self.listing(item_id).item_id
            script = self.scripts.bids.get(script_id)
            if script is None or script.item_id != key:
                raise UnknownScriptError(script_id)
            return script

    def cancel_scripted_bid(self, item_id: str, script_id: str) -> ScriptedBid:
        """Withdraw a pending scripted bid (one that ran stays as it was)."""
        with self.lock:
            script = self.scripted_bid(item_id, script_id)
            if script.status is ScriptStatus.PENDING:
                script.status = ScriptStatus.CANCELLED
            return script

    def next_scripted_moment(self) -> float | None:
        with self.lock:
            moments = [
                script.moment(self.listings[script.item_id])
                for script in self.scripts.pending()
            ]
            return min(moments, default=None)

    def run_due_scripted_bids(self) -> list[ScriptedBid]:
        """Place every scripted bid whose moment has come, as of its moment, in
        moment order; each is journaled."""
        with self.lock:
            if not self.scripts.bids:
                return []
            now = self.now()
            timed = [
                (script.moment(self.listings[script.item_id]), script)
                for script in self.scripts.pending()
            ]
            due = sorted(
                (entry for entry in timed if entry[0] <= now), key=lambda e: e[0]
            )
            for moment, script in due:
                self._run_script(script, moment, now)
            return [script for _, script in due]

    def _run_script(self, script: ScriptedBid, moment: float, now: float) -> None:
        script.fired_at, script.placed_at = now, moment
        try:
            bid = self.place_bid(
                script.item_id,
                script.bidder,
                script.max_cents,
                script.currency,
                "scripted",
                at=moment,
            )
        except BidRefused as refused:
            script.status, script.refusal = ScriptStatus.REFUSED, refused.refusal
        else:
            script.status, script.proxy_bid_id = ScriptStatus.PLACED, bid.proxy_bid_id
        self.record_call(
            {
                "method": "SCRIPTED",
                "path": f"scripted-bids/{script.script_id}",
                "query": "",
                "status": 201 if script.status is ScriptStatus.PLACED else 409,
                "fault": None,
                "at": format_timestamp(moment),
                "durationMs": 0,
                "itemId": script.item_id,
                "bidder": script.bidder,
                "maxAmount": format_amount(script.max_cents),
                "errorId": script.refusal.value if script.refusal else None,
                "lateMs": round((now - moment) * 1000, 1),
            }
        )

    # Watch lists ------------------------------------------------------------

    def watch(self, username: str, item_id: str) -> None:
        with self.lock:
            listing = self.listing(item_id)
            user = self.ensure_user(username)
            if listing.item_id not in user.watch_list:
                user.watch_list.append(listing.item_id)

    def unwatch(self, username: str, item_id: str) -> None:
        with self.lock:
            user = self.user(username)
            key = legacy_id(item_id)
            if key not in user.watch_list:
                raise UnknownItemError(item_id)
            user.watch_list.remove(key)

    def watched_listings(self, username: str) -> list[Listing]:
        """The user's watch list, soonest-ending first (eBay's default order)."""
        with self.lock:
            user = self.user(username)
            listings = [self.listings[item_id] for item_id in user.watch_list]
            return sorted(
                listings, key=lambda item: (item.closes_at, int(item.item_id))
            )

    # Journal ----------------------------------------------------------------

    def record_call(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.journal.append(entry)
