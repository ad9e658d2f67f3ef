"""Telling users how their snipes ended, or to link eBay again: by email, once.

The rules, in the order they are checked:
- the user must still exist and be active: a deleted account is logged and
  skipped, never an error (its events may still be in flight);
- preferences decide: `emailNotifications` is the master switch; WON also needs
  `bidWinNotifications`, LOST `bidLossNotifications`; FAILED, CANCELLED and
  re-link reminders go whenever the master switch is on;
- only a verified address is written to: an unverified one may be a typo or
  someone else's, and the mail would tell a stranger about the user's bids;
- the bid is read again (the event carries only ids and amounts): a bid gone is
  skipped, and a bid stored with another final status than the event's is not
  contradicted by an email;
- the message is rendered (`sniper.email.render`) and sent. A refusal of this
  message (invalid or inactive address) is an answer, not an error: logged
  without the address and returned as not sent, so Lambda does not retry what
  would be refused again. An unavailable email service raises: Lambda retries.

`IdempotentNotifier` wraps `NotificationService.notify` with Powertools'
idempotency: one email per bid and outcome (and per user and link expiry for
reminders), whatever Lambda's at-least-once delivery or a retry repeats.
"""

from __future__ import annotations

from typing import Any, Protocol

from aws_lambda_powertools.utilities.idempotency import (
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.persistence.base import (
    BasePersistenceLayer,
)
from aws_lambda_powertools.utilities.idempotency.persistence.datarecord import (
    DataRecord,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import (
    PydanticSerializer,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from sniper.email.message import (
    EmailRejected,
    EmailSender,
    EmailUnavailable,
    OutgoingEmail,
)
from sniper.email.render import (
    BidOutcomeView,
    RenderedEmail,
    render_bid_outcome,
    render_relink_reminder,
)
from sniper.models.notifications import (
    OUTCOME_STATUSES,
    Notification,
    NotificationOutcome,
    NotificationResult,
)
from sniper.models.snipe import BidNotificationEvent, RelinkReminderEvent
from sniper.models.statuses import FINAL_STATUSES, BidStatus
from sniper.models.users import UserPreferences
from sniper.observability import logger
from sniper.repositories.bids import StoredBid
from sniper.repositories.users import StoredProfile

# What makes two notifications the same: the kind and, for a bid, its id and
# outcome; for a reminder, the user and the expiry it warns about. Amounts and
# reasons are left out on purpose: a retry that carries a final price the first
# attempt lacked is still the same notification.
IDEMPOTENCY_KEY = "[kind, userId, bidId, status, refreshTokenExpiresAt]"
IDEMPOTENCY_KEY_PREFIX = "notification"
# An outcome happens once per bid; a month outlasts any replay of the executor's
# sweeps and the daily reminder job's warning window.
IDEMPOTENCY_SECONDS = 30 * 86_400


class ProfileReader(Protocol):
    def get_profile(self, user_id: str) -> StoredProfile | None: ...


class BidReader(Protocol):
    def get(self, user_id: str, bid_id: str) -> StoredBid | None: ...


def _not_sent(reason: NotificationOutcome) -> NotificationResult:
    return NotificationResult(sent=False, reason=reason)


def wants(preferences: UserPreferences, status: BidStatus) -> bool:
    """Whether the user's preferences ask for this outcome's email."""
    if not preferences.emailNotifications:
        return False
    if status is BidStatus.WON:
        return preferences.bidWinNotifications
    if status is BidStatus.LOST:
        return preferences.bidLossNotifications
    return True


class NotificationService:
    """Decides whether a notification is wanted, renders it and sends it."""

    def __init__(
        self, profiles: ProfileReader, bids: BidReader, sender: EmailSender
    ) -> None:
        self.profiles = profiles
        self.bids = bids
        self.sender = sender

    def notify(self, notification: Notification) -> NotificationResult:
        """Send `notification`'s email if the rules allow; raises `EmailUnavailable`
        only when trying again later may succeed."""
        profile = self.profiles.get_profile(notification.userId)
        if profile is None:
            logger.info("user not found (account deleted?), not sent")
            return _not_sent(NotificationOutcome.USER_NOT_FOUND)
        if not profile.is_active:
            logger.info("account inactive, not sent")
            return _not_sent(NotificationOutcome.ACCOUNT_INACTIVE)
        preferences = UserPreferences.from_stored(profile.preferences)
        if isinstance(notification, RelinkReminderEvent):
            return self._remind(notification, profile, preferences)
        return self._bid_ended(notification, profile, preferences)

    def _remind(
        self,
        reminder: RelinkReminderEvent,
        profile: StoredProfile,
        preferences: UserPreferences,
    ) -> NotificationResult:
        refusal = self._refusal(profile, preferences.emailNotifications)
        if refusal is not None:
            return refusal
        email = render_relink_reminder(
            reminder.refreshTokenExpiresAt, preferences.timezone
        )
        return self._send(profile, email, {"kind": reminder.kind.value})

    def _bid_ended(
        self,
        event: BidNotificationEvent,
        profile: StoredProfile,
        preferences: UserPreferences,
    ) -> NotificationResult:
        if event.status not in OUTCOME_STATUSES:
            logger.warning("not an outcome, not sent", extra={"status": event.status})
            return _not_sent(NotificationOutcome.NOT_AN_OUTCOME)
        refusal = self._refusal(profile, wants(preferences, event.status))
        if refusal is not None:
            return refusal
        bid = self.bids.get(event.userId, event.bidId)
        if bid is None:
            logger.info("bid not found (deleted?), not sent")
            return _not_sent(NotificationOutcome.BID_NOT_FOUND)
        if bid.status in FINAL_STATUSES and bid.status is not event.status:
            logger.warning(
                "the bid is stored with another outcome, not sent",
                extra={"status": event.status, "storedStatus": bid.status},
            )
            return _not_sent(NotificationOutcome.STATUS_MISMATCH)
        view = BidOutcomeView(
            status=event.status,
            ebay_item_id=bid.ebay_item_id,
            currency=bid.currency,
            max_bid_cents=bid.max_bid_amount,
            item_title=bid.item_title,
            item_url=bid.item_url,
            final_price_cents=(
                bid.final_price if bid.final_price is not None else event.finalPrice
            ),
            reason=bid.reason or event.reason,
            lateness_ms=bid.lateness_ms,
            lead_seconds=bid.snipe_lead_seconds,
            auction_end_time=bid.auction_end_time,
        )
        email = render_bid_outcome(view, preferences.timezone)
        metadata = {
            "kind": event.kind.value,
            "bidId": event.bidId,
            "status": event.status.value,
        }
        return self._send(profile, email, metadata)

    @staticmethod
    def _refusal(profile: StoredProfile, wanted: bool) -> NotificationResult | None:
        if not wanted:
            logger.info("notifications off in preferences, not sent")
            return _not_sent(NotificationOutcome.NOTIFICATIONS_OFF)
        if not profile.email_verified:
            logger.info("unverified address, not sent")
            return _not_sent(NotificationOutcome.UNVERIFIED_ADDRESS)
        return None

    def _send(
        self, profile: StoredProfile, email: RenderedEmail, metadata: dict[str, str]
    ) -> NotificationResult:
        message = OutgoingEmail(
            to=profile.email,
            subject=email.subject,
            html_body=email.html,
            text_body=email.text,
            tag=email.tag,
            metadata=metadata,
        )
        try:
            message_id = self.sender.send(message)
        except EmailRejected as refusal:
            details = {
                "httpStatus": refusal.status,
                "postmarkErrorCode": refusal.error_code,
            }
            if refusal.recipient:
                logger.warning("the address was refused, not sent", extra=details)
                return _not_sent(NotificationOutcome.RECIPIENT_REJECTED)
            logger.error("the email was refused, not sent", extra=details)
            return _not_sent(NotificationOutcome.POSTMARK_REJECTED)
        except EmailUnavailable as error:
            logger.warning(
                "email service unavailable; Lambda will retry",
                extra={"problem": str(error)},
            )
            raise
        logger.info("email sent", extra={"tag": email.tag, "messageId": message_id})
        return NotificationResult(
            sent=True, reason=NotificationOutcome.SENT, messageId=message_id or None
        )


def _replayed(response: Any, idempotent_data: DataRecord) -> Any:
    """A repeat gets the first answer, marked, and sends nothing."""
    logger.info("notification already handled, nothing sent again")
    if isinstance(response, NotificationResult):
        return response.model_copy(update={"duplicate": True})
    return response


def idempotency_config() -> IdempotencyConfig:
    return IdempotencyConfig(
        event_key_jmespath=IDEMPOTENCY_KEY,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=IDEMPOTENCY_SECONDS,
        response_hook=_replayed,
    )


class IdempotentNotifier:
    """`NotificationService.notify`, at most once per notification.

    A completed notification (sent or not) is answered from the record; one that
    raised leaves no record, so Lambda's retry tries again; a concurrent duplicate
    raises `IdempotencyAlreadyInProgressError`, and its retry finds the result.
    """

    def __init__(
        self,
        service: NotificationService,
        persistence: BasePersistenceLayer,
        config: IdempotencyConfig | None = None,
    ) -> None:
        self.config = config or idempotency_config()
        self._notify = idempotent_function(
            service.notify,
            data_keyword_argument="notification",
            persistence_store=persistence,
            config=self.config,
            output_serializer=PydanticSerializer(model=NotificationResult),
            key_prefix=IDEMPOTENCY_KEY_PREFIX,
        )

    def __call__(
        self, notification: Notification, context: LambdaContext | None = None
    ) -> NotificationResult:
        """`context` bounds an in-progress record to this invocation's time, so a
        retry after a timeout is not locked out."""
        if context is not None:
            self.config.register_lambda_context(context)
        result: NotificationResult = self._notify(notification=notification)
        return result
