"""The user profile and its preferences, as the API shows and accepts them."""

from __future__ import annotations

import unicodedata
import zoneinfo
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
)

from sniper.models.base import Model
from sniper.models.leads import (
    DEFAULT_SNIPE_LEAD_SECONDS,
    MAX_SNIPE_LEAD_SECONDS,
    MIN_SNIPE_LEAD_SECONDS,
)

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


@cache
def _known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _check_timezone(value: str) -> str:
    if value not in _known_timezones():
        shown = value if len(value) <= 64 else value[:61] + "..."
        raise ValueError(f"'{shown}' is not an IANA time zone such as Europe/Berlin")
    return value


# Control, format (zero-width, bidi overrides), surrogate and private-use characters:
# invisible or unprintable, never part of an address a mail server would deliver to.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})


def _check_visible(value: str) -> str:
    if any(unicodedata.category(char) in _HIDDEN_CATEGORIES for char in value):
        raise ValueError("contains control or invisible characters")
    return value


Email = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=254, pattern=EMAIL_PATTERN),
    AfterValidator(_check_visible),
]
Timezone = Annotated[
    str,
    AfterValidator(_check_timezone),
    Field(description="IANA time zone for dates in emails", examples=["Europe/Berlin"]),
]
SnipeLeadSeconds = Annotated[
    int,
    Field(
        ge=MIN_SNIPE_LEAD_SECONDS,
        le=MAX_SNIPE_LEAD_SECONDS,
        description="seconds before the end a new bid goes out, unless it says",
    ),
]


class UserPreferences(Model):
    """How a user wants to be told about their snipes, and how close to bid."""

    model_config = ConfigDict(extra="forbid")

    emailNotifications: bool = Field(
        default=True, description="the master switch: no email at all when false"
    )
    bidWinNotifications: bool = Field(default=True, description="email a won bid")
    bidLossNotifications: bool = Field(default=True, description="email a lost bid")
    timezone: Timezone = "UTC"
    defaultSnipeLeadSeconds: SnipeLeadSeconds = DEFAULT_SNIPE_LEAD_SECONDS

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any] | None) -> UserPreferences:
        """Preferences read back from storage, tolerantly.

        Request bodies stay strict, but a stored item may carry a key a later
        release dropped, or a value a later rule refuses (a time zone IANA
        retired): those fall back to the default instead of failing every read
        of the profile.
        """
        kept: dict[str, Any] = {}
        for name, value in (stored or {}).items():
            if name not in cls.model_fields:
                continue
            try:
                cls.model_validate({name: value})
            except ValidationError:
                continue
            kept[name] = value
        return cls.model_validate(kept)


class PreferencesUpdate(Model):
    """A partial change of preferences: fields left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    # Strict: `0` or "yes" for a switch is a client bug worth refusing (a request
    # body; stored preferences are read tolerantly by `Preferences`).
    emailNotifications: StrictBool | None = None
    bidWinNotifications: StrictBool | None = None
    bidLossNotifications: StrictBool | None = None
    timezone: Timezone | None = None
    defaultSnipeLeadSeconds: Annotated[SnipeLeadSeconds, Field(strict=True)] | None = (
        None
    )

    def changes(self) -> dict[str, object]:
        """Only the fields the caller set to a value."""
        return self.model_dump(exclude_none=True)


class UpdateUserRequest(Model):
    """A change of the profile: a new email, new preferences, or both."""

    model_config = ConfigDict(extra="forbid")

    email: Email | None = None
    preferences: PreferencesUpdate | None = None


class UserProfileResponse(Model):
    """The profile as the frontend sees it."""

    userId: str
    email: str
    createdAt: int = Field(description="Unix seconds")
    updatedAt: int = Field(description="Unix seconds")
    preferences: UserPreferences
    isActive: bool
    emailVerified: bool = Field(
        description=(
            "Whether the sign-in provider verified this address for the user. Only a "
            "verified address is reserved for its owner; an unverified one is kept "
            "but claims nothing."
        )
    )
