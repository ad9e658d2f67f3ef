"""Profiles: created on first sight, kept unique by email, erased on request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from sniper.auth import AuthenticatedUser
from sniper.clock import Clock, SystemClock
from sniper.errors import ConflictError, NotFoundError
from sniper.models.users import (
    PreferencesUpdate,
    UpdateUserRequest,
    UserPreferences,
    UserProfileResponse,
)
from sniper.repositories.users import (
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


EMAIL_TAKEN_MESSAGE = "This email address is already used by another account."


class UserService:
    """Profile rules over the Users table, and account erasure across all stores."""

    def __init__(
        self,
        users: UsersRepository,
        erasers: Sequence[Erasable] = (),
        clock: Clock | None = None,
    ) -> None:
        self.users = users
        self.erasers = erasers
        self.clock = clock or SystemClock()

    def get_profile(self, caller: AuthenticatedUser) -> UserProfileResponse:
        """The caller's profile, created from the token's claims on first sight."""
        return to_response(self._profile_of(caller))

    def update_profile(
        self, caller: AuthenticatedUser, request: UpdateUserRequest
    ) -> UserProfileResponse:
        profile = self._profile_of(caller)
        preferences = request.preferences.changes() if request.preferences else {}
        if request.email is not None and request.email != profile.email:
            profile = self._retry_on_race(
                lambda current: self.users.change_email(
                    caller.user_id,
                    current.email,
                    str(request.email),
                    self._now(),
                    preferences,
                ),
                caller,
            )
        elif preferences and request.preferences:
            profile = self._set_preferences(caller, request.preferences)
        return to_response(profile)

    def update_preferences(
        self, caller: AuthenticatedUser, update: PreferencesUpdate
    ) -> UserProfileResponse:
        self._profile_of(caller)
        if not update.changes():
            return self.get_profile(caller)
        return to_response(self._set_preferences(caller, update))

    def delete_account(self, caller: AuthenticatedUser) -> None:
        """Erase every item the caller owns; safe to repeat after a partial failure.

        The profile goes last, so an interrupted erasure leaves a profile behind
        that a retried DELETE finds and finishes.
        """
        for store in self.erasers:
            store.erase(caller.user_id)
        self.users.erase(caller.user_id)

    def _profile_of(self, caller: AuthenticatedUser) -> StoredProfile:
        profile = self.users.get_profile(caller.user_id)
        if profile is not None:
            return profile
        if not caller.email:
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
        )
        try:
            self.users.create_profile(profile)
        except ProfileAlreadyExists:
            existing = self.users.get_profile(caller.user_id)
            if existing is None:
                raise
            return existing
        except EmailTaken as error:
            raise ConflictError(EMAIL_TAKEN_MESSAGE) from error
        return profile

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
        preferences=UserPreferences.model_validate(profile.preferences),
        isActive=profile.is_active,
    )
