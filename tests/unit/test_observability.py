"""Secrets never reach a log line, whatever a developer passes to the logger."""

from __future__ import annotations

import io
import json
import logging

from sniper.observability import MASK, logger, redact


def test_secret_keys_are_masked_at_any_depth() -> None:
    record = {
        "access_token": "v^1.1#secret",
        "nested": {"refreshToken": "r-secret", "Authorization": "Bearer abc"},
        "items": [{"client_secret": "s"}],
        "code": "oauth-code",
        "count": 3,
    }

    masked = redact(record)

    assert masked == {
        "access_token": MASK,
        "nested": {"refreshToken": MASK, "Authorization": MASK},
        "items": [{"client_secret": MASK}],
        "code": MASK,
        "count": 3,
    }


def test_bearer_values_inside_messages_are_masked() -> None:
    assert redact("sent Bearer v^1.1#abc|def to eBay") == f"sent Bearer {MASK} to eBay"
    assert redact("Basic c2VjcmV0OnBhc3M=") == f"Basic {MASK}"


def test_the_logger_writes_masked_json() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logger.registered_formatter)
    logger.addHandler(handler)
    try:
        logger.warning(
            "calling eBay with Bearer tok-123", extra={"refresh_token": "rt-456"}
        )
    finally:
        logger.removeHandler(handler)

    line = json.loads(stream.getvalue().strip().splitlines()[-1])
    assert "tok-123" not in json.dumps(line)
    assert "rt-456" not in json.dumps(line)
    assert line["refresh_token"] == MASK
