"""`python -m local.demo` (`make demo`): a scripted tour against a running `make dev`.

A new user watches the product work end to end, through the same HTTP calls a
frontend and eBay make: sign in, link eBay on the emulator's consent page, put a
short auction on the watch list, snipe it against a rival's scripted bid, count
down to the end, then read back the bid's timing, the outcome, its history and
the email in the outbox. Each step prints a progress line; the first one that
fails stops the tour with a message saying what to do, and a non-zero exit code.

Dev-only, like everything under `local/`: it drives the stack, never ships.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any, TextIO, TypeVar
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from local.stack.config import DEFAULT_API_PORT, DEFAULT_EBAY_PORT, DEFAULT_OUTBOX_PORT

STEPS = 10
LEAD_SECONDS = 5  # the users' default lead, set explicitly so the tour is stable
START_PRICE = "10.00"
RIVAL_MAX = "30.00"
OUR_MAX_CENTS = 4_000  # above the rival's: proxy bidding makes us pay $31.00
RIVAL_SECONDS_BEFORE_END = 15  # well before our snipe, so it is the bid to beat
MIN_AUCTION_SECONDS = 20
OUTCOME_GRACE_SECONDS = 60  # after the end, how long the outcome may take
EMAIL_WAIT_SECONDS = 20
FINAL = ("WON", "LOST", "FAILED", "CANCELLED")
LATE_MS = 250  # on time is 0-10 ms locally; more deserves a word

T = TypeVar("T")


class DemoError(Exception):
    """A step failed; the message says what happened and what to try."""


@dataclass(frozen=True)
class Urls:
    api: str
    ebay: str
    outbox: str


class ConsentForm(HTMLParser):
    """The consent page's form, read as a browser would: its action and fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and values.get("type") == "hidden" and "name" in values:
            self.fields[values["name"]] = values.get("value", "")


def clock(instant: float) -> str:
    """A UTC wall-clock time; milliseconds only for instants that have them (the
    API's times are whole Unix seconds, eBay's have milliseconds)."""
    moment = datetime.fromtimestamp(instant, UTC)
    if isinstance(instant, int):
        return moment.strftime("%H:%M:%S UTC")
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d} UTC"


def iso_seconds(text: str) -> float:
    """Unix seconds from the emulator's ISO 8601 timestamps."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def money(cents: int | None, currency: str = "USD") -> str:
    return "-" if cents is None else f"${cents / 100:,.2f} {currency}"


def answer(response: httpx.Response, expected: int, what: str) -> Any:
    """The JSON body of a response with the expected status, or a DemoError."""
    if response.status_code != expected:
        body = response.text.strip().replace("\n", " ")[:400]
        raise DemoError(
            f"{what}: {response.request.method} {response.request.url} answered "
            f"{response.status_code} (expected {expected}): {body}"
        )
    return response.json() if response.content else None


class Tour:
    """The steps, in order, sharing the clients and what earlier steps learned."""

    def __init__(
        self, urls: Urls, user: str, auction_seconds: int, out: TextIO
    ) -> None:
        self.urls = urls
        self.user = user
        self.email = f"{user}@example.com"
        self.ebay_user = f"{user}-on-ebay"
        self.auction_seconds = auction_seconds
        self.out = out
        self.number = 0
        self.api = httpx.Client(base_url=urls.api, timeout=30)
        self.browser = httpx.Client(timeout=30)  # no redirects followed, like a form
        self.admin = httpx.Client(base_url=f"{urls.ebay}/__admin", timeout=30)
        self.outbox = httpx.Client(base_url=urls.outbox, timeout=30)

    def close(self) -> None:
        for client in (self.api, self.browser, self.admin, self.outbox):
            client.close()

    # ------------------------------------------------------------------ output
    def step(self, title: str) -> None:
        self.number += 1
        self.say(f"[{self.number}/{STEPS}] {title}")

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def detail(self, line: str) -> None:
        self.say(f"      {line}")

    # ------------------------------------------------------------------- steps
    def run(self) -> bool:
        """The whole tour; whether it ended as scripted (WON)."""
        self.check_stack()
        self.sign_in()
        self.link_ebay()
        item_id = self.create_auction()
        self.list_watch_list(item_id)
        bid = self.snipe(item_id)
        bid = self.count_down(bid)
        self.show_timing(bid, item_id)
        self.show_history(bid)
        self.show_email(bid)
        won: bool = bid["status"] == "WON"
        if won:
            self.say("Done: the snipe won. Run it again, or read docs/local-stack.md.")
        return won

    def check_stack(self) -> None:
        self.step("the local stack answers")
        reach(self.api, "/health", f"the API at {self.urls.api}")
        reach(self.admin, "/oauth/apps", f"the eBay emulator at {self.urls.ebay}")
        reach(self.outbox, "/outbox/emails?to=-", f"the outbox at {self.urls.outbox}")
        self.detail(f"API {self.urls.api}")
        self.detail(f"eBay emulator {self.urls.ebay}, outbox {self.urls.outbox}")

    def sign_in(self) -> None:
        self.step(f"sign in as {self.user} (POST /local/token, as `make token` does)")
        body = {"username": self.user, "email": self.email, "emailVerified": True}
        token = answer(self.api.post("/local/token", json=body), 200, "minting a token")
        self.api.headers["Authorization"] = f"Bearer {token['idToken']}"
        profile = answer(self.api.get("/users/profile"), 200, "reading the profile")
        self.detail(f"user {profile['userId']} <{profile['email']}>")

    def link_ebay(self) -> None:
        self.step(f"link eBay as {self.ebay_user} on the emulator's consent page")
        status = answer(self.api.get("/ebay/auth/status"), 200, "the link's status")
        if status.get("isLinked"):
            # The emulator forgets its users when make dev restarts: link afresh.
            unlinked = self.api.delete("/ebay/auth/unlink")
            answer(unlinked, 204, "unlinking the earlier link")
            self.detail(f"unlinked the earlier link ({status.get('accountId')})")
        started = answer(self.api.get("/ebay/auth/url"), 200, "GET /ebay/auth/url")
        auth_url: str = started["authUrl"]
        page = self.browser.get(auth_url)
        if page.status_code != 200:
            answer(page, 200, "opening eBay's consent page")
        form = ConsentForm()
        form.feed(page.text)
        if form.action is None:
            raise DemoError(f"no consent form on the page at {auth_url}")
        agreed = self.browser.post(
            urljoin(auth_url, form.action),
            data={**form.fields, "username": self.ebay_user, "decision": "agree"},
        )
        if agreed.status_code != 302:
            answer(agreed, 302, "agreeing on the consent page")
        redirect = parse_qs(urlsplit(agreed.headers["location"]).query)
        if "code" not in redirect or "state" not in redirect:
            raise DemoError(f"eBay redirected without a code: {agreed.headers}")
        page_url = urlsplit(agreed.headers["location"])._replace(query="").geturl()
        self.detail(f"agreed; eBay redirects to {page_url} with a code and state,")
        self.detail("which the frontend's page posts to POST /ebay/auth/callback")
        callback = {"code": redirect["code"][0], "state": redirect["state"][0]}
        linked = answer(
            self.api.post("/ebay/auth/callback", json=callback),
            200,
            "POST /ebay/auth/callback",
        )
        self.detail(f"linked: {linked['accountId']} (eBay user {linked['ebayUserId']})")

    def create_auction(self) -> str:
        self.step(
            f"a {self.auction_seconds}-second auction in the emulator, on "
            f"{self.ebay_user}'s watch list, with a rival"
        )
        listing = answer(
            self.admin.post(
                "/listings",
                json={
                    "title": "Leica M6 (demo)",
                    "seller": "camera-shop",
                    "startPrice": START_PRICE,
                    "endsInSeconds": self.auction_seconds,
                },
            ),
            201,
            "creating the listing",
        )
        item_id: str = listing["itemId"]
        watch = {"itemId": item_id}
        path = f"/users/{self.ebay_user}/watchlist"
        answer(self.admin.post(path, json=watch), 201, "adding it to the watch list")
        rival = {
            "bidder": "rival-bidder",
            "maxAmount": RIVAL_MAX,
            "secondsBeforeEnd": RIVAL_SECONDS_BEFORE_END,
        }
        scripted = f"/listings/{item_id}/scripted-bids"
        answer(self.admin.post(scripted, json=rival), 201, "scripting the rival's bid")
        self.detail(
            f"item {item_id}, starts at ${START_PRICE}, ends at "
            f"{clock(iso_seconds(listing['endTime']))}"
        )
        self.detail(
            f"rival-bidder will bid up to ${RIVAL_MAX} "
            f"{RIVAL_SECONDS_BEFORE_END} s before the end"
        )
        return item_id

    def list_watch_list(self, item_id: str) -> None:
        self.step("the watch list, through the API (GET /wishlist/items)")
        listed = answer(
            self.api.get("/wishlist/items", params={"auctionsOnly": "true"}),
            200,
            "reading the watch list",
        )
        active = [item for item in listed["items"] if item["isAuctionActive"]]
        for item in active:
            left = item["endTime"] - time.time()
            mark = "  <- this tour's" if item["ebayItemId"] == item_id else ""
            self.detail(
                f"{item['ebayItemId']}  {item['title']:<24} "
                f"{money(item['currentPrice'], item['currency'])}, "
                f"ends in {max(0, round(left))} s{mark}"
            )
        if not any(item["ebayItemId"] == item_id for item in active):
            raise DemoError(f"item {item_id} is not on the watch list the API reads")

    def snipe(self, item_id: str) -> dict[str, Any]:
        self.step(
            f"snipe it: POST /bids, maximum {money(OUR_MAX_CENTS)}, "
            f"{LEAD_SECONDS} s before the end"
        )
        body = {
            "ebayItemId": item_id,
            "maxBidAmount": OUR_MAX_CENTS,
            "snipeLeadSeconds": LEAD_SECONDS,
        }
        created = self.api.post("/bids", json=body)
        if created.status_code == 400 and "too soon" in created.text:
            raise DemoError(
                f"the stack refused the snipe: {created.json().get('message')}\n"
                "Its snipe margin is longer than this auction: was it started with "
                "`make dev TIMING=production`? Plain `make dev` snipes in seconds; "
                "or give the auction more time (--auction-seconds, "
                "make demo DEMO_ARGS=--auction-seconds=180)."
            )
        bid: dict[str, Any] = answer(created, 201, "creating the bid")
        self.detail(f"bid {bid['bidId']}: {bid['status']}")
        if bid.get("scheduledFor"):
            self.detail(f"the executor wakes at  {clock(bid['scheduledFor'])}")
        self.detail(f"the bid goes out at    {clock(bid['targetTime'])}")
        self.detail(f"the auction ends at    {clock(bid['auctionEndTime'])}")
        return bid

    def count_down(self, bid: dict[str, Any]) -> dict[str, Any]:
        self.step("wait for the end (the schedule fires, the executor bids)")
        end = float(bid["auctionEndTime"])
        deadline = end + OUTCOME_GRACE_SECONDS
        live = self.out.isatty()
        shown = ""
        last_line = 0.0
        while True:
            path = f"/bids/{bid['bidId']}"
            bid = answer(self.api.get(path), 200, "reading the bid")
            now = time.time()
            left = end - now
            when = f"ends in {left:4.0f} s" if left > 0 else "ended, awaiting eBay"
            line = f"      {when} | bid {bid['status']}"
            if live:
                print(f"\r{line:<60}", end="", file=self.out, flush=True)
            elif bid["status"] != shown or now - last_line >= 10:
                self.say(line)
                last_line = now
            shown = bid["status"]
            if bid["status"] in FINAL:
                break
            if now > deadline:
                if live:
                    self.say("")
                raise DemoError(
                    f"no outcome {OUTCOME_GRACE_SECONDS} s after the end: the bid is "
                    f"still {bid['status']}; the stack's terminal shows why"
                )
            time.sleep(0.5)
        if live:
            self.say("")
        return bid

    def show_timing(self, bid: dict[str, Any], item_id: str) -> None:
        self.step("the bid's timing and the outcome")
        listing = answer(self.admin.get(f"/listings/{item_id}"), 200, "the listing")
        self.detail(
            f"target send time  {clock(bid['targetTime'])} (the end in whole "
            f"seconds, minus the {bid['snipeLeadSeconds']} s lead)"
        )
        if bid.get("sentAt") is not None:
            self.detail(f"sent at           {clock(bid['sentAt'])} (whole seconds)")
        if bid.get("latenessMs") is not None:
            self.detail(
                f"lateness          {bid['latenessMs']} ms (measured by the "
                "executor, on eBay's clock)"
            )
            if bid["latenessMs"] > LATE_MS:
                self.detail(
                    "                  late: the executor woke too close to its "
                    "target (a cold start on a busy machine? make dev's terminal "
                    "shows its Init Duration)"
                )
        ours = [
            placed
            for placed in listing["bids"]
            if placed["bidder"] == self.ebay_user and placed["accepted"]
        ]
        if ours:
            landed = iso_seconds(ours[0]["placedAt"])
            end = iso_seconds(listing["endTime"])
            before = round((end - landed) * 1000)
            self.detail(
                f"landed on eBay    {clock(landed)}, {before} ms before the end "
                f"({clock(end)})"
            )
        currency = bid.get("currency", "USD")
        self.detail(
            f"outcome           {bid['status']} at "
            f"{money(bid.get('finalPrice'), currency)}"
        )
        self.detail(
            f"                  (the rival's ${RIVAL_MAX} maximum plus one increment; "
            f"ours was {money(bid['maxBidAmount'], currency)})"
        )
        if bid.get("reason"):
            self.detail(f"reason            {bid['reason']}")
        outcome = listing.get("outcome") or {}
        self.detail(f"eBay says         winner {outcome.get('winner')}")
        if bid["status"] == "FAILED":
            raise DemoError(f"the bid FAILED: {bid.get('reason')}")

    def show_history(self, bid: dict[str, Any]) -> None:
        self.step(f"the bid's history (GET /bid-history/{bid['bidId']})")
        path = f"/bid-history/{bid['bidId']}"
        timeline = answer(self.api.get(path), 200, "reading the history")["items"]
        for entry in timeline:
            price = entry.get("finalPrice")
            paid = f", final price {money(price, bid['currency'])}" if price else ""
            self.detail(
                f"{clock(entry['timestamp'])}  {entry['action']:<7} "
                f"max {money(entry['bidAmount'], bid['currency'])}{paid}"
            )

    def show_email(self, bid: dict[str, Any]) -> None:
        self.step("the email (the local Postmark outbox)")

        def ours() -> dict[str, Any] | None:
            found = answer(
                self.outbox.get("/outbox/emails", params={"to": self.email}),
                200,
                "reading the outbox",
            )
            for email in found["emails"]:
                if email.get("metadata", {}).get("bidId") == bid["bidId"]:
                    return dict(email)
            return None

        email = poll(ours, EMAIL_WAIT_SECONDS)
        if email is None:
            raise DemoError(
                f"no email about bid {bid['bidId']} reached the outbox within "
                f"{EMAIL_WAIT_SECONDS} s; the NotificationHandler's logs say why"
            )
        self.detail(f"to       {email['to']}")
        self.detail(f"subject  {email['subject']}")
        self.detail(f"read it  {self.urls.outbox}{email['html']}")


def reach(client: httpx.Client, path: str, what: str) -> None:
    """Fail with the hint that matters most to a new user: start the stack."""
    try:
        response = client.get(path, timeout=5)
    except httpx.HTTPError as error:
        raise DemoError(
            f"nothing answers: {what} ({type(error).__name__}). "
            "Is `make dev` running? Start it in another terminal, then run "
            "`make demo` again (other ports: pass the same API_PORT, EBAY_PORT, "
            "OUTBOX_PORT to both)."
        ) from None
    answer(response, 200, what)


def poll(check: Callable[[], T | None], timeout: float) -> T | None:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found is not None or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="python -m local.demo",
        description=(
            "A scripted tour against a running `make dev`: link eBay, snipe a "
            "short auction against a rival, then the timing, outcome and email."
        ),
    )
    cli.add_argument("--api-url", default=f"http://127.0.0.1:{DEFAULT_API_PORT}")
    cli.add_argument("--ebay-url", default=f"http://127.0.0.1:{DEFAULT_EBAY_PORT}")
    cli.add_argument("--outbox-url", default=f"http://127.0.0.1:{DEFAULT_OUTBOX_PORT}")
    cli.add_argument(
        "--auction-seconds",
        type=int,
        default=60,
        help=f"how long the auction runs (at least {MIN_AUCTION_SECONDS})",
    )
    cli.add_argument("--user", default="demo", help="who signs in (default: demo)")
    return cli


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    cli = parser()
    arguments = cli.parse_args(argv)
    if arguments.auction_seconds < MIN_AUCTION_SECONDS:
        cli.error(f"--auction-seconds must be at least {MIN_AUCTION_SECONDS}")
    urls = Urls(
        api=arguments.api_url.rstrip("/"),
        ebay=arguments.ebay_url.rstrip("/"),
        outbox=arguments.outbox_url.rstrip("/"),
    )
    tour = Tour(urls, arguments.user, arguments.auction_seconds, out or sys.stdout)
    try:
        won = tour.run()
    except DemoError as error:
        tour.say("")
        print(f"demo failed at step {tour.number}: {error}", file=sys.stderr)
        return 1
    except httpx.HTTPError as error:
        tour.say("")
        print(
            f"demo failed at step {tour.number}: lost contact with the stack "
            f"({type(error).__name__}: {error}). Is `make dev` still running?",
            file=sys.stderr,
        )
        return 1
    finally:
        tour.close()
    if not won:
        print("demo failed: the snipe was scripted to win; it did not", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
