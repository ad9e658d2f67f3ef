"""Contract fuzzing on the local stack: every operation of the committed
docs/openapi.json gets generated requests, valid and invalid, and every answer must
be one the document promises: a documented status with its content type, headers and
body schema, never a 5xx, and invalid input refused with a 4xx.

The frontend's typed client is generated from the same document, so a mismatch found
here is a type the frontend would trust and the API would break. Bounded to fit in
`make test`: a fixed number of examples per operation, derandomized (the same
requests every run), no shrinking (the failing request is reported as it was sent).
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.e2e.support import RunningStack, free_ports, start_stack
from tests.support.handlers import ROOT

pytestmark = pytest.mark.slow

DOCUMENT = ROOT / "docs" / "openapi.json"
# Per operation, on top of schemathesis' coverage cases (each field missing, each
# bound crossed): enough to reach the real bids and items below, and small enough
# for the whole run to take about a minute on two cores.
MAX_EXAMPLES = 20
SEED = 16
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
# The emulator's keyset plus what a deployment registers for eBay's account deletion
# notices: without these both notification routes answer 503 (not configured).
EBAY_APP = {
    "clientId": "sniper-local",
    "clientSecret": "sniper-local-secret",
    "ruName": "sniper-local-RuName",
    "verificationToken": "sniper-local_verification-token_0123456789",
    "deletionEndpointUrl": "https://sniper.example/ebay/notifications/account-deletion",
}
MAIN_USER = "fuzz-main"
UNLINKING_USER = "fuzz-unlinker"


@dataclass
class World:
    """What the requests act on: a linked user with real auctions on the watch list
    and bids on four of them, so success answers are checked too, not only the 4xx.
    DELETE /bids/{bidId} gets bids of its own: the others must stay editable."""

    stack: RunningStack
    main_token: str
    unlinking_token: str
    item_ids: list[str] = field(default_factory=list)
    bid_ids: list[str] = field(default_factory=list)
    cancellable_bid_ids: list[str] = field(default_factory=list)
    deleted_users: Iterator[int] = field(default_factory=itertools.count)
    # Per operation and id: which valid case this is (every other gets a real id).
    turns: defaultdict[str, Iterator[int]] = field(
        default_factory=lambda: defaultdict(itertools.count)
    )

    def token_for(self, case: Case[Any]) -> str:
        """Destructive routes get users of their own, so the main token stays valid
        and the main user linked."""
        route = (case.method.upper(), case.path)
        if route == ("DELETE", "/users/account"):
            # A new user each time: an erased account's token is refused afterwards.
            return self.stack.token(f"fuzz-deleted-{next(self.deleted_users)}")
        if route == ("DELETE", "/ebay/auth/unlink"):
            return self.unlinking_token
        return self.main_token


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    folder = tmp_path_factory.mktemp("fuzz-stack")
    (ebay_port,) = free_ports(1)
    running = start_stack(
        folder,
        template=ROOT / "template.yaml",
        ebay_port=ebay_port,
        extra=(
            *("--secret", f"EbayAppSecret={json.dumps(EBAY_APP)}"),
            # Unthrottled: which requests reach the functions must not depend on
            # how fast this machine sends them (429 is documented on every route).
            *("--parameter", "ThrottlingRateLimit=-1"),
            *("--parameter", "ThrottlingBurstLimit=-1"),
        ),
    )
    yield running
    running.stop()


def link(stack: RunningStack, token: str, ebay_user: str) -> None:
    """Link `ebay_user` through the emulator's consent page, as the frontend does."""
    assert stack.ebay is not None
    api = httpx.Client(
        base_url=stack.api, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    auth_url = api.get("/ebay/auth/url").json()["authUrl"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
    agreed = httpx.post(
        f"{stack.ebay}/oauth2/authorize",
        data={**query, "username": ebay_user, "decision": "agree"},
    )
    redirect = parse_qs(urlsplit(agreed.headers["location"]).query)
    linked = api.post(
        "/ebay/auth/callback",
        json={"code": redirect["code"][0], "state": redirect["state"][0]},
    )
    assert linked.status_code == 200, linked.text


@pytest.fixture(scope="module")
def world(fuzz_stack: RunningStack) -> World:
    stack = fuzz_stack
    assert stack.ebay is not None
    found = World(
        stack=stack,
        main_token=stack.token(MAIN_USER),
        unlinking_token=stack.token(UNLINKING_USER),
    )
    link(stack, found.main_token, f"{MAIN_USER}-on-ebay")
    link(stack, found.unlinking_token, f"{UNLINKING_USER}-on-ebay")
    admin = httpx.Client(base_url=f"{stack.ebay}/__admin", timeout=30)
    for n in range(6):
        listing = admin.post(
            "/listings",
            json={"title": f"Lot {n}", "startPrice": "10.00", "endsInSeconds": 7200},
        )
        assert listing.status_code == 201, listing.text
        item_id = str(listing.json()["itemId"])
        found.item_ids.append(item_id)
        watched = admin.post(
            f"/users/{MAIN_USER}-on-ebay/watchlist", json={"itemId": item_id}
        )
        assert watched.status_code == 201, watched.text
    api = httpx.Client(
        base_url=stack.api,
        headers={"Authorization": f"Bearer {found.main_token}"},
        timeout=30,
    )
    for n, item_id in enumerate(found.item_ids[:4]):
        made = api.post("/bids", json={"ebayItemId": item_id, "maxBidAmount": 2_500})
        assert made.status_code == 201, made.text
        (found.bid_ids if n < 2 else found.cancellable_bid_ids).append(
            made.json()["bidId"]
        )
    return found


# Where a generated id may be swapped for a real one: (container, name, which ids).
ID_PLACES = (
    ("path_parameters", "bidId", "bid"),
    ("path_parameters", "itemId", "item"),
    ("query", "ebayItemId", "item"),
    ("body", "ebayItemId", "item"),
)


def prepare(case: Case[Any], world: World) -> None:
    """Give a case the caller's token and, every other valid case, a real id.

    Done here, not in schemathesis hooks or an auth provider: its coverage cases are
    built at collection, before the stack runs, and its fixture-based loader breaks
    on pytest 9.2 (`Function._nodeid`). A case testing a missing or bad token keeps
    the one generated; an invalid case keeps its ids, so what makes it invalid
    reaches the server. Random ids alone would only ever reach the 404s.
    """
    if not case.operation.schema.is_security_param_negated(case):
        case.headers["Authorization"] = f"Bearer {world.token_for(case)}"
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    known = {
        "bid": (
            world.cancellable_bid_ids
            if case.method.upper() == "DELETE"
            else world.bid_ids
        ),
        "item": world.item_ids,
    }
    for location, name, kind in ID_PLACES:
        container = getattr(case, location)
        if isinstance(container, dict) and name in container:
            turn = next(world.turns[f"{case.operation.label} {name}"])
            if turn % 2:
                container[name] = known[kind][turn // 2 % len(known[kind])]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A node id per operation. schemathesis 4.32 on pytest 9.2 gives every
    operation's item the bare function's id, which pytest-xdist (`make test`)
    reports as one test, dropping the others' failures; with a parametrization it
    builds the id from the item's whole name, `...[GET /bids][seed16]`."""
    if "seed" in metafunc.fixturenames:
        metafunc.parametrize("seed", [SEED], ids=[f"seed{SEED}"])


# Loaded at import: schemathesis builds the tests (and the coverage phase's cases)
# at collection. An explicit config: no schemathesis.toml on the way up changes it.
schema = schemathesis.openapi.from_path(DOCUMENT, config=schemathesis.Config(seed=SEED))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
)
def test_every_answer_is_one_the_document_promises(
    case: Case[Any], world: World, seed: int
) -> None:
    del seed  # only names the item: see pytest_generate_tests
    prepare(case, world)
    case.call_and_validate(base_url=world.stack.api, checks=CHECKS, timeout=30)
