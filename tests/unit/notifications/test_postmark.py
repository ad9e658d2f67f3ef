"""Postmark's settings, the token's secret and what each answer means for a retry."""

from __future__ import annotations

import pytest

from sniper.email.message import EmailRejected, EmailUnavailable
from sniper.email.postmark import (
    DEFAULT_API_URL,
    PostmarkConfigError,
    PostmarkSettings,
    classify,
    server_token_from_secret,
)
from sniper.settings import MissingSettingError

TOKEN = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


@pytest.mark.parametrize(
    "value",
    [
        f'{{"serverToken": "{TOKEN}"}}',
        f'  {{"serverToken": " {TOKEN} ", "note": "x"}}\n',
        TOKEN,
        f"{TOKEN}\n",
    ],
)
def test_the_secret_holds_json_or_the_bare_token(value: str) -> None:
    assert server_token_from_secret(value) == TOKEN


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "empty"),
        (None, "empty"),
        ('{"serverToken": ', "not valid JSON"),
        ('{"token": "abc"}', 'lacks "serverToken"'),
        ('{"serverToken": ""}', 'lacks "serverToken"'),
        ('{"serverToken": "REPLACE_ME"}', "placeholder"),
        ("REPLACE_ME", "placeholder"),
    ],
)
def test_a_bad_secret_is_a_configuration_error_that_quotes_nothing(
    value: str | None, problem: str
) -> None:
    with pytest.raises(PostmarkConfigError, match=problem) as raised:
        server_token_from_secret(value)

    assert isinstance(raised.value, EmailUnavailable)  # retried, then kept
    assert "abc" not in str(raised.value)


def test_settings_come_from_the_environment() -> None:
    settings = PostmarkSettings.from_environ(
        {
            "POSTMARK_SECRET_ARN": "arn:secret",
            "EMAIL_FROM": "Sniper <n@example.com>",
            "POSTMARK_API_URL": "http://127.0.0.1:3300",
        }
    )

    assert settings.api_url == "http://127.0.0.1:3300/"  # postmarker joins to it
    assert settings.sender == "Sniper <n@example.com>"
    default = PostmarkSettings.from_environ(
        {"POSTMARK_SECRET_ARN": "arn:secret", "EMAIL_FROM": "n@example.com"}
    )
    assert default.api_url == DEFAULT_API_URL


@pytest.mark.parametrize("missing", ["POSTMARK_SECRET_ARN", "EMAIL_FROM"])
def test_missing_settings_are_named(missing: str) -> None:
    environ = {"POSTMARK_SECRET_ARN": "arn:secret", "EMAIL_FROM": "n@example.com"}
    del environ[missing]

    with pytest.raises(MissingSettingError, match=missing):
        PostmarkSettings.from_environ(environ)


@pytest.mark.parametrize(
    ("status", "code", "kind", "recipient"),
    [
        (422, 300, EmailRejected, True),  # invalid request or address
        (422, 406, EmailRejected, True),  # inactive recipient
        (422, 411, EmailRejected, False),  # forbidden attachment type
        (422, 402, EmailRejected, False),  # invalid JSON
        (404, None, EmailRejected, False),  # not Postmark's JSON at all
        (401, 10, EmailUnavailable, None),  # bad server token
        (422, 400, EmailUnavailable, None),  # sender signature not found
        (422, 401, EmailUnavailable, None),  # sender signature not confirmed
        (422, 412, EmailUnavailable, None),  # account pending
        (429, None, EmailUnavailable, None),
        (500, None, EmailUnavailable, None),
        (503, 100, EmailUnavailable, None),
    ],
)
def test_postmarks_answers_are_refusals_or_outages(
    status: int, code: int | None, kind: type[Exception], recipient: bool | None
) -> None:
    error = classify(status, code)

    assert type(error) is kind
    if isinstance(error, EmailRejected):
        assert error.recipient is recipient
        assert (error.status, error.error_code) == (status, code)
