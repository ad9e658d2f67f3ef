"""In-process moto (`mock_aws`) that serves one request at a time, like the stack's.

moto's backends have no locks: tests that race threads against `mock_aws` would
otherwise see two `attribute_not_exists` winners or a `RuntimeError` from moto,
neither of which DynamoDB does. Every in-process request goes through
`BotocoreStubber.process_request` (boto3's `before-send` hook and the `responses`
callback for `requests`), so holding `MOTO_LOCK` around it makes each one atomic;
an SQS long poll waits without it, as in the local stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from local.stack.aws import MOTO_LOCK, release_lock_while_polling


@contextmanager
def atomic_moto() -> Iterator[None]:
    """Hold `MOTO_LOCK` for each request in-process moto serves (nests safely)."""
    from moto.core.botocore_stubber import BotocoreStubber

    stubber: Any = BotocoreStubber
    original = stubber.process_request
    if getattr(original, "atomic", False):
        yield
        return

    def process_request(self: Any, request: Any) -> Any:
        with MOTO_LOCK:
            return original(self, request)

    process_request.atomic = True  # type: ignore[attr-defined]
    stubber.process_request = process_request
    undo_polls = release_lock_while_polling()
    try:
        yield
    finally:
        undo_polls()
        stubber.process_request = original
