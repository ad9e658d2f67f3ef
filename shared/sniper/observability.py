"""Logger, Tracer and Metrics configured once, with secrets masked in every log line.

Powertools' Logger has no redaction of its own; this formatter masks any value whose
key names a secret, wherever it sits in the structured record, so a token passed as
`extra` by mistake never reaches CloudWatch.

Each function makes its Tracer with `tracer_for(...)`, naming the libraries it calls:
Powertools' `Tracer()` patches every library X-Ray supports, importing each one
(requests, httpx, sqlite3...) into every cold start, whether the function uses it
or not.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from wrapt import register_post_import_hook

MASK = "***"
_SECRET_KEY = re.compile(
    r"(token|secret|password|authorization|cookie|credential|api[_-]?key|^code$)",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer|Basic)\s+[A-Za-z0-9._~+/=^#|-]+", re.IGNORECASE)


def redact(value: Any, key: str = "") -> Any:
    """A copy of `value` with secret-looking entries masked."""
    if key and _SECRET_KEY.search(key) and value not in (None, ""):
        return MASK
    if isinstance(value, dict):
        return {k: redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _BEARER.sub(r"\1 " + MASK, value)
    return value


# What `redact` looks for, as plain substrings of many keys (or strings) joined:
# each of its matches contains one of these words, whatever the case. Python's
# IGNORECASE also equates four non-ASCII letters with ASCII ones (re's docs:
# U+0130, U+0131, U+017F, U+212A), folded to theirs first. A word where `redact`
# masks nothing (`statusCode`, a "basic" in prose) only costs the full walk.
_SECRET_KEY_WORDS = (
    "token",
    "secret",
    "password",
    "authorization",
    "cookie",
    "credential",
    "api",
    "code",
)
_BEARER_WORDS = ("bearer", "basic")
_ASCII_FOLD = str.maketrans(
    {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
)


def _folded(texts: Iterable[str]) -> str:
    text = "\n".join(texts)
    return (text if text.isascii() else text.translate(_ASCII_FOLD)).lower()


def needs_redaction(value: Any) -> bool:
    """Whether `redact(value)` could differ from `value`: a key naming a secret or
    a string holding a bearer value anywhere in it. A few substring tests per
    level, no copy: a log record without secrets costs microseconds."""
    strings: list[str] = []
    nested: list[Any] = []
    if isinstance(value, dict):
        keys = _folded(map(str, value))
        if any(word in keys for word in _SECRET_KEY_WORDS):
            return True
        items: Iterable[Any] = value.values()
    elif isinstance(value, list | tuple):
        items = value
    else:
        items = (value,)
    for item in items:
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict | list | tuple):
            nested.append(item)
    if strings:
        text = _folded(strings)
        if any(word in text for word in _BEARER_WORDS):
            return True
    return any(needs_redaction(item) for item in nested)


class RedactingFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, masking secrets before serialising.

    A record with nothing to mask (nearly every one) is serialised as it is:
    copying it through `redact` cost more than the rest of a warm request.
    """

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(redact(log) if needs_redaction(log) else log)


# A request that records no business metric is normal, not worth a warning per call.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
# requests warns on import that it has no charset detector: the layer ships none
# (layers/dependencies/excluded.txt), since Postmark's answers are JSON.
warnings.filterwarnings("ignore", "Unable to find acceptable character detection")

logger = Logger(logger_formatter=RedactingFormatter())
metrics = Metrics()

TracedLibrary = Literal["botocore", "httpx", "requests"]


def tracer_for(*libraries: TracedLibrary) -> Tracer:
    """The function's Tracer, patching only the libraries it calls: `botocore`
    (AWS), `httpx` (eBay), `requests` (Postmark, through postmarker).

    Patching imports each library, so a function's cold start loads only what the
    function uses: botocore at once (boto3 is loaded at init anyway), the others
    when the function's code first imports them, from a post-import hook. X-Ray
    sees every call through a patched library, the first one too. Never a bare
    `Tracer()` besides: Tracers share their configuration, and a bare one patches
    every library X-Ray supports.
    """
    tracer = Tracer(patch_modules=[name for name in libraries if name == "botocore"])
    for name in libraries:
        if name != "botocore":
            register_post_import_hook(_patcher(tracer, name), name)
    return tracer


def _patcher(tracer: Tracer, name: str) -> Callable[[ModuleType], None]:
    def patch(_module: ModuleType) -> None:
        tracer.patch([name])  # a no-op where tracing is disabled

    return patch
