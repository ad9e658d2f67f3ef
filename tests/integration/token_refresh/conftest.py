"""Token Refresh against moto and the emulator: linked accounts, bids, reminders."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import SecretStr

from local.template.loader import load_template
from local.template.tables import create_tables
from sniper import aws, composition, composition_bids
from sniper.clock import Clock
from sniper.models.snipe import RelinkReminderEvent
from sniper.repositories.bid_history import BidHistoryRepository
from sniper.repositories.bids import BidRepository
from sniper.repositories.ebay_links import LINK_SK, EbayLinkRepository, StoredEbayLink
from sniper.services.token_refresh import TokenRefreshService
from sniper.token_cipher import TokenCipher
from tests.conftest import TABLE_ENV, MockedAws, reset_containers
from tests.support.atomic_moto import atomic_moto
from tests.support.ebay_world import EbayWorld
from tests.support.handlers import ROOT

DAY = 86_400
TOKEN_PATH = "/identity/v1/oauth2/token"


@pytest.fixture
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[MockedAws]:
    """The root fixture's account, with moto's Lambda that needs no Docker: an
    invoke is answered at once, so the real LambdaNotifier can be used."""
    with mock_aws(config={"lambda": {"use_docker": False}}), atomic_moto():
        template = load_template(ROOT / "template.yaml")
        names = create_tables(boto3.client("dynamodb"), template, stage="test")
        for logical_id, variable in TABLE_ENV.items():
            if logical_id in names:
                monkeypatch.setenv(variable, names[logical_id])
        reset_containers()
        yield MockedAws(tables=names)
        reset_containers()


@pytest.fixture(autouse=True)
def fresh_bid_composition() -> Iterator[None]:
    """The root fixtures forget `sniper.composition`; the bid builders too here."""
    composition_bids.reset()
    yield
    composition_bids.reset()


@dataclass
class Reminders:
    """Our own notifier interface, keeping what it was asked to send."""

    sent: list[RelinkReminderEvent] = field(default_factory=list)
    failures_left: int = 0

    def send(self, event: RelinkReminderEvent) -> None:
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("Lambda throttled the invoke")
        self.sent.append(event)

    def users(self) -> list[str]:
        return [event.userId for event in self.sent]


@dataclass
class FixedClock:
    at: float

    def now(self) -> float:
        return self.at


@dataclass
class Accounts:
    """eBay links stored as the OAuth callback stores them, with tokens the
    emulator issued, and the expiries a scenario needs."""

    ebay: EbayWorld
    links: EbayLinkRepository
    cipher: TokenCipher
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    def link(
        self,
        user_id: str,
        *,
        refresh_expires_in: int = 500 * DAY,
        access_expires_in: int = 7_200,
        refresh_token: str | None = None,
        now: float | None = None,
    ) -> StoredEbayLink:
        """Link `user_id`; `refresh_token` replaces the one eBay issued (one
        eBay does not know is one it refuses)."""
        now = time.time() if now is None else now
        grant = self.ebay.admin("POST", f"/users/ebay-{user_id}/tokens").json()
        access = grant["access_token"]
        refresh = refresh_token or grant["refresh_token"]
        self.tokens[user_id] = {"access": access, "refresh": refresh}
        link = StoredEbayLink(
            user_id=user_id,
            ebay_user_id=f"EBAY-{user_id}",
            ebay_username=f"ebay-{user_id}",
            access_token_ciphertext=self.cipher.encrypt(user_id, SecretStr(access)),
            access_token_expires_at=int(now + access_expires_in),
            refresh_token_ciphertext=self.cipher.encrypt(user_id, SecretStr(refresh)),
            refresh_token_expires_at=int(now + refresh_expires_in),
            linked_at=int(now),
            updated_at=int(now),
        )
        self.links.save(link)
        return link

    def stored(self, user_id: str) -> dict[str, Any]:
        item: dict[str, Any] = self.links.table.get_item(
            Key={"userId": user_id, "sk": LINK_SK}, ConsistentRead=True
        )["Item"]
        return item

    def all_tokens(self) -> list[str]:
        return [value for pair in self.tokens.values() for value in pair.values()]


@pytest.fixture
def accounts(ebay: EbayWorld) -> Accounts:
    return Accounts(ebay, composition.ebay_links(), TokenCipher(ebay.key_arn))


@pytest.fixture
def bids(mocked_aws: MockedAws) -> BidRepository:
    return BidRepository(
        mocked_aws.tables["BidsTable"],
        BidHistoryRepository(mocked_aws.tables["BidHistoryTable"]),
    )


@pytest.fixture
def reminders() -> Reminders:
    return Reminders()


@pytest.fixture
def job(ebay: EbayWorld, bids: BidRepository, reminders: Reminders) -> Any:
    """A run of the job, as the handler composes it but with the fake notifier;
    `clock` moves the job's own time (the tokens' provider keeps real time)."""

    def run(clock: Clock | None = None, threshold_days: int = 7) -> Any:
        service = TokenRefreshService(
            links=composition.ebay_links(),
            bids=bids,
            tokens=composition.user_tokens(),
            notifier=reminders,
            threshold_days=threshold_days,
            clock=clock,
        )
        return service.run()

    return run


def token_calls(ebay: EbayWorld) -> int:
    """Calls of eBay's token endpoint the emulator has seen."""
    journal = ebay.admin("GET", "/requests").json()
    return sum(1 for entry in journal if entry["path"] == TOKEN_PATH)


@dataclass
class AwsCalls:
    """Every DynamoDB and Lambda request the functions' clients sent."""

    calls: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(
        default_factory=list
    )

    def record(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        body = params.get("body") or b"{}"
        payload = json.loads(body) if model.name != "Invoke" else {"raw": body}
        self.calls.append((model.name, payload, dict(params.get("headers", {}))))

    def operations(self) -> list[str]:
        return [name for name, _, _ in self.calls]

    def of(self, operation: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        return [
            (body, headers) for name, body, headers in self.calls if name == operation
        ]


@pytest.fixture
def aws_calls(ebay: EbayWorld) -> AwsCalls:
    """Watches the requests on their way to moto (nothing is answered here)."""
    recorder = AwsCalls()
    for client in (
        aws.dynamodb_resource().meta.client,
        aws.dynamodb_client(),
        aws.lambda_client(),
    ):
        client.meta.events.register("before-call", recorder.record)
    return recorder


@pytest.fixture
def notification_function(
    mocked_aws: MockedAws, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A function in moto's Lambda standing in for the Notification Handler."""
    role = boto3.client("iam").create_role(
        RoleName="notification-handler",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("app.py", "def handler(event, context):\n    return None\n")
    name = "ebay-sniper-notification-handler-test"
    boto3.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.11",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": archive.getvalue()},
    )
    monkeypatch.setenv("NOTIFICATION_FUNCTION_NAME", name)
    return name
