"""Secrets never reach a log line, whatever a developer passes to the logger."""

from __future__ import annotations

import io
import json
import logging
import random

from sniper.observability import MASK, logger, needs_redaction, redact


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


# ---------------------------------------------------------------- the fast path
def _as_logged(value: object) -> object:
    """What the JSON line holds: tuples serialise as lists."""
    if isinstance(value, dict):
        return {k: _as_logged(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_logged(v) for v in value]
    return value


def test_a_request_line_needs_no_redaction_and_one_with_a_secret_does() -> None:
    line = {
        "level": "INFO",
        "message": "Request handled",
        "correlation_id": "8e1d2c3b",
        "method": "GET",
        "route": "/users/profile",
        "status": 200,
        "duration_ms": 0.4,
    }

    assert not needs_redaction(line)
    assert needs_redaction({**line, "extra": {"refreshToken": "r"}})
    assert needs_redaction({**line, "headers": [{"Authorization": "x"}]})
    assert needs_redaction({**line, "message": "sent Bearer abc"})
    assert needs_redaction({**line, "code": "oauth-code"})


def test_the_letters_ignorecase_equates_with_ascii_ones_do_not_slip_through() -> None:
    # re's IGNORECASE matches U+0130 and U+0131 to i, U+017F to s, U+212A to k.
    keys = ("author\u0131zation", "author\u0130zation", "\u017fecret", "to\u212aen")
    for key in (*keys, "ACCESS_TOKEN"):
        assert redact({key: "v"}) == {key: MASK}
        assert needs_redaction({key: "v"}), key
    assert needs_redaction({"m": "BEARER abc"})
    assert needs_redaction(["sent B\u0131\u0131 Basic abc"])


def test_whatever_needs_no_redaction_is_logged_as_redact_would_log_it() -> None:
    """Random records from an alphabet full of the words redaction looks for."""
    rng = random.Random(14)
    pieces = [
        "a", "\u212a", "\u017f", "\u0131", "\u0130", " ", "\t", "\n", ":", "_", "-",
        "v^1.1#", "tok", "en", "to", "ken", "secret", "pass", "word", "authoriz",
        "ation", "cookie", "credential", "api", "key", "code", "bearer", "Basic",
        "Bear", "Bas", "ic", "s\u212aey", "ecret", "author", "zation", "to\u212a",
    ]  # fmt: skip

    def text() -> str:
        return "".join(rng.choice(pieces) for _ in range(rng.randint(0, 5)))

    def value(depth: int) -> object:
        kind = rng.random()
        if depth < 3 and kind < 0.2:
            return {text(): value(depth + 1) for _ in range(rng.randint(0, 4))}
        if depth < 3 and kind < 0.3:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        if kind < 0.4:
            return (text(), rng.randint(0, 9))
        return rng.choice([text(), text(), None, 3, 2.5, True])

    clean = 0
    for _ in range(20_000):
        record = {text(): value(0) for _ in range(rng.randint(1, 6))}
        if not needs_redaction(record):
            clean += 1
            assert redact(record) == _as_logged(record), record
    assert clean > 1_000  # the property was tried on many clean records
