"""The snipe precision benchmark's helpers: statistics, Lambda REPORT lines, where
each bid's lateness went, the containers' memory, and a DynamoDB call counter.

Pure functions first (unit-tested in `tests/unit/test_bench_math.py`); then what
reads the machine (`/proc`) and the counting proxy, which sees every DynamoDB call
of the Bid Executor (`AWS_ENDPOINT_URL_DYNAMODB` of that function only) so a
snipe's reads and writes can be priced and its commit-to-send timed.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


# ---------------------------------------------------------------- statistics
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated between the closest ranks (the
    usual "linear" definition), so p99 of 50 values is not simply their maximum."""
    if not values:
        raise ValueError("no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must be within 0 and 100, not {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """count, min, p50, p90, p99, max and mean, rounded to 0.1 (milliseconds)."""
    if not values:
        return dict.fromkeys(("min", "p50", "p90", "p99", "max", "mean")) | {"count": 0}

    def tidy(value: float) -> float:
        return round(value, 1)

    return {
        "count": len(values),
        "min": tidy(min(values)),
        "p50": tidy(percentile(values, 50)),
        "p90": tidy(percentile(values, 90)),
        "p99": tidy(percentile(values, 99)),
        "max": tidy(max(values)),
        "mean": tidy(sum(values) / len(values)),
    }


def growth(figures: Mapping[int, float]) -> dict[str, float | None]:
    """How a figure grows between consecutive N: the ratio of the figure to the
    ratio of N (1.0 grows like N, 0 stays flat); None where it cannot be told."""
    sizes = sorted(figures)
    result: dict[str, float | None] = {}
    for small, large in itertools.pairwise(sizes):
        before, after = figures[small], figures[large]
        key = f"{small}->{large}"
        if before <= 0 or after <= 0:
            result[key] = None
            continue
        result[key] = round(math.log(after / before) / math.log(large / small), 2)
    return result


# ---------------------------------------------------------------- REPORT lines
_REPORT = re.compile(
    r"^(?P<label>[A-Za-z0-9#]+)\s*\|\s*REPORT RequestId: (?P<request>\S+)\t"
    r"Duration: (?P<duration>[\d.]+) ms\tBilled Duration: (?P<billed>\d+) ms\t"
    r"Memory Size: (?P<size>\d+) MB\tMax Memory Used: (?P<used>\d+) MB"
    r"(?:\tInit Duration: (?P<init>[\d.]+) ms)?"
)


@dataclass(frozen=True)
class Report:
    """One invocation's REPORT line, as Lambda (and the local runtime) writes it."""

    function: str  # the logical id, without the container's `#n`
    request_id: str
    duration_ms: float
    billed_ms: int
    memory_size_mb: int
    max_memory_mb: int
    init_ms: float | None = None


def parse_reports(text: str) -> list[Report]:
    """Every REPORT line of a local stack's output (labels `Function#n |`)."""
    found = []
    for line in text.splitlines():
        match = _REPORT.match(line)
        if match is None:
            continue
        init = match["init"]
        found.append(
            Report(
                function=match["label"].split("#", 1)[0],
                request_id=match["request"],
                duration_ms=float(match["duration"]),
                billed_ms=int(match["billed"]),
                memory_size_mb=int(match["size"]),
                max_memory_mb=int(match["used"]),
                init_ms=float(init) if init else None,
            )
        )
    return found


# ---------------------------------------------------------------- executor logs
def log_moments(text: str, messages: Iterable[str]) -> dict[str, dict[str, float]]:
    """When each bid's executor first logged each of `messages` (Powertools JSON
    lines, keyed by their correlation id, the bid id), in Unix seconds."""
    wanted = set(messages)
    found: dict[str, dict[str, float]] = {}
    for line in text.splitlines():
        _, bar, payload = line.partition("| ")
        if not bar or not payload.startswith("{"):
            continue
        try:
            record = json.loads(payload)
        except ValueError:
            continue
        message, bid = record.get("message"), record.get("correlation_id")
        if message not in wanted or not isinstance(bid, str):
            continue
        moment = datetime.strptime(record["timestamp"], "%Y-%m-%d %H:%M:%S,%f%z")
        found.setdefault(bid, {}).setdefault(message, moment.timestamp())
    return found


def request_ids_logging(text: str, message: str) -> set[str]:
    """The invocations (request ids) that logged `message`: the sweep's, say,
    which share the executor's function but belong to no snipe."""
    found = set()
    for line in text.splitlines():
        _, bar, payload = line.partition("| ")
        if not bar or message not in payload or not payload.startswith("{"):
            continue
        try:
            record = json.loads(payload)
        except ValueError:
            continue
        request = record.get("function_request_id")
        if record.get("message") == message and isinstance(request, str):
            found.add(request)
    return found


# ---------------------------------------------------------------- one bid
@dataclass(frozen=True)
class Landing:
    """One bid's timeline in milliseconds, all on the machine's one clock (the
    emulator's clock is the real time, so eBay's true offset is 0 here)."""

    bid_id: str
    target_ms: int  # end - lead, as the bid record holds it
    end_ms: int
    recorded_ms: int | None  # latenessMs: the executor's own figure
    sent_ms: int | None  # when the request left (history's sentAtMs), our clock
    arrived_ms: int | None  # placedAt, as the emulator recorded it
    commit_done_ms: int | None = None  # the commit-to-send write answered
    commit_rtt_ms: int | None = None  # that write's round trip to DynamoDB

    @property
    def late_ms(self) -> int | None:
        """Arrival at eBay after the target: the figure that counts."""
        return None if self.arrived_ms is None else self.arrived_ms - self.target_ms

    @property
    def sent_late_ms(self) -> int | None:
        """When the request left, after the target, on the true clock."""
        return None if self.sent_ms is None else self.sent_ms - self.target_ms

    @property
    def offset_error_ms(self) -> int | None:
        """How far the executor's idea of eBay's clock (from `Date` headers) was
        ahead of the true one: it sends that much early."""
        if self.recorded_ms is None or self.sent_late_ms is None:
            return None
        return self.recorded_ms - self.sent_late_ms

    @property
    def transit_ms(self) -> int | None:
        """From the request leaving to eBay's handler taking its time: building
        and sending it, loopback, and the emulator's queue."""
        if self.sent_ms is None or self.arrived_ms is None:
            return None
        return self.arrived_ms - self.sent_ms

    @property
    def intended_ms(self) -> int:
        """When the executor meant to send, on the true clock: the target on its
        idea of eBay's clock."""
        return self.target_ms - (self.offset_error_ms or 0)

    @property
    def commit_slack_ms(self) -> int | None:
        """How long before the executor meant to send the commit-to-send write
        was answered; negative: the write held the bid back."""
        if self.commit_done_ms is None:
            return None
        return self.intended_ms - self.commit_done_ms

    @property
    def commit_hold_ms(self) -> int | None:
        """How long the commit-to-send write held the bid back (0 if answered in
        time)."""
        slack = self.commit_slack_ms
        return None if slack is None else max(0, -slack)

    @property
    def after_commit_ms(self) -> int | None:
        """From the moment the executor could send (intended, or the commit's
        answer if later) to the request leaving: its wake-up and its own code."""
        if self.sent_ms is None or self.commit_done_ms is None:
            return None  # without the commit's time, not told apart from its hold
        return self.sent_ms - max(self.intended_ms, self.commit_done_ms)

    @property
    def ours_ms(self) -> int | None:
        """Our code's part of the lateness: the clock estimate's error and the
        send after the commit, without the local stack's queues (the commit's
        and the emulator's), which DynamoDB and eBay do not have."""
        after = self.after_commit_ms
        if after is None or self.offset_error_ms is None:
            return None
        return after - self.offset_error_ms

    @property
    def commit_past_cutoff(self) -> bool:
        """The commit to send answered after the last moment worth sending (the
        end less a second): the bid was never sent."""
        return self.commit_done_ms is not None and self.commit_done_ms > (
            self.end_ms - 1000
        )


def lateness_figures(landings: Iterable[Landing]) -> dict[str, Any]:
    """The distributions that say where lateness comes from, in milliseconds."""
    every = list(landings)
    placed = [landing for landing in every if landing.arrived_ms is not None]

    def of(name: str) -> list[float]:
        values = (getattr(landing, name) for landing in placed)
        return [float(v) for v in values if v is not None]

    late = of("late_ms")
    return {
        "arrival_late_ms": summary(late),
        "recorded_late_ms": summary(of("recorded_ms")),
        "sent_late_ms": summary(of("sent_late_ms")),
        "offset_error_ms": summary(of("offset_error_ms")),
        "transit_ms": summary(of("transit_ms")),
        "commit_slack_ms": summary(of("commit_slack_ms")),
        "commit_hold_ms": summary(of("commit_hold_ms")),
        "after_commit_ms": summary(of("after_commit_ms")),
        "ours_ms": summary(of("ours_ms")),
        "commit_rtt_ms": summary(of("commit_rtt_ms")),
        "late_over_100ms": sum(1 for v in late if v > 100),
        "early": sum(1 for v in late if v < 0),
        "commits_after_target": sum(1 for v in of("commit_slack_ms") if v < 0),
        "commits_past_cutoff": sum(
            1 for landing in every if landing.commit_past_cutoff
        ),
    }


def item_size(value: Any) -> int:
    """An item's size in bytes by DynamoDB's rule (names plus values; a number
    about one byte per two digits; maps and lists 3 bytes plus 1 per element)."""
    if isinstance(value, Mapping):
        return 3 + sum(
            len(str(k).encode()) + 1 + item_size(v) for k, v in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(1 + item_size(v) for v in value)
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | float | Decimal):
        return 1 + math.ceil(len(str(value).lstrip("-").replace(".", "")) / 2)
    if isinstance(value, bytes | bytearray):
        return len(value)
    raw = getattr(value, "value", value)  # boto3's Binary
    return len(raw) if isinstance(raw, bytes) else len(str(raw).encode())


def bid_key_id(key: Mapping[str, Any]) -> str | None:
    """The bid id in a Bids table key (`sk` = `BID#<id>`), else None."""
    sort_key = key.get("sk", {})
    text = sort_key.get("S") if isinstance(sort_key, Mapping) else None
    if isinstance(text, str) and text.startswith("BID#"):
        return text[len("BID#") :]
    return None


# ---------------------------------------------------------------- the machine
def mem_available_mb(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable: what the machine can give before it swaps or kills."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far; 0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu_seconds() -> float:
    """CPU time every process of the machine has used so far (`/proc/stat`)."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return 0.0
    user, nice, system = (int(v) for v in first[1:4])
    return (user + nice + system) / os.sysconf("SC_CLK_TCK")


def container_pids(function_name: str, endpoint: str) -> list[int]:
    """The live containers of one function of one stack (Linux only)."""
    wanted = {
        f"AWS_LAMBDA_FUNCTION_NAME={function_name}".encode(),
        f"AWS_ENDPOINT_URL={endpoint}".encode(),
    }
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if b"bootstrap.py" not in (entry / "cmdline").read_bytes():
                continue
            if wanted <= set((entry / "environ").read_bytes().split(b"\0")):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def container_memory(function_name: str, endpoint: str) -> list[dict[str, int]]:
    """RSS, PSS and private memory (MB) of each live container of one function of
    one stack (found by their environment; Linux only, else empty)."""
    found = []
    for pid in container_pids(function_name, endpoint):
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        kb = {
            parts[0].rstrip(":"): int(parts[1])
            for parts in (line.split() for line in rollup.splitlines()[1:])
            if len(parts) >= 2 and parts[1].isdigit()
        }
        found.append(
            {
                "pid": pid,
                "rss_mb": kb.get("Rss", 0) // 1024,
                "pss_mb": kb.get("Pss", 0) // 1024,
                "private_mb": (kb.get("Private_Dirty", 0) + kb.get("Private_Clean", 0))
                // 1024,
            }
        )
    return found


# ---------------------------------------------------------------- DynamoDB
@dataclass(frozen=True)
class DynamoCall:
    """One DynamoDB request of the executor, as the proxy saw it."""

    operation: str  # GetItem, TransactWriteItems, ...
    writes: tuple[str, ...]  # the tables of each item written
    reads: tuple[str, ...]  # the tables read
    consistent: bool
    bid_id: str | None
    commit: bool  # the commit to send: one Update setting sentAt, no history
    started: float
    answered: float


def classify(operation: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """What one DynamoDB request writes and reads, and whose bid it is."""
    writes: list[str] = []
    reads: list[str] = []
    bid_id = None
    commit = False
    table = str(body.get("TableName", ""))
    if operation == "TransactWriteItems":
        items = list(body.get("TransactItems", []))
        for item in items:
            for kind, part in item.items():
                name = str(part.get("TableName", ""))
                (reads if kind == "ConditionCheck" else writes).append(name)
                if kind == "Update" and bid_id is None:
                    bid_id = bid_key_id(part.get("Key", {}))
                    names = part.get("ExpressionAttributeNames", {}).values()
                    commit = len(items) == 1 and "sentAt" in names
    elif operation in ("PutItem", "UpdateItem", "DeleteItem"):
        writes.append(table)
        bid_id = bid_key_id(body.get("Key", {}))
    elif operation in ("GetItem", "Query", "Scan"):
        reads.append(table)
        bid_id = bid_key_id(body.get("Key", {}))
    elif operation == "BatchGetItem":
        reads.extend(str(name) for name in body.get("RequestItems", {}))
    return {
        "writes": tuple(writes),
        "reads": tuple(reads),
        "consistent": bool(body.get("ConsistentRead")),
        "bid_id": bid_id,
        "commit": commit,
    }


def capacity_units(
    calls: Iterable[DynamoCall], item_kb: Mapping[str, float]
) -> dict[str, float]:
    """On-demand request units: a write 1 WRU per KB (2 in a transaction), a
    strongly consistent read 1 RRU per 4 KB (half when eventually consistent)."""
    wru = rru = 0.0
    for call in calls:
        factor = 2 if call.operation == "TransactWriteItems" else 1
        for table in call.writes:
            wru += factor * math.ceil(item_kb.get(table, 1.0))
        for table in call.reads:
            units = math.ceil(item_kb.get(table, 1.0) / 4)
            rru += units * (1.0 if call.consistent else 0.5)
    return {"write_request_units": wru, "read_request_units": rru}


@dataclass
class DynamoCounter:
    """A pass-through proxy in front of moto that records every request.

    Adds one loopback hop to the executor's DynamoDB calls (a millisecond or
    two); `BENCH_SNIPE_COUNT_DYNAMODB=0` runs the benchmark without it.
    """

    upstream: str = ""  # moto's URL, set once the stack runs
    calls: list[DynamoCall] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        counter = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            upstream: http.client.HTTPConnection | None = None

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                started = time.time()
                status, headers, answer = self._forward(body)
                counter.record(self.headers.get("X-Amz-Target", ""), body, started)
                self.send_response(status)
                for name, value in headers:
                    if name.lower() not in ("content-length", "connection", "date"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
                target = urlsplit(counter.upstream)
                headers = {k: v for k, v in self.headers.items() if k != "Host"}
                for _ in range(2):  # once more on a connection moto closed
                    if self.upstream is None:
                        self.upstream = http.client.HTTPConnection(
                            target.hostname or "127.0.0.1", target.port, timeout=30
                        )
                    try:
                        self.upstream.request("POST", self.path, body, headers)
                        response = self.upstream.getresponse()
                        return response.status, response.getheaders(), response.read()
                    except (http.client.HTTPException, OSError):
                        self.upstream.close()
                        self.upstream = None
                return 502, [], b'{"message": "moto did not answer"}'

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def record(self, target: str, body: bytes, started: float) -> None:
        operation = target.rsplit(".", 1)[-1]
        try:
            parsed = json.loads(body or b"{}")
        except ValueError:
            parsed = {}
        shape = classify(operation, parsed)
        call = DynamoCall(
            operation=operation, started=started, answered=time.time(), **shape
        )
        with self._lock:
            self.calls.append(call)

    def since(self, moment: float) -> list[DynamoCall]:
        with self._lock:
            return [call for call in self.calls if call.started >= moment]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def operations(calls: Iterable[DynamoCall]) -> dict[str, int]:
    """How many requests of each operation."""
    return dict(Counter(call.operation for call in calls))
