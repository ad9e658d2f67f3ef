"""What the functions' Logger actually writes, for tests that a secret never does.

Powertools' Logger writes through a StreamHandler bound to ``sys.stdout`` when
the Logger is created, before pytest swaps ``sys.stdout``: neither ``capsys``
nor ``caplog.text`` (which omits ``extra`` keys) sees those lines. This swaps
the handler's stream for a buffer, so a test reads the formatted, redacted JSON
lines exactly as CloudWatch would get them.

A test module uses it through its own fixture::

    @pytest.fixture
    def logs() -> Iterator[CapturedLogs]:
        with capture_logs() as captured:
            yield captured
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sniper.observability import logger


@dataclass
class CapturedLogs:
    """Every line the Logger wrote while captured."""

    stream: io.StringIO = field(default_factory=io.StringIO)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        """The lines as JSON objects (Powertools writes one per record)."""
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def clear(self) -> None:
        self.stream.seek(0)
        self.stream.truncate()


@contextmanager
def capture_logs(level: int = logging.DEBUG) -> Iterator[CapturedLogs]:
    """Point the Logger's stream handlers at a buffer and lower its level; restore
    both afterwards."""
    captured = CapturedLogs()
    handlers = [
        handler
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler)
    ]
    if logger.registered_handler not in handlers:
        raise AssertionError("the Logger's handler is not a stream handler")
    previous_streams = [handler.stream for handler in handlers]
    for handler in handlers:
        handler.setStream(captured.stream)
    previous_level = logger.log_level
    logger.setLevel(level)
    try:
        yield captured
    finally:
        logger.setLevel(previous_level)
        for handler, stream in zip(handlers, previous_streams, strict=True):
            handler.setStream(stream)
