"""Profiles: created on first sight, kept unique by email, erased on request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sniper.auth import AuthenticatedUser
from sniper.clock import Clock, SystemClock
from sniper.errors import AccountDeletedError, ConflictError, NotFoundError
from sniper.models.users import (
    PreferencesUpdate,
    UpdateUserRequest,
    UserPreferences,
    UserProfileResponse,
)
from sniper.observability import logger
from sniper.repositories.users import (
    AccountDeleted,
    EmailTaken,
    ProfileAlreadyExists,
    ProfileChanged,
    ProfileMissing,
    StoredProfile,
    UsersRepository,
)


class Erasable(Protocol):
    """Something that holds a user's data and can forget all of it."""

    def erase(self, user_id: str) -> int: ...


class IdentityDirectory(Protocol):
    """Where users sign in (Cognito): deleting an account deletes its user there."""

    def delete(self, username: str) -> bool: ...


class BidCanceller(Protocol):
    """Ends every active bid of a user, as account deletion must before erasing."""

    def cancel_all(self, user_id: str, reason: str) -> int: ...


EMAIL_TAKEN_MESSAGE = "This email address is already used by another account."
ACCOUNT_DELETED_MESSAGE = (
    "This account was deleted. Sign up again to use the sniper with a new account."
)


class UserService:
    """Profile rules over the Users table, and account erasure across all stores."""

    def __init__(
        self,
        users: UsersRepository,
        erasers: Sequence[Erasable] = (),
        clock: Clock | None = None,
        *,
        identities: IdentityDirectory | None = None,
        bids: BidCanceller | None = None,
        tombstone_seconds: int = 86_400,
    ) -> None:
        self.users = users
        self.erasers = erasers
        self.clock = clock or SystemClock()
        self.identities = identities
        self.bids = bids
        self.tombstone_seconds = tombstone_seconds

    def get_profile(self, caller: AuthenticatedUser) -> UserProfileResponse:
        """The caller's profile, created from the token's claims on first sight."""
        return to_response(self._profile_of(caller))

    def update_profile(
        self, caller: AuthenticatedUser, request: UpdateUserRequest
    ) -> UserProfileResponse:
        """Change the email and/or preferences.

        A new email claims the address for the caller only if it is the one the
        identity provider verified for them; any other is stored unverified and
        claims nothing, so nobody can lock an owner out of their own address.
        """
        profile = self._profile_of(caller)
        preferences = request.preferences.changes() if request.preferences else {}
        if request.email is not None and request.email != profile.email:
            new_email = str(request.email)
            verified = _same_address(caller.verified_email, new_email)
            profile = self._retry_on_race(
                lambda current: self.users.change_email(
                    current, new_email, verified, self._now(), preferences
                ),
                caller,
            )
        elif preferences and request.preferences:
            profile = self._set_preferences(caller, request.preferences)
        return to_response(profile)

    def update_preferences(
        self, caller: AuthenticatedUser, update: PreferencesUpdate
    ) -> UserProfileResponse:
        """Set the fields sent: one conditional UpdateItem when the profile exists
        (it answers the whole profile); created from the token's claims first
        when it does not."""
        if not update.changes():
            return self.get_profile(caller)
        try:
            profile = self.users.update_preferences(
                caller.user_id, update.changes(), self._now()
            )
        except ProfileMissing:
            self._profile_of(caller)
            return to_response(self._set_preferences(caller, update))
        return to_response(self._verify_if_vouched(caller, profile))

    def delete_account(self, caller: AuthenticatedUser) -> None:
        """Erase every item the caller owns; safe to repeat after a partial failure.

        The tombstone comes first: from then on no request, however long in
        flight, and no token still valid can write the account back. Active bids
        are cancelled (schedules deleted) before their data goes; the profile
        goes last, so an interrupted erasure leaves a profile behind that a
        retried DELETE finds and finishes; the Cognito user goes after the data.
        """
        self.users.write_tombstone(caller.user_id, self._now(), self.tombstone_seconds)
        if self.bids is not None:
            self.bids.cancel_all(caller.user_id, "The account was deleted.")
        for store in self.erasers:
            store.erase(caller.user_id)
        self.users.erase(caller.user_id)
        if self.identities is not None:
            self.identities.delete(caller.username or caller.user_id)

    def _profile_of(self, caller: AuthenticatedUser) -> StoredProfile:
        profile = self.users.get_profile(caller.user_id)
        if profile is not None:
            return self._verify_if_vouched(caller, profile)
        if not caller.email:
            if self.users.is_deleted(caller.user_id):
                raise AccountDeletedError(ACCOUNT_DELETED_MESSAGE)
            raise NotFoundError(
                "No profile yet, and the sign-in token carries no email to create one."
            )
        now = self._now()
        profile = StoredProfile(
            user_id=caller.user_id,
            email=caller.email,
            created_at=now,
            updated_at=now,
            preferences=UserPreferences().model_dump(),
            email_verified=caller.email_verified,
        )
        try:
            self.users.create_profile(profile)
        except AccountDeleted as error:
            raise AccountDeletedError(ACCOUNT_DELETED_MESSAGE) from error
        except ProfileAlreadyExists:
            existing = self.users.get_profile(caller.user_id)
            if existing is None:
                raise
            return existing
        except EmailTaken as error:
            raise ConflictError(EMAIL_TAKEN_MESSAGE) from error
        return profile

    def _verify_if_vouched(
        self, caller: AuthenticatedUser, profile: StoredProfile
    ) -> StoredProfile:
        """Claim the address of an unverified profile once the token vouches for it.

        If another account holds it meanwhile, the profile stays unverified: the
        caller still gets their profile, never an error.
        """
        if profile.email_verified or not _same_address(
            caller.verified_email, profile.email
        ):
            return profile
        try:
            return self.users.change_email(profile, profile.email, True, self._now())
        except (EmailTaken, ProfileChanged, ProfileMissing):
            logger.info("Verified email not claimed: another account holds it")
            return self.users.get_profile(caller.user_id) or profile

    def _set_preferences(
        self, caller: AuthenticatedUser, update: PreferencesUpdate
    ) -> StoredProfile:
        try:
            return self.users.update_preferences(
                caller.user_id, update.changes(), self._now()
            )
        except ProfileMissing as error:
            raise NotFoundError("The profile was deleted.") from error

    def _retry_on_race(
        self,
        change: Callable[[StoredProfile], StoredProfile],
        caller: AuthenticatedUser,
        attempts: int = 3,
    ) -> StoredProfile:
        """Apply a conditional change, re-reading when a concurrent one won."""
        for _ in range(attempts):
            current = self.users.get_profile(caller.user_id)
            if current is None:
                if self.users.is_deleted(caller.user_id):
                    raise AccountDeletedError(ACCOUNT_DELETED_MESSAGE)
                raise NotFoundError("The profile was deleted.")
            try:
                return change(current)
            except EmailTaken as error:
                raise ConflictError(EMAIL_TAKEN_MESSAGE) from error
            except ProfileChanged:
                continue
            except ProfileMissing as error:
                raise NotFoundError("The profile was deleted.") from error
        raise ConflictError("The profile changed meanwhile; try again.")

    def _now(self) -> int:
        return int(self.clock.now())


def to_response(profile: StoredProfile) -> UserProfileResponse:
    """The stored profile as the API shows it, preferences completed by defaults."""
    return UserProfileResponse(
        userId=profile.user_id,
        email=profile.email,
        createdAt=profile.created_at,
        updatedAt=profile.updated_at,
        preferences=UserPreferences.from_stored(profile.preferences),
        isActive=profile.is_active,
        emailVerified=profile.email_verified,
    )


def _same_address(verified: str | None, email: str) -> bool:
    return verified is not None and verified.strip().lower() == email.strip().lower()
