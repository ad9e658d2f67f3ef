"""The fault campaign: many snipes at once on the local stack while faults are
injected, a fixed seed choosing which snipe meets which fault; then, per listing,
what eBay (the emulator) holds against what the sniper says.

The promise it checks: "it never misses a snipe, never bids twice, never leaves a
bid unfinished, and says why every lost snipe was lost". So it counts

- **placed twice**: listings where eBay saw more than one bid of ours (must be 0);
- **non-final**: bids not WON, LOST, FAILED or CANCELLED after the outcome window
  and a sweep (must be 0);
- **lost**: expected snipes eBay does not hold, each with its fault and the
  reason the API gives. A loss is *explained* only when its fault outlasted what
  the sniper can absorb (eBay down from before the send until after the end);
  any other loss is a defect, reported as *unexplained*;
- **broken promises**: an acknowledged edit eBay did not get, a 409 whose old
  amount eBay did not get, an acknowledged cancel eBay got a bid for anyway, a
  bid eBay holds that the sniper calls FAILED or never recorded.

Faults, one per faulted snipe (`FAULT_KINDS`; `CampaignSettings.rates`):

- eBay 5xx, 429, timeouts, dropped connections, a bid placed whose answer is
  held back: emulator fault rules on that listing's own paths
  (`local/ebay_emulator/faults.py`);
- eBay down through the whole retry window (the explained losses): the same
  rules, with a window from before the send until after the end;
- an access token expiring mid-run: an `expire_token` rule, so the token the
  executor holds expires at its bid (or outcome read) and it must refresh;
- schedules delivered twice, late, or not at all: the executor invoked once more
  with the schedule's own event; the schedule moved later; the schedule deleted
  before it fires (the sweeper repairs it);
- users editing and cancelling during the executor's sleep: `PUT`/`DELETE
  /bids/{id}` over HTTP after the claim, after the commit to send, or racing it;
- AWS throttling: DynamoDB answering `ProvisionedThroughputExceededException` to
  that bid's writes (`local/stack/aws_faults.py`);
- an executor killed mid-sleep: the worker running the invocation killed
  (`GET /__local/invocations` on the local Lambda lists them).

Scaling: auctions end `spacing` apart, so that about `concurrency` executors are
busy at once whatever N is; each snipe's listing, bid and faults are made just
in time (`create_ahead` before its schedule fires), so Scheduler holds only the
next seconds' schedules: N sets the run's length, not its load (only moto's
index queries, the sweep's, scan a table that grows with N).
The bounded e2e test (`tests/e2e/test_fault_campaign.py`, 50 snipes) and the
benchmark (`bench/test_fault_campaign.py`, 1,000 and 10,000) share this engine.
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import resource
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
from boto3.dynamodb.types import TypeDeserializer
from botocore.config import Config

from tests.e2e.support import RunningStack, free_ports, start_stack

ROOT = Path(__file__).resolve().parents[1]
STAGE = "local"
EXECUTOR = f"ebay-sniper-bid-executor-{STAGE}"
NOTIFIER = f"ebay-sniper-notification-handler-{STAGE}"
BIDS_TABLE = f"ebay-sniper-bids-{STAGE}"
SCHEDULE_GROUP = f"ebay-sniper-snipes-{STAGE}"
FINAL = frozenset({"WON", "LOST", "FAILED", "CANCELLED"})
CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
    "region_name": "us-east-1",
}
START_PRICE = "10.00"
MAX_BID = 2_000  # cents; no rival bids, so every placed snipe wins at the start price
EDITED_BID = 2_500
# A snipe's executor is busy from its wake-up to the outcome: margin + lead + this.
OUTCOME_SECONDS = 4
# Container memory (README: 80 MB peak) and the rest of the stack, for the check
# that a run fits the machine before it starts.
CONTAINER_MB = 90
STACK_MB = 2_048


# ---------------------------------------------------------------- settings
@dataclass(frozen=True)
class CampaignSettings:
    """One campaign: how many snipes, how they are spread, which faults how often.

    The timing is `make dev`'s fast profile (a 10 s margin, outcome waits in
    seconds) with production's lead (5 s) and bid timeout (2 s), so a retry
    window is production's 4 s; the sweep runs every `sweep_seconds` with graces
    scaled to that margin (production: a minute, 30 s, 15 s, 60 s). The claim
    grace stays above botocore's worst back-off after two throttled attempts
    (1 + 2 s), so a live executor slowed by them is not taken for dead.
    """

    n: int
    seed: int = 15
    concurrency: int = 25
    users: int = 0  # 0: one per 5 snipes, 5 to 200
    lead: int = 5
    margin: int = 10
    cutoff_seconds: float = 1.0
    bid_timeout_seconds: float = 2.0
    outcome_wait: int = 10
    outcome_recheck: int = 5
    sweep_seconds: int = 2
    wake_grace: int = 3
    claim_grace: int = 4
    outcome_grace: int = 5
    create_ahead: float = 10.0
    settle_seconds: float = 60.0
    creators: int = 4
    rates: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_RATES))

    @property
    def user_count(self) -> int:
        return self.users or max(5, min(200, math.ceil(self.n / 5)))

    @property
    def spacing(self) -> float:
        """Seconds between two auctions' ends: `concurrency` executors busy."""
        busy = self.margin + self.lead + OUTCOME_SECONDS
        return busy / self.concurrency

    @property
    def kill_lead(self) -> int:
        """A killed executor's snipe needs time for the sweep to see the claim
        stale (claim grace after the target), a sweep, a rerun that may start cold,
        and the cutoff: its lead is that long (the sweep cannot rescue shorter)."""
        return max(self.lead, self.claim_grace + self.sweep_seconds + 5 + 1)

    @property
    def containers(self) -> int:
        """Executor containers the local Lambda may run (and the campaign warms):
        the busy snipes, their reruns, outcome checks and sweeps."""
        return math.ceil(self.concurrency * 1.6) + 10

    def stack_arguments(self) -> list[str]:
        containers = self.containers
        env = {
            "SNIPE_MARGIN_SECONDS": self.margin,
            "BID_CUTOFF_SECONDS": self.cutoff_seconds,
            "BID_TIMEOUT_SECONDS": self.bid_timeout_seconds,
            "OUTCOME_WAIT_SECONDS": self.outcome_wait,
            "OUTCOME_RECHECK_SECONDS": self.outcome_recheck,
            "SWEEP_WAKE_GRACE_SECONDS": self.wake_grace,
            "SWEEP_CLAIM_GRACE_SECONDS": self.claim_grace,
            "SWEEP_OUTCOME_GRACE_SECONDS": self.outcome_grace,
        }
        arguments = [
            "--max-containers",
            str(containers),
            "--parameter",
            f"BidExecutorReservedConcurrency={containers}",
            "--rule-rate",
            str(self.sweep_seconds),
        ]
        for name, value in env.items():
            arguments += ["--env", f"{name}={value}"]
        return arguments

    def memory_needed_mb(self) -> int:
        return math.ceil(self.concurrency * 1.6 + 20) * CONTAINER_MB + STACK_MB


# ---------------------------------------------------------------- the faults
@dataclass(frozen=True)
class Variant:
    """One way a fault kind is injected; `absorbable`: the sniper must still
    place the bid (a loss is then a defect)."""

    name: str
    absorbable: bool = True
    # What an explained loss's reason says (any of these): the user is told the
    # real cause, not just some cause.
    expected_reason: tuple[str, ...] = ()


def _variants(*names: str) -> tuple[Variant, ...]:
    return tuple(Variant(name) for name in names)


FAULT_KINDS: dict[str, tuple[Variant, ...]] = {
    "ebay_5xx": _variants(
        "bid 1x503", "bid 2x502", "browse 2x503", "outcome 3x503", "bid 1x500"
    ),
    "ebay_429": _variants("bid 1x429", "browse 1x429", "outcome 1x429"),
    "ebay_timeout": _variants("bid held 3s"),
    "ebay_held_answer": _variants("bid placed, answer held 3s"),
    "ebay_dropped": _variants("bid dropped after eBay took it", "bid dropped unread"),
    "ebay_outage": (
        Variant("bid 503 until after the end", False, ("eBay kept failing",)),
        Variant(
            "bid connections dropped until after the end",
            False,
            ("shows no bid of yours", "eBay kept failing"),
        ),
        Variant(
            "browse 503 from the wake-up until after the end",
            False,
            ("eBay could not be reached",),
        ),
    ),
    "token_expired": _variants("at the bid", "at the outcome read"),
    "schedule_twice": _variants(
        "with the first delivery", "during the sleep", "after the outcome"
    ),
    "schedule_late": _variants("1-5 s late", "after the end (the sweep runs it)"),
    "schedule_lost": _variants("deleted after creation", "deleted just before"),
    "user_edit": _variants("during the sleep", "after the commit", "racing the commit"),
    "user_cancel": _variants(
        "during the sleep", "after the commit", "racing the commit"
    ),
    # DynamoDB's clients retry throttling from 50 ms (sniper.aws): 2x-4x is
    # absorbed by botocore; "commit 3x" once lost snipes to standard mode's
    # seconds of back-off, so it comes first. "placed 4x" and "claim 4x" still
    # reach our code (the claim: Lambda's retry; the PLACED write: the sweeper).
    "aws_throttle": _variants(
        "commit 3x", "placed 4x", "commit 2x", "claim 4x", "claim 2x"
    ),
    "executor_killed": _variants("mid-sleep"),
}
DEFAULT_RATES: dict[str, float] = {
    "ebay_5xx": 0.08,
    "ebay_429": 0.05,
    "ebay_timeout": 0.05,
    "ebay_held_answer": 0.08,
    "ebay_dropped": 0.06,
    "ebay_outage": 0.05,
    "token_expired": 0.05,
    "schedule_twice": 0.08,
    "schedule_late": 0.05,
    "schedule_lost": 0.05,
    "user_edit": 0.06,
    "user_cancel": 0.06,
    "aws_throttle": 0.06,
    "executor_killed": 0.05,
}
# Two token expiries of one user inside one snipe's run would be no fault eBay
# makes (tokens live two hours): a user's token faults are kept this far apart.
TOKEN_FAULT_SPACING_S = 60


@dataclass(frozen=True)
class PlannedFault:
    kind: str
    variant: str
    absorbable: bool
    expected_reason: tuple[str, ...] = ()
    params: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.kind}: {self.variant}"


@dataclass(frozen=True)
class PlannedSnipe:
    index: int
    user: int
    end: int  # Unix seconds
    lead: int
    fault: PlannedFault | None

    def fire_at(self, margin: int) -> int:
        return self.end - self.lead - margin

    @property
    def target(self) -> int:
        return self.end - self.lead


def plan(settings: CampaignSettings, start: int) -> list[PlannedSnipe]:
    """Which snipe meets which fault, when each auction ends: from the seed alone
    (and `start`, the first end), so a run can be replayed."""
    chance = random.Random(settings.seed)
    n = settings.n
    kinds: list[str | None] = []
    for name, rate in settings.rates.items():
        if name not in FAULT_KINDS:
            raise ValueError(f"no fault kind {name!r}")
        if rate > 0:
            kinds += [name] * max(1, round(rate * n))
    if len(kinds) > n:
        raise ValueError(f"{len(kinds)} faults for {n} snipes: lower the rates")
    kinds += [None] * (n - len(kinds))
    chance.shuffle(kinds)
    seen: Counter[str] = Counter()
    users = settings.user_count
    last_token_fault: dict[int, float] = {}
    snipes = []
    for index, kind in enumerate(kinds):
        end = start + math.floor(index * settings.spacing)
        user = index % users
        fault = None
        lead = settings.lead
        if kind is not None:
            options = FAULT_KINDS[kind]
            variant = options[seen[kind] % len(options)]
            seen[kind] += 1
            params = {"draw": round(chance.random(), 4)}
            fault = PlannedFault(
                kind,
                variant.name,
                variant.absorbable,
                variant.expected_reason,
                params,
            )
            if kind == "executor_killed":
                lead = settings.kill_lead
            if kind == "token_expired":
                user = _token_user(user, end, users, last_token_fault)
        snipes.append(PlannedSnipe(index, user, end, lead, fault))
    return snipes


def _token_user(preferred: int, end: float, users: int, last: dict[int, float]) -> int:
    for offset in range(users):
        user = (preferred + offset) % users
        if end - last.get(user, -math.inf) >= TOKEN_FAULT_SPACING_S:
            last[user] = end
            return user
    last[preferred] = end
    return preferred


# ---------------------------------------------------------------- the stack
def launch(folder: Path, settings: CampaignSettings) -> RunningStack:
    """The local stack with the emulator and the outbox, the campaign's timing."""
    ebay_port, outbox_port = free_ports(2)
    return start_stack(
        folder,
        template=ROOT / "template.yaml",
        ebay_port=ebay_port,
        outbox_port=outbox_port,
        extra=tuple(settings.stack_arguments()),
    )


def aws_client(stack: RunningStack, service: str, pool: int = 32) -> Any:
    endpoint = stack.lambda_url if service == "lambda" else stack.aws
    config = Config(
        retries={"mode": "standard", "max_attempts": 5}, max_pool_connections=pool
    )
    return boto3.client(service, endpoint_url=endpoint, config=config, **CREDENTIALS)


@dataclass
class User:
    name: str
    ebay_name: str
    user_id: str
    api: httpx.Client


def link_user(stack: RunningStack, name: str) -> User:
    """A signed-in user (a day-long token) whose eBay account is linked."""
    assert stack.ebay is not None
    signed = httpx.post(
        f"{stack.api}/local/token",
        json={
            "username": name,
            "email": f"{name}@example.com",
            "emailVerified": True,
            "expiresIn": 86_400,
        },
        timeout=30,
    )
    signed.raise_for_status()
    api = httpx.Client(
        base_url=stack.api,
        headers={"Authorization": f"Bearer {signed.json()['idToken']}"},
        timeout=30,
        limits=httpx.Limits(max_connections=16),
    )
    # Set-up, not the campaign: a cold start that outlasts the function's timeout
    # on a busy machine (504) is tried again.
    for _ in range(3):
        profile = api.get("/users/profile")
        if profile.status_code < 500:
            break
    profile.raise_for_status()
    auth_url = api.get("/ebay/auth/url").json()["authUrl"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
    ebay_name = f"{name}-ebay"
    agreed = httpx.post(
        f"{stack.ebay}/oauth2/authorize",
        data={**query, "username": ebay_name, "decision": "agree"},
        timeout=30,
    )
    redirect = parse_qs(urlsplit(agreed.headers["location"]).query)
    linked = api.post(
        "/ebay/auth/callback",
        json={"code": redirect["code"][0], "state": redirect["state"][0]},
    )
    if linked.status_code != 200:
        raise RuntimeError(f"linking {name} failed: {linked.text}")
    return User(name, ebay_name, str(profile.json()["userId"]), api)


def _no_bid(index: int) -> dict[str, Any]:
    return {"bidId": f"warm-up-{index}", "userId": "campaign-warm-up"}


def prewarm(
    stack: RunningStack,
    count: int,
    function: str = EXECUTOR,
    event: Callable[[int], dict[str, Any]] = _no_bid,
) -> None:
    """`count` containers of `function` started at once, each with an event that
    does nothing (by default a snipe of a bid that does not exist), so snipes do
    not share the CPUs with cold starts on a small machine (on AWS each cold
    start has its own machine, and the margin absorbs it)."""
    client = aws_client(stack, "lambda", pool=count)

    def warm(index: int) -> None:
        payload = json.dumps(event(index)).encode()
        client.invoke(FunctionName=function, Payload=payload)

    with ThreadPoolExecutor(count) as pool:
        list(pool.map(warm, range(count)))


def warm_bid_management(users: list[User], creators: int) -> None:
    """One Bid Management container per creating thread."""

    def list_bids(index: int) -> None:
        users[index % len(users)].api.get("/bids").raise_for_status()

    with ThreadPoolExecutor(creators) as pool:
        list(pool.map(list_bids, range(creators)))


# ---------------------------------------------------------------- one run
@dataclass
class Observed:
    """What happened to one planned snipe, as the campaign saw it."""

    snipe: PlannedSnipe
    item_id: str = ""
    bid_id: str = ""
    user_id: str = ""
    created: bool = False
    setup_error: str | None = None
    creation_late_s: float = 0.0  # behind the plan: the creating threads lag
    events: list[str] = field(default_factory=list)
    # The user's last acknowledged amount, and whether a cancel was acknowledged.
    acknowledged_amount: int = MAX_BID
    cancelled: bool = False
    # An edit or cancel answered 200/204 after the campaign saw the commit.
    accepted_after_commit: bool = False

    # Why the planned fault was not injected (its moment never came): the snipe
    # then counts as unfaulted coverage-wise, and the report says so.
    missed: str | None = None

    def note(self, text: str) -> None:
        self.events.append(f"{time.strftime('%H:%M:%S')} {text}")

    def miss(self, why: str) -> None:
        self.missed = why
        self.note(why)


class Campaign:
    """Runs a plan on a running stack: makes each snipe just in time, injects
    its fault at its moment, waits until everything settled, reads the result."""

    def __init__(
        self,
        stack: RunningStack,
        settings: CampaignSettings,
        users: list[User],
        say: Callable[[str], None] = print,
    ) -> None:
        assert stack.ebay is not None
        self.stack = stack
        self.settings = settings
        self.users = users
        self.say = say
        self.admin = httpx.Client(
            base_url=f"{stack.ebay}/__admin",
            timeout=60,
            limits=httpx.Limits(max_connections=32),
        )
        self.lambdas = aws_client(stack, "lambda")
        self.dynamodb = aws_client(stack, "dynamodb")
        self.scheduler = aws_client(stack, "scheduler")
        self.throttles = httpx.Client(
            base_url=f"{stack.aws}/__local/faults/dynamodb", timeout=30
        )
        self.invocations = f"{stack.lambda_url}/__local/invocations"
        self._deserialize = TypeDeserializer().deserialize
        self._actors = ThreadPoolExecutor(128, thread_name_prefix="campaign-actor")
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()
        self.load_max = os.getloadavg()[0]
        self.stalled_s = self.stall_max_s = 0.0

    # ------------------------------------------------------------ the run
    def run(self, snipes: list[PlannedSnipe]) -> list[Observed]:
        margin, ahead = self.settings.margin, self.settings.create_ahead
        observed = [Observed(snipe) for snipe in snipes]
        sampling = threading.Event()
        sampler = threading.Thread(
            target=self._sample_load, args=(sampling,), daemon=True
        )
        sampler.start()
        try:
            return self._run(observed, margin, ahead)
        finally:
            sampling.set()

    def _sample_load(self, stop: threading.Event) -> None:
        """The machine's load while the snipes run, and how long this process was
        kept from running (a 0.25 s sleep that took much longer): figures from an
        overloaded machine say so."""
        step, last_load = 0.25, time.monotonic()
        while True:
            started = time.monotonic()
            if stop.wait(step):
                return
            overslept = time.monotonic() - started - step
            if overslept > 0.5:
                self.stalled_s += overslept
                self.stall_max_s = max(self.stall_max_s, overslept)
            if time.monotonic() - last_load >= 5:
                last_load = time.monotonic()
                self.load_max = max(self.load_max, os.getloadavg()[0])

    def _run(
        self, observed: list[Observed], margin: int, ahead: float
    ) -> list[Observed]:
        snipes = [entry.snipe for entry in observed]
        order = sorted(observed, key=lambda o: o.snipe.fire_at(margin))
        with ThreadPoolExecutor(
            self.settings.creators, thread_name_prefix="campaign-create"
        ) as creators:
            made = []
            for entry in order:
                _sleep_until(entry.snipe.fire_at(margin) - ahead)
                made.append(creators.submit(self._create, entry))
            for future in made:
                future.result()
        last_end = max(s.end for s in snipes)
        _sleep_until(last_end + 1)
        with self._lock:
            actors = list(self._pending)
        for actor in actors:
            actor.result()
        return observed

    def _create(self, entry: Observed) -> None:
        snipe, user = entry.snipe, self.users[entry.snipe.user]
        planned = snipe.fire_at(self.settings.margin) - self.settings.create_ahead
        entry.creation_late_s = round(max(0.0, time.time() - planned), 2)
        try:
            listing = self.admin.post(
                "/listings",
                json={
                    "title": f"Campaign lot {snipe.index}",
                    "seller": "campaign-seller",
                    "startPrice": START_PRICE,
                    "endTime": _iso(snipe.end),
                },
            )
            listing.raise_for_status()
            entry.item_id = str(listing.json()["itemId"])
            if snipe.fault is not None:
                self._ebay_faults(entry, snipe.fault)
            made = user.api.post(
                "/bids",
                json={
                    "ebayItemId": entry.item_id,
                    "maxBidAmount": MAX_BID,
                    "snipeLeadSeconds": snipe.lead,
                },
            )
            if made.status_code != 201:
                raise RuntimeError(f"POST /bids {made.status_code}: {made.text}")
            bid = made.json()
            entry.bid_id, entry.user_id = str(bid["bidId"]), user.user_id
            entry.created = True
            if snipe.fault is not None:
                self._start_actor(entry, snipe.fault)
        except Exception as error:  # reported, never hidden: the run goes on
            entry.setup_error = f"{type(error).__name__}: {error}"
            self.say(f"snipe {snipe.index}: setup failed: {entry.setup_error}")

    # ------------------------------------------------------------ eBay faults
    def _ebay_faults(self, entry: Observed, fault: PlannedFault) -> None:
        """Emulator rules on this listing's own paths (made before the bid, so
        nothing of the snipe runs unfaulted)."""
        snipe, item = entry.snipe, entry.item_id
        offer = f"/buy/offer/v1_beta/bidding/v1|{item}|0"
        bid = {"pathPrefix": f"{offer}/place_proxy_bid", "method": "POST"}
        outcome = {
            "pathPrefix": offer,
            "method": "GET",
            "activeFrom": snipe.end,
        }
        browse = {"pathPrefix": f"/buy/browse/v1/item/v1|{item}|0", "method": "GET"}
        fire_at = snipe.fire_at(self.settings.margin)
        throughout = {"activeFrom": fire_at - 5, "activeUntil": snipe.end + 3}
        rules: dict[str, list[dict[str, Any]]] = {
            "bid 1x503": [{**bid, "kind": "status", "status": 503}],
            "bid 2x502": [{**bid, "kind": "status", "status": 502, "count": 2}],
            "bid 1x500": [{**bid, "kind": "status", "status": 500}],
            "browse 2x503": [{**browse, "kind": "status", "status": 503, "count": 2}],
            "outcome 3x503": [{**outcome, "kind": "status", "status": 503, "count": 3}],
            "bid 1x429": [{**bid, "kind": "rate_limit", "retryAfter": 1}],
            "browse 1x429": [{**browse, "kind": "rate_limit", "retryAfter": 1}],
            "outcome 1x429": [{**outcome, "kind": "rate_limit", "retryAfter": 1}],
            "bid held 3s": [{**bid, "kind": "timeout", "holdSeconds": 3}],
            "bid placed, answer held 3s": [
                {**bid, "kind": "timeout", "holdSeconds": 3, "processed": True}
            ],
            "bid dropped after eBay took it": [
                {**bid, "kind": "drop", "processed": True}
            ],
            "bid dropped unread": [{**bid, "kind": "drop"}],
            "bid 503 until after the end": [
                {**bid, **throughout, "kind": "status", "status": 503}
            ],
            "bid connections dropped until after the end": [
                {**bid, **throughout, "kind": "drop"}
            ],
            "browse 503 from the wake-up until after the end": [
                {**browse, **throughout, "kind": "status", "status": 503}
            ],
            "at the bid": [{**bid, "kind": "expire_token"}],
            "at the outcome read": [{**outcome, "kind": "expire_token"}],
        }
        wanted = rules.get(fault.variant, [])
        for rule in wanted:
            if "activeUntil" not in rule:  # not an outage: the next matching calls
                rule.setdefault("count", 1)
            # Every rule ends with its auction: a long campaign's rules go away.
            rule.setdefault("activeUntil", snipe.end + 30)
            made = self.admin.post("/faults", json=rule)
            if made.status_code != 201:
                raise RuntimeError(f"fault {rule}: {made.status_code} {made.text}")
        if wanted:
            entry.note(f"eBay fault rules: {fault.variant}")

    # ------------------------------------------------------------ actors
    def _start_actor(self, entry: Observed, fault: PlannedFault) -> None:
        act = {
            "schedule_twice": self._deliver_twice,
            "schedule_late": self._deliver_late,
            "schedule_lost": self._lose_schedule,
            "user_edit": self._edit,
            "user_cancel": self._cancel,
            "aws_throttle": self._throttle,
            "executor_killed": self._kill,
        }.get(fault.kind)
        if act is None:
            return

        def guarded() -> None:
            try:
                act(entry, fault)
            except Exception as error:
                entry.miss(f"actor failed: {type(error).__name__}: {error}")

        with self._lock:
            self._pending.append(self._actors.submit(guarded))

    def _schedule(self, entry: Observed) -> dict[str, Any]:
        found: dict[str, Any] = self.scheduler.get_schedule(
            Name=f"snipe-{entry.bid_id}", GroupName=SCHEDULE_GROUP
        )
        return found

    def _deliver_twice(self, entry: Observed, fault: PlannedFault) -> None:
        """The schedule's own event, once more, as Scheduler's at-least-once
        delivery may send it: racing the first, during the sleep, or later."""
        event = self._schedule(entry)["Target"]["Input"]
        fire_at = entry.snipe.fire_at(self.settings.margin)
        moment = {
            "with the first delivery": fire_at + 0.1,
            "during the sleep": fire_at + 3,
            "after the outcome": entry.snipe.end + 6,
        }[fault.variant]
        _sleep_until(moment)
        self.lambdas.invoke(
            FunctionName=EXECUTOR, InvocationType="Event", Payload=event.encode()
        )
        entry.note("delivered the schedule's event again")

    def _deliver_late(self, entry: Observed, fault: PlannedFault) -> None:
        """The schedule moved later: the executor is woken late."""
        snipe = entry.snipe
        fire_at = snipe.fire_at(self.settings.margin)
        if fault.variant.startswith("after the end"):
            late = snipe.end + 3 - fire_at
        else:
            late = 1 + round(4 * fault.params["draw"])
        schedule = self._schedule(entry)
        moved: dict[str, Any] = {
            key: schedule[key]
            for key in (
                "Name",
                "GroupName",
                "ScheduleExpressionTimezone",
                "FlexibleTimeWindow",
                "ActionAfterCompletion",
                "State",
                "Target",
            )
            if key in schedule
        }
        moved["ScheduleExpression"] = (
            f"at({datetime.fromtimestamp(fire_at + late, UTC):%Y-%m-%dT%H:%M:%S})"
        )
        self.scheduler.update_schedule(**moved)
        entry.note(f"schedule moved {late} s later")

    def _lose_schedule(self, entry: Observed, fault: PlannedFault) -> None:
        """Scheduler never delivers: the schedule is deleted before it fires."""
        if fault.variant == "deleted just before":
            _sleep_until(entry.snipe.fire_at(self.settings.margin) - 1)
        self.scheduler.delete_schedule(
            Name=f"snipe-{entry.bid_id}", GroupName=SCHEDULE_GROUP
        )
        entry.note("schedule deleted")

    def _bid(self, entry: Observed) -> dict[str, Any]:
        item = self.dynamodb.get_item(
            TableName=BIDS_TABLE,
            Key={"userId": {"S": entry.user_id}, "sk": {"S": f"BID#{entry.bid_id}"}},
            ConsistentRead=True,
        ).get("Item", {})
        return {k: self._deserialize(v) for k, v in item.items()}

    def _wait_for(
        self, entry: Observed, wanted: Callable[[dict[str, Any]], bool], until: float
    ) -> dict[str, Any] | None:
        while time.time() < until:
            bid = self._bid(entry)
            if wanted(bid):
                return bid
            if bid.get("status") in FINAL:
                return None
            time.sleep(0.05)
        return None

    def _moment(self, entry: Observed, fault: PlannedFault) -> bool:
        """Wait for the fault's moment; False when it never came."""
        snipe = entry.snipe
        if fault.variant == "during the sleep":
            claimed = self._wait_for(
                entry,
                lambda b: b.get("status") == "EXECUTING" and b.get("sentAt") is None,
                snipe.target - 3,
            )
            return claimed is not None
        if fault.variant == "after the commit":
            sent = self._wait_for(
                entry, lambda b: b.get("sentAt") is not None, snipe.end - 1
            )
            return sent is not None
        # Racing: sent to arrive about when the executor commits (0.2 s ahead).
        _sleep_until(snipe.target - 0.45 + 0.3 * fault.params["draw"])
        return True

    def _edit(self, entry: Observed, fault: PlannedFault) -> None:
        if not self._moment(entry, fault):
            entry.miss(f"edit: its moment ({fault.variant}) never came")
            return
        committed = self._bid(entry).get("sentAt") is not None
        answer = self.users[entry.snipe.user].api.put(
            f"/bids/{entry.bid_id}", json={"maxBidAmount": EDITED_BID}
        )
        entry.note(f"PUT /bids: {answer.status_code}")
        if answer.status_code == 200:
            entry.acknowledged_amount = EDITED_BID
            entry.accepted_after_commit = committed
        elif answer.status_code != 409:
            entry.note(f"edit answered {answer.status_code}: {answer.text[:200]}")

    def _cancel(self, entry: Observed, fault: PlannedFault) -> None:
        if not self._moment(entry, fault):
            entry.miss(f"cancel: its moment ({fault.variant}) never came")
            return
        committed = self._bid(entry).get("sentAt") is not None
        answer = self.users[entry.snipe.user].api.delete(f"/bids/{entry.bid_id}")
        entry.note(f"DELETE /bids: {answer.status_code}")
        if answer.status_code == 204:
            entry.cancelled = True
            entry.accepted_after_commit = committed
        elif answer.status_code != 409:
            entry.note(f"cancel answered {answer.status_code}: {answer.text[:200]}")

    def _throttle(self, entry: Observed, fault: PlannedFault) -> None:
        """DynamoDB throttles this bid's claim, commit to send or PLACED write,
        that many times in a row (`FAULT_KINDS` says who must absorb it)."""
        step, times = fault.variant.split()
        marker = {"claim": [], "commit": ["sentAt"], "placed": ["PLACE#"]}[step]
        rule = {
            "operation": "TransactWriteItems",
            "contains": [f"BID#{entry.bid_id}", *marker],
            "count": int(times.rstrip("x")),
        }
        self.throttles.post("", json=rule).raise_for_status()
        entry.note(f"DynamoDB throttles the {step} {times}")

    def _kill(self, entry: Observed, fault: PlannedFault) -> None:
        """Kill the worker running this snipe while it sleeps, as a crash would."""
        snipe = entry.snipe
        claimed = self._wait_for(
            entry,
            lambda b: b.get("status") == "EXECUTING" and b.get("sentAt") is None,
            snipe.target - 4,
        )
        if claimed is None:
            entry.miss("kill: the claim was never seen")
            return
        time.sleep(1.0)
        for running in httpx.get(self.invocations, timeout=30).json():
            payload = running.get("payload")
            if (
                running.get("functionName") == EXECUTOR
                and isinstance(payload, dict)
                and payload.get("bidId") == entry.bid_id
                and payload.get("kind", "SNIPE") == "SNIPE"
            ):
                still = self._bid(entry)
                os.kill(int(running["pid"]), signal.SIGKILL)
                entry.note(
                    f"killed worker {running['pid']} (bid {still.get('status')}, "
                    f"sentAt {still.get('sentAt')})"
                )
                return
        entry.miss("kill: no running invocation of the snipe found")

    # ------------------------------------------------------------ settling
    def settle(self, observed: list[Observed]) -> dict[str, float]:
        """Wait for every bid to be final, with a sweep at the end: the outcome
        window, the outcome checks, the sweeper's repairs."""
        last_end = max(o.snipe.end for o in observed)
        started = time.monotonic()
        waiting = [o for o in observed if o.created]
        deadline = last_end + self.settings.settle_seconds
        waiting = self._final_by(waiting, deadline)
        first_wait = time.monotonic() - started
        sweep = self.lambdas.invoke(
            FunctionName=EXECUTOR, Payload=json.dumps({"sweep": True}).encode()
        )
        swept = json.loads(sweep["Payload"].read() or b"{}")
        self._final_by(waiting, time.time() + 3 * self.settings.sweep_seconds + 15)
        return {
            "settle_s": round(first_wait, 1),
            "after_sweep_s": round(time.monotonic() - started - first_wait, 1),
            "final_sweep_examined": float(swept.get("examined", 0)),
        }

    def _final_by(self, waiting: list[Observed], deadline: float) -> list[Observed]:
        while waiting and time.time() < deadline:
            statuses = self.statuses(waiting)
            waiting = [o for o in waiting if statuses.get(o.bid_id) not in FINAL]
            if waiting:
                time.sleep(2)
        return waiting

    def statuses(self, entries: Iterable[Observed]) -> dict[str, str]:
        return {
            bid_id: str(bid.get("status"))
            for bid_id, bid in self.read_bids(list(entries)).items()
        }

    def read_bids(self, entries: list[Observed]) -> dict[str, dict[str, Any]]:
        """The bid records, straight from the table (100 keys a request)."""
        found: dict[str, dict[str, Any]] = {}
        keys = [
            {"userId": {"S": o.user_id}, "sk": {"S": f"BID#{o.bid_id}"}}
            for o in entries
            if o.created
        ]
        for start in range(0, len(keys), 100):
            request: dict[str, Any] = {BIDS_TABLE: {"Keys": keys[start : start + 100]}}
            request[BIDS_TABLE]["ConsistentRead"] = True
            while request:
                answer = self.dynamodb.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(BIDS_TABLE, []):
                    bid = {k: self._deserialize(v) for k, v in item.items()}
                    found[str(bid["bidId"])] = bid
                request = answer.get("UnprocessedKeys") or {}
        return found

    def listings(self) -> dict[str, dict[str, Any]]:
        answer = self.admin.get("/listings")
        answer.raise_for_status()
        return {str(item["itemId"]): item for item in answer.json()}

    def api_view(self, entry: Observed) -> dict[str, Any]:
        """The bid and its timeline as the user sees them (lost snipes only)."""
        api = self.users[entry.snipe.user].api
        bid = api.get(f"/bids/{entry.bid_id}")
        timeline = api.get(f"/bid-history/{entry.bid_id}")
        return {
            "bid": bid.json() if bid.status_code == 200 else {"error": bid.text},
            "history": [
                {
                    "action": item.get("action"),
                    "reason": (item.get("details") or {}).get("reason"),
                }
                for item in (timeline.json().get("items", []) if timeline else [])
            ],
        }

    def close(self) -> None:
        self._actors.shutdown(wait=False, cancel_futures=True)
        self.admin.close()
        self.throttles.close()


def _sleep_until(moment: float) -> None:
    left = moment - time.time()
    if left > 0:
        time.sleep(left)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- the verdict
@dataclass
class Verdict:
    """One snipe's result: what eBay holds, what the sniper says, what it means."""

    index: int
    bid_id: str
    item_id: str
    fault: str | None
    expected: bool  # the user still wanted the bid (no acknowledged cancel)
    bids_at_ebay: int
    accepted_at_ebay: int
    amount_at_ebay: int | None
    status: str | None
    reason: str | None
    lateness_ms: int | None
    lost: bool
    explained: bool | None = None
    # How late the stack fired schedules while this snipe ran: a loss during a
    # stall (another load on the machine) is the machine's, not a fault's.
    stalled_s: float = 0.0
    problems: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    api: dict[str, Any] | None = None


def judge(
    entry: Observed,
    bid: Mapping[str, Any] | None,
    listing: Mapping[str, Any] | None,
) -> Verdict:
    """Compare what eBay holds with what the user was told."""
    user_bids = []
    ebay_name = f"campaign-u{entry.snipe.user}-ebay"
    if listing is not None:
        user_bids = [b for b in listing.get("bids", []) if b["bidder"] == ebay_name]
    accepted = [b for b in user_bids if b.get("accepted")]
    amount = _cents(accepted[-1]["maxAmount"]) if accepted else None
    status = None if bid is None else str(bid.get("status"))
    fault = entry.snipe.fault
    verdict = Verdict(
        index=entry.snipe.index,
        bid_id=entry.bid_id,
        item_id=entry.item_id,
        fault=fault.describe() if fault else None,
        expected=not entry.cancelled,
        bids_at_ebay=len(user_bids),
        accepted_at_ebay=len(accepted),
        amount_at_ebay=amount,
        status=status,
        reason=None if bid is None else bid.get("reason"),
        lateness_ms=None
        if bid is None or bid.get("latenessMs") is None
        else int(bid["latenessMs"]),
        lost=not entry.cancelled and not accepted,
        events=entry.events,
    )
    problems = verdict.problems
    if len(user_bids) > 1:
        problems.append(f"placed twice: eBay saw {len(user_bids)} bids of ours")
    if entry.cancelled and user_bids:
        problems.append("an acknowledged cancel, yet eBay got a bid")
    if entry.accepted_after_commit:
        problems.append("an edit or cancel was acknowledged after the commit to send")
    if (
        amount is not None
        and not entry.cancelled
        and amount != entry.acknowledged_amount
    ):
        problems.append(
            f"eBay holds {amount} cents, the user's last acknowledged amount "
            f"was {entry.acknowledged_amount}"
        )
    if status is not None and status not in FINAL:
        problems.append(f"left {status}")
    if accepted and status not in ("WON", "LOST", None) and status in FINAL:
        problems.append(f"eBay holds the bid, the sniper says {status}")
    if not accepted and status == "WON":
        problems.append("WON without a bid at eBay")
    if entry.cancelled and status not in ("CANCELLED", None):
        problems.append(f"an acknowledged cancel, yet the bid is {status}")
    if verdict.lost:
        # Explained: a fault the sniper could not absorb, and the user told why.
        reason = verdict.reason or ""
        verdict.explained = bool(
            fault is not None
            and not fault.absorbable
            and status == "FAILED"
            and any(words in reason for words in fault.expected_reason)
        )
    return verdict


def _cents(amount: Any) -> int:
    if isinstance(amount, Mapping):
        amount = amount.get("value")
    return round(float(str(amount)) * 100)


def figures(
    settings: CampaignSettings,
    verdicts: list[Verdict],
    observed: list[Observed],
    phases: Mapping[str, float],
) -> dict[str, Any]:
    """The campaign's figures: what the report shows, what the tests assert."""
    created = [v for v, o in zip(verdicts, observed, strict=True) if o.created]
    expected = [v for v in created if v.expected]
    placed = [v for v in expected if v.accepted_at_ebay]
    lost = [v for v in expected if v.lost]
    by_fault: dict[str, dict[str, int]] = {}
    for verdict, entry in zip(verdicts, observed, strict=True):
        if not entry.created:
            continue
        kind = entry.snipe.fault.kind if entry.snipe.fault else "none"
        row = by_fault.setdefault(
            kind, {"snipes": 0, "placed": 0, "lost": 0, "unexplained": 0}
        )
        row["snipes"] += 1
        row["placed"] += 1 if verdict.accepted_at_ebay else 0
        row["lost"] += 1 if verdict.lost else 0
        row["unexplained"] += 1 if verdict.lost and not verdict.explained else 0
    lateness = sorted(v.lateness_ms for v in placed if v.lateness_ms is not None)
    return {
        "n": settings.n,
        "seed": settings.seed,
        "settings": {
            key: value
            for key, value in asdict(settings).items()
            if key not in ("rates", "n", "seed")
        }
        | {"users": settings.user_count, "spacing_s": round(settings.spacing, 3)},
        "rates": dict(settings.rates),
        "created": len(created),
        "setup_failures": [
            {"index": o.snipe.index, "error": o.setup_error}
            for o in observed
            if not o.created
        ],
        "creation_late_max_s": max((o.creation_late_s for o in observed), default=0),
        "faults_missed": [
            {"index": o.snipe.index, "fault": o.snipe.fault.describe(), "why": o.missed}
            for o in observed
            if o.snipe.fault is not None and o.missed
        ],
        "expected": len(expected),
        "placed": len(placed),
        "placed_twice": sum(1 for v in created if v.bids_at_ebay > 1),
        "cancelled": sum(1 for v in created if not v.expected),
        "lost": len(lost),
        "lost_explained": sum(1 for v in lost if v.explained),
        "lost_unexplained": sum(1 for v in lost if not v.explained),
        # Of those, lost while the stack fired schedules 2 s late or more.
        "lost_unexplained_in_stalls": sum(
            1 for v in lost if not v.explained and v.stalled_s >= 2
        ),
        "non_final": sum(1 for v in created if v.status not in FINAL),
        "broken_promises": sum(1 for v in created if v.problems),
        "statuses": dict(Counter(str(v.status) for v in created)),
        "by_fault": dict(sorted(by_fault.items())),
        "lateness_ms": _spread(lateness),
        "phases_s": dict(phases),
        "lost_snipes": [_lost_row(v) for v in lost],
        # Each faulted snipe in one line, what was done to it and how it ended
        # (past 500 snipes only the noteworthy ones: not simply WON on time).
        "faulted": [
            {
                "index": v.index,
                "fault": v.fault,
                "status": v.status,
                "bidsAtEbay": v.bids_at_ebay,
                "latenessMs": v.lateness_ms,
                "events": [event.split(" ", 1)[1] for event in v.events],
            }
            for v in created
            if v.fault is not None and (settings.n <= 500 or _noteworthy(v))
        ],
        "problems": [
            {
                "index": v.index,
                "bidId": v.bid_id,
                "fault": v.fault,
                "problems": v.problems,
            }
            for v in created
            if v.problems
        ],
    }


def _noteworthy(verdict: Verdict) -> bool:
    return (
        verdict.status != "WON"
        or verdict.bids_at_ebay != 1
        or (verdict.lateness_ms or 0) > 1_000
        or bool(verdict.problems)
    )


def _spread(values: list[int]) -> dict[str, float | None]:
    if not values:
        return {"count": 0, "p50": None, "p99": None, "max": None}
    return {
        "count": len(values),
        "p50": values[len(values) // 2],
        "p99": values[min(len(values) - 1, math.ceil(len(values) * 0.99) - 1)],
        "max": values[-1],
    }


def _lost_row(verdict: Verdict) -> dict[str, Any]:
    return {
        "index": verdict.index,
        "bidId": verdict.bid_id,
        "itemId": verdict.item_id,
        "fault": verdict.fault,
        "status": verdict.status,
        "reason": verdict.reason,
        "explained": verdict.explained,
        "stackStalledS": verdict.stalled_s,
        "events": verdict.events,
        "api": verdict.api,
    }


# ---------------------------------------------------------------- the whole thing
def run_campaign(
    folder: Path,
    settings: CampaignSettings,
    say: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Start a stack, run the campaign, stop the stack; the figures."""
    phases: dict[str, float] = {}
    began, cpu_before = time.monotonic(), _cpu_seconds()
    stack = launch(folder, settings)
    phases["stack_start"] = round(time.monotonic() - began, 1)
    campaign: Campaign | None = None
    try:
        mark = time.monotonic()
        # Users first, then the executors: the executors' cold starts at once
        # would hold the API's first requests past their functions' timeouts.
        with ThreadPoolExecutor(4) as pool:
            users = list(
                pool.map(
                    lambda u: link_user(stack, f"campaign-u{u}"),
                    range(settings.user_count),
                )
            )
        warm_bid_management(users, settings.creators)
        # Every container the run may use: one started cold mid-run, on a CPU
        # the sleeping snipes share, can take longer than a rerun has.
        prewarm(stack, settings.containers)
        # Outcomes come in bursts as auctions end: their emails' cold starts too.
        # (an event it refuses as malformed, sending nothing).
        prewarm(
            stack, max(2, settings.concurrency // 3), NOTIFIER, lambda i: {"warmUp": i}
        )
        phases["users_and_prewarm"] = round(time.monotonic() - mark, 1)
        say(f"{len(users)} users linked, executors warm")
        # The first snipe to be made (the one with the longest lead, perhaps) is
        # made a second from now; the plan alone says which one that is.
        earliest = min(s.end - s.lead for s in plan(settings, 0))
        margin = settings.margin + settings.create_ahead
        snipes = plan(settings, math.ceil(time.time() + 1 + margin - earliest))
        campaign = Campaign(stack, settings, users, say)
        mark = time.monotonic()
        observed = campaign.run(snipes)
        phases["snipes"] = round(time.monotonic() - mark, 1)
        phases["load_1m_max"] = round(campaign.load_max, 1)
        phases["stalled_s"] = round(campaign.stalled_s, 1)
        phases["stall_max_s"] = round(campaign.stall_max_s, 1)
        say(f"last auction ended; settling {sum(o.created for o in observed)} bids")
        phases.update(campaign.settle(observed))
        bids = campaign.read_bids(observed)
        listings = campaign.listings()
        verdicts = [
            judge(entry, bids.get(entry.bid_id), listings.get(entry.item_id))
            for entry in observed
        ]
        for verdict, entry in zip(verdicts, observed, strict=True):
            if entry.created and (verdict.lost or verdict.problems):
                verdict.api = campaign.api_view(entry)
    finally:
        if campaign is not None:
            campaign.close()
        stack.stop()
    phases["total"] = round(time.monotonic() - began, 1)
    # The stack, its workers (reaped by it) and this process: what the run cost.
    phases["cpu_s"] = round(_cpu_seconds() - cpu_before, 1)
    firings = stalls(stack.log_path)
    phases["schedules_late_max_s"] = max((late for _, late in firings), default=0.0)
    for verdict, entry in zip(verdicts, observed, strict=True):
        snipe = entry.snipe
        verdict.stalled_s = stalled_during(
            firings, snipe.fire_at(settings.margin) - 2, snipe.end
        )
    result = figures(settings, verdicts, observed, phases)
    result["log"] = str(stack.log_path)
    return result


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def stalls(log: Path) -> list[tuple[float, float]]:
    """Each schedule that fired late and each invocation that waited for a
    container, (when it was due, how late), from the stack's log (both logged
    from 2 s; the runner polls every 0.25 s): the stack stalled then, not a fault
    the campaign injected. Moved (late) schedules fire on their new time, so
    they do not show here."""
    late = re.compile(rb"fired \(due ([0-9T:-]+)Z, ([0-9.]+)s late")
    # The local Lambda's: an invocation that waited for a container (a cold
    # start on a starved CPU); on AWS it would have started within a second.
    slow = re.compile(rb"started ([0-9.]+)s late \(asked ([0-9T:-]+)Z\)")
    found = []
    with log.open("rb") as lines:
        for line in lines:
            if b"s late" not in line:
                continue
            if match := late.search(line):
                when, seconds = match.group(1), match.group(2)
            elif match := slow.search(line):
                when, seconds = match.group(2), match.group(1)
            else:
                continue
            due = datetime.fromisoformat(when.decode()).replace(tzinfo=UTC)
            found.append((due.timestamp(), float(seconds)))
    return found


def stalled_during(
    firings: list[tuple[float, float]], start: float, end: float
) -> float:
    """The latest any schedule fired while one snipe ran (0: the stack kept up)."""
    return max((late for due, late in firings if start <= due <= end), default=0.0)


# ---------------------------------------------------------------- the report
def summary_line(result: Mapping[str, Any]) -> str:
    return (
        f"N={result['n']}: expected {result['expected']}, placed {result['placed']}, "
        f"placed twice {result['placed_twice']}, lost {result['lost']} "
        f"({result['lost_explained']} explained, {result['lost_unexplained']} "
        f"unexplained), non-final {result['non_final']}, broken promises "
        f"{result['broken_promises']}, {result['phases_s'].get('total')} s"
    )


def markdown(results: Sequence[Mapping[str, Any]]) -> str:
    """The report section: one row per N, then the largest run's faults and
    every loss that is not explained (grouped by fault and reason)."""
    lines = [
        "## Fault campaign",
        "",
        "Many snipes at once on the local stack while faults are injected: eBay "
        "errors, timeouts, dropped connections, bids placed whose answer is held "
        "back, token expiry, schedules delivered twice, late or not at all, users "
        "editing and cancelling during the sleep, DynamoDB throttling, executors "
        "killed mid-sleep. A fixed seed picks which snipe meets which fault "
        "(`bench/fault_campaign.py`; `make bench-faults`). *Placed twice* counts "
        "listings where eBay saw more than one bid of ours; a loss is *explained* "
        "only when its fault outlasted the retry window and the reason says so; "
        "*broken promises* are acknowledged edits or cancels eBay did not get, and "
        "bids eBay holds that the sniper calls FAILED. *Machine*: the 1-minute load "
        "at worst and the latest a schedule fired or an invocation got a container "
        "(a stalled stack, not a fault).",
        "",
        "| N | seed | busy | expected | placed | placed twice | lost (explained /"
        " unexplained) | non-final | broken promises | late p99 | run | machine |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for result in results:
        phases = result["phases_s"]
        lines.append(
            f"| {result['n']:,} | {result['seed']} | "
            f"{result['settings'].get('concurrency')} | {result['expected']} | "
            f"{result['placed']} | {result['placed_twice']} | {result['lost']} "
            f"({result['lost_explained']} / {result['lost_unexplained']}) | "
            f"{result['non_final']} | {result['broken_promises']} | "
            f"{result['lateness_ms'].get('p99')} ms | "
            f"{_minutes(phases.get('total', 0))} | load "
            f"{phases.get('load_1m_max')}, {phases.get('schedules_late_max_s')} s |"
        )
    if not results:
        return "\n".join(lines)
    largest = results[-1]
    lines += [
        "",
        f"By fault, N = {largest['n']:,}:",
        "",
        "| fault | snipes | placed | lost | unexplained |",
        "|---|---|---|---|---|",
    ]
    for kind, row in largest["by_fault"].items():
        lines.append(
            f"| {kind} | {row['snipes']} | {row['placed']} | {row['lost']} | "
            f"{row['unexplained']} |"
        )
    groups: Counter[tuple[int, str, str, str]] = Counter()
    for result in results:
        for lost in result["lost_snipes"]:
            if not lost["explained"]:
                fault = lost["fault"] or "no fault"
                stalled = lost.get("stackStalledS") or 0
                stall = f"{stalled:.0f} s" if stalled >= 2 else ""
                groups[(result["n"], fault, stall, str(lost["reason"]))] += 1
    if groups:
        lines += [
            "",
            "Unexplained losses: defects, unless the stack stalled meanwhile "
            "(schedules fired that late while the snipe ran: other load on the "
            "machine):",
            "",
            "| N | fault | snipes | stack stalled | the bid's reason |",
            "|---|---|---|---|---|",
        ]
        for (n, fault, stall, reason), count in sorted(groups.items())[:30]:
            lines.append(f"| {n:,} | {fault} | {count} | {stall} | {reason} |")
    return "\n".join(lines)


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def load_results() -> list[dict[str, Any]]:
    """Every stored campaign, smallest N first."""
    folder = ROOT / "bench" / "results"
    found = []
    for path in sorted(folder.glob("fault_campaign_*.json")):
        data = json.loads(path.read_text())
        if isinstance(data.get("n"), int) and "placed" in data:
            found.append(data)
    return sorted(found, key=lambda r: int(r["n"]))
