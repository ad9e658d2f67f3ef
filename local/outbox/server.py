"""Run the outbox with uvicorn on a background thread (tests, the local stack)."""

from __future__ import annotations

from typing import Any

from local.outbox.app import Outbox, create_app
from local.serving import ThreadedServer


class OutboxServer(ThreadedServer):
    """The outbox on `http://HOST:PORT`; port 0 picks a free one.

    >>> with OutboxServer(token="local-token") as outbox:
    ...     PostmarkClient(server_token="local-token", root_api_url=outbox.api_url)
    """

    what = "the postmark outbox"
    thread_name = "postmark-outbox"

    def __init__(
        self,
        *,
        token: str,
        port: int = 0,
        host: str = "127.0.0.1",
        log_level: str = "warning",
    ) -> None:
        super().__init__(port, host, log_level)
        self.outbox = Outbox(token)

    @property
    def api_url(self) -> str:
        """What `POSTMARK_API_URL` (postmarker's `root_api_url`) should be."""
        return self.url + "/"

    def _app(self) -> Any:
        return create_app(self.outbox)
