"""The HTTP transport every eBay call goes through.

One ``httpx.Client`` per container keeps TLS connections to eBay warm between
invocations, which matters on the bid path. Timeouts are explicit and can be
tightened per call. Network failures become typed transient errors, and the
``Date`` header of each answer measures how far eBay's clock is from ours.

httpx is imported by the first request, not at import: most routes of the
functions that hold an eBay client never call eBay (a cached watch list, a link's
status), and httpx with its cookie, URL and IDNA machinery is a tenth of a cold
start (decision log, 2026-12-02).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias

from sniper.ebay.errors import EbayConnectionError, EbayTimeout

if TYPE_CHECKING:
    import httpx

Timeout: TypeAlias = "float | httpx.Timeout"
"""A per-call timeout: seconds for each phase (connect, write, read), or httpx's."""

_shared_client: httpx.Client | None = None
_shared_lock = threading.Lock()


@cache
def user_agent() -> str:
    """What every request says it is."""
    import httpx

    return f"ebay-sniper-api/0.1 python-httpx/{httpx.__version__}"


@cache
def default_timeout() -> httpx.Timeout:
    """Each phase's limit when a call names none."""
    import httpx

    return httpx.Timeout(connect=3.0, read=10.0, write=10.0, pool=3.0)


def shared_http_client() -> httpx.Client:
    """The container's one client, created on first use (not at import)."""
    import httpx

    global _shared_client
    with _shared_lock:
        if _shared_client is None or _shared_client.is_closed:
            _shared_client = httpx.Client(
                timeout=default_timeout(),
                headers={"User-Agent": user_agent()},
                limits=httpx.Limits(max_connections=20, keepalive_expiry=60.0),
                follow_redirects=False,
            )
        return _shared_client


class EbayTransport:
    """Sends requests, maps network failures, and tracks eBay's clock offset."""

    def __init__(
        self,
        http: httpx.Client | None = None,
        *,
        default_timeout: httpx.Timeout | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self._default_timeout = default_timeout
        self._clock = clock
        self._clock_offset: float | None = None
        # What all Date headers seen so far allow the offset to be: each narrows it.
        self._offset_bounds: tuple[float, float] | None = None

    @property
    def http(self) -> httpx.Client:
        """The client in use: the injected one, else the container's."""
        return self._http if self._http is not None else shared_http_client()

    @property
    def server_time_offset(self) -> float | None:
        """eBay's clock minus ours in seconds (positive: eBay is ahead), from the
        ``Date`` headers seen; ``None`` before any. One header pins it to within
        a second (``Date`` has whole seconds); every further one narrows it."""
        return self._clock_offset

    def send(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        timeout: Timeout | None = None,
    ) -> httpx.Response:
        """Send one request; raise ``EbayTimeout``/``EbayConnectionError`` when
        no HTTP answer came back. HTTP error statuses are returned, not raised:
        each API reads its own error format."""
        import httpx

        request_headers = {"User-Agent": user_agent(), **(headers or {})}
        if timeout is None:
            timeout = self._default_timeout or default_timeout()
        kwargs: dict[str, Any] = {"headers": request_headers, "timeout": timeout}
        if params is not None:
            kwargs["params"] = params
        if content is not None:
            kwargs["content"] = content
        if data is not None:
            kwargs["data"] = data
        where = f"{method} {httpx.URL(url).path}"
        sent_at = self._clock()
        try:
            response = self.http.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            phase = _timeout_phase(exc)
            raise EbayTimeout(
                f"eBay did not answer in time ({phase} timeout, {where})", phase=phase
            ) from exc
        except httpx.TransportError as exc:
            raise EbayConnectionError(
                f"could not reach eBay ({type(exc).__name__}, {where})"
            ) from exc
        self._observe_clock(response.headers.get("Date"), sent_at, self._clock())
        return response

    def _observe_clock(
        self, date_header: str | None, sent_at: float, received_at: float
    ) -> None:
        if not date_header:
            return
        try:
            server_time = parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError):
            return
        self._clock_offset = round(self._narrow(server_time, sent_at, received_at), 3)

    def _narrow(self, server_time: float, sent_at: float, received_at: float) -> float:
        """The offset's best estimate after one more Date header.

        Date is truncated to the second: eBay's instant lies in [t, t + 1), and it
        happened while the request was in flight, so the offset lies in
        (t - received, t + 1 - sent). Answers land at varying fractions of a
        second, so intersecting the intervals of several answers pins the offset
        to much better than a second. If the new interval misses the old one
        (a clock was stepped), the old evidence is dropped.

        While the evidence allows clocks that agree, they are taken to agree: both
        sides run NTP, so a zero offset is far likelier than the interval's middle,
        which is up to half a second off (measured: p99 clock error 260 ms with the
        middle, 1 ms with this rule; docs/benchmarks.md).
        """
        low, high = server_time - received_at, server_time + 1 - sent_at
        if self._offset_bounds is not None:
            known_low, known_high = self._offset_bounds
            if max(low, known_low) < min(high, known_high):
                low, high = max(low, known_low), min(high, known_high)
        self._offset_bounds = (low, high)
        if low <= 0.0 <= high:
            return 0.0
        return (low + high) / 2


def _timeout_phase(exc: httpx.TimeoutException) -> str:
    import httpx

    if isinstance(exc, httpx.ConnectTimeout):
        return "connect"
    if isinstance(exc, httpx.WriteTimeout):
        return "write"
    if isinstance(exc, httpx.PoolTimeout):
        return "pool"
    return "read"
