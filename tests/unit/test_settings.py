"""Settings: read once, and a missing one names itself."""

from __future__ import annotations

import pytest

from sniper.settings import (
    DEFAULT_CORS_ORIGINS,
    ApiSettings,
    MissingSettingError,
    TableNames,
)


def test_a_missing_table_name_names_the_variable() -> None:
    tables = TableNames({"USERS_TABLE": "users-dev"})

    assert tables.users == "users-dev"
    with pytest.raises(MissingSettingError, match="BIDS_TABLE is not set"):
        _ = tables.bids


def test_a_blank_table_name_counts_as_missing() -> None:
    with pytest.raises(MissingSettingError, match="BID_HISTORY_TABLE"):
        _ = TableNames({"BID_HISTORY_TABLE": "  "}).bid_history


def test_cors_origins_are_a_trimmed_list_with_a_local_default() -> None:
    configured = ApiSettings.from_environ(
        {"CORS_ORIGINS": " https://a.example , https://b.example,", "STAGE": "prod"}
    )
    default = ApiSettings.from_environ({})

    assert configured.cors_origins == ("https://a.example", "https://b.example")
    assert configured.stage == "prod"
    assert default.cors_origins == DEFAULT_CORS_ORIGINS
    assert default.stage == "dev"
