"""eBay's push notifications: the endpoint challenge, the signature, the public key.

eBay validates a notification endpoint with ``GET <endpoint>?challenge_code=...``
and expects ``hex(SHA-256(challengeCode + verificationToken + endpointUrl))`` back.
Every notice it then POSTs carries ``X-EBAY-SIGNATURE``: base64 of the JSON
``{"alg": "ECDSA", "kid": ..., "signature": ..., "digest": "SHA1"}``, where
``signature`` is a base64 DER ECDSA signature of the JSON body and ``kid`` names
the key to fetch from the Notification API's ``getPublicKey`` (application token;
eBay asks that keys be cached, about an hour, rather than fetched per notice).

The verification here is pure: no HTTP, no AWS. ``cryptography`` is imported
only when a signature is checked, so functions that never verify one do not pay
for the import on a cold start.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from sniper.ebay.config import EbayEndpoints
from sniper.ebay.errors import (
    EbayError,
    EbayErrorDetail,
    EbayPermanentError,
)
from sniper.ebay.http import EbayTransport, Timeout
from sniper.ebay.rest import bearer, json_body, raise_for_rest_status

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
    from cryptography.hazmat.primitives.hashes import HashAlgorithm

PUBLIC_KEY_PATH = "/commerce/notification/v1/public_key/"
SIGNATURE_HEADER = "X-EBAY-SIGNATURE"
MARKETPLACE_ACCOUNT_DELETION = "MARKETPLACE_ACCOUNT_DELETION"

PUBLIC_KEY_CACHE_SECONDS = 3_600
"""How long a fetched key is trusted: the hour eBay's getPublicKey page suggests."""
PUBLIC_KEY_CACHE_SIZE = 16
"""Key ids remembered per container; eBay rotates keys rarely."""

# getPublicKey: 195001 "The specified key id is invalid." (notification.yaml, 404).
INVALID_KEY_ID = 195001

# A key id goes into a URL path, so it is checked before any call is spent on it.
# eBay's are UUIDs; this allows any plain token of a sane length.
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_MAX_HEADER_CHARS = 4_096
_SIGNATURE_ALGORITHM = "ECDSA"
_PEM_BODY = re.compile(
    r"-----BEGIN PUBLIC KEY-----(?P<body>[A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----"
)


class NotificationSignatureError(ValueError):
    """The notice's ``X-EBAY-SIGNATURE`` is missing or malformed, names an
    algorithm or key we cannot use, or does not verify. The message is safe to
    return to the caller: it never quotes the header or the body."""


class EbayPublicKeyNotFound(EbayPermanentError):
    """eBay knows no public key with that id (getPublicKey 404, error 195001)."""


class PublicKeyLookupRefused(EbayPermanentError):
    """eBay was not asked for the key: this container already looked up as many
    key ids it did not hold as it may this minute."""


@dataclass(frozen=True, slots=True)
class NotificationPublicKey:
    """getPublicKey's answer: ``algorithm`` (ECDSA), ``digest`` (SHA1) and the
    key as PEM (eBay sends it on one line, without the usual line breaks)."""

    algorithm: str
    digest: str
    key_pem: str


@dataclass(frozen=True, slots=True)
class SignatureHeader:
    """The decoded ``X-EBAY-SIGNATURE`` header."""

    alg: str
    kid: str
    signature: str
    digest: str | None = None


# The challenge -------------------------------------------------------------------


def challenge_response(
    challenge_code: str, verification_token: str, endpoint_url: str
) -> str:
    """eBay's expected answer to ``GET <endpoint>?challenge_code=...``: the hex
    SHA-256 of the code, the verification token and the endpoint URL, in this
    order, concatenated as UTF-8."""
    digest = hashlib.sha256()
    digest.update(challenge_code.encode())
    digest.update(verification_token.encode())
    digest.update(endpoint_url.encode())
    return digest.hexdigest()


# The signature -------------------------------------------------------------------


def parse_signature_header(value: str | None) -> SignatureHeader:
    """Decode ``X-EBAY-SIGNATURE``; ``NotificationSignatureError`` on anything
    that is not base64 of a JSON object with string ``alg``, ``kid`` and
    ``signature`` (and, if present, ``digest``)."""
    if value is None or not value.strip():
        raise NotificationSignatureError(f"the {SIGNATURE_HEADER} header is missing")
    if len(value) > _MAX_HEADER_CHARS:
        raise NotificationSignatureError(f"the {SIGNATURE_HEADER} header is too long")
    try:
        fields = json.loads(_b64decode(value.strip()))
    except (ValueError, UnicodeDecodeError):
        fields = None
    if not isinstance(fields, dict):
        raise NotificationSignatureError(
            f"the {SIGNATURE_HEADER} header is not base64 of a JSON object"
        )
    alg, kid, signature = (_text(fields, name) for name in ("alg", "kid", "signature"))
    digest = fields.get("digest")
    if not (alg and kid and signature):
        raise NotificationSignatureError(
            f"the {SIGNATURE_HEADER} header lacks alg, kid or signature"
        )
    if digest is not None and not isinstance(digest, str):
        raise NotificationSignatureError(
            f"the {SIGNATURE_HEADER} header's digest is not a string"
        )
    if not _KEY_ID.fullmatch(kid):
        raise NotificationSignatureError(
            f"the {SIGNATURE_HEADER} header's key id is malformed"
        )
    return SignatureHeader(alg=alg, kid=kid, signature=signature, digest=digest)


def _text(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    return value if isinstance(value, str) else ""


def verify_signature(
    header: SignatureHeader, key: NotificationPublicKey, *messages: bytes
) -> None:
    """Check the header's signature with eBay's key over the first of
    ``messages`` it fits; ``NotificationSignatureError`` when none does.

    The algorithm must be ECDSA in the header and in the key; the digest is the
    one eBay's key names (SHA1 today), and the header's, if given, must agree.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric import ec

    if not messages:
        raise ValueError("nothing to verify")
    if (
        header.alg.upper() != _SIGNATURE_ALGORITHM
        or key.algorithm.upper() != _SIGNATURE_ALGORITHM
    ):
        raise NotificationSignatureError(
            f"unsupported signature algorithm {header.alg[:16]!r}: eBay signs with "
            "ECDSA"
        )
    digest = _hash_algorithm(key.digest)
    if header.digest is not None and header.digest.upper() != key.digest.upper():
        raise NotificationSignatureError(
            "the header's digest does not match the one eBay's key names"
        )
    public_key = load_public_key(key.key_pem)
    try:
        signature = _b64decode(header.signature)
    except ValueError:
        raise NotificationSignatureError("the signature is not base64") from None
    for message in messages:
        try:
            public_key.verify(signature, message, ec.ECDSA(digest))
        except (InvalidSignature, ValueError):
            continue
        return
    raise NotificationSignatureError("the signature does not match the notice")


def signed_forms(body: bytes, document: Any) -> tuple[bytes, ...]:
    """What eBay may have signed: the body as received and, if it differs, the
    compact JSON of the parsed document (what eBay's SDKs hash: Node's
    ``JSON.stringify``, Java's Jackson) in case a proxy reformatted the body."""
    try:
        compact = json.dumps(
            document, separators=(",", ":"), ensure_ascii=False
        ).encode()
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 form was ever signed
        return (body,)
    return (body,) if compact == body else (body, compact)


def load_public_key(key_pem: str) -> EllipticCurvePublicKey:
    """The EC public key of eBay's PEM, with or without line breaks."""
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
    from cryptography.hazmat.primitives.serialization import load_der_public_key

    match = _PEM_BODY.search(key_pem)
    if match is None:
        raise NotificationSignatureError("eBay's public key is not a PEM public key")
    try:
        key = load_der_public_key(_b64decode("".join(match["body"].split())))
    except ValueError:
        raise NotificationSignatureError("eBay's public key cannot be read") from None
    if not isinstance(key, EllipticCurvePublicKey):
        raise NotificationSignatureError("eBay's public key is not an EC key")
    return key


def _hash_algorithm(name: str) -> HashAlgorithm:
    from cryptography.hazmat.primitives import hashes

    known: dict[str, Callable[[], HashAlgorithm]] = {
        "SHA1": hashes.SHA1,
        "SHA256": hashes.SHA256,
        "SHA384": hashes.SHA384,
        "SHA512": hashes.SHA512,
    }
    factory = known.get(name.upper().replace("-", ""))
    if factory is None:
        raise NotificationSignatureError(f"unsupported digest {name[:16]!r}")
    return factory()


def _b64decode(text: str) -> bytes:
    """Strict standard base64, padding optional; ``ValueError`` otherwise."""
    text = text.strip()
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as error:
        raise ValueError("not base64") from error


# getPublicKey --------------------------------------------------------------------


def get_public_key(
    transport: EbayTransport,
    endpoints: EbayEndpoints,
    app_token: str,
    key_id: str,
    *,
    timeout: Timeout | None = None,
) -> NotificationPublicKey:
    """``GET /commerce/notification/v1/public_key/{public_key_id}`` with the
    application token; ``EbayPublicKeyNotFound`` for an id eBay does not know."""
    check_key_id(key_id)
    response = transport.send(
        "GET",
        f"{endpoints.api_base_url}{PUBLIC_KEY_PATH}{quote(key_id, safe='')}",
        headers={**bearer(app_token), "Accept": "application/json"},
        timeout=timeout,
    )
    raise_for_rest_status(response, secrets=(app_token,), classify=_classify)
    body = json_body(response, "getPublicKey")
    fields = {name: body.get(name) for name in ("algorithm", "digest", "key")}
    if not all(isinstance(value, str) and value for value in fields.values()):
        raise EbayPermanentError(
            "eBay's getPublicKey answer lacks algorithm, digest or key",
            http_status=response.status_code,
        )
    return NotificationPublicKey(
        algorithm=str(fields["algorithm"]),
        digest=str(fields["digest"]),
        key_pem=str(fields["key"]),
    )


def check_key_id(key_id: str) -> None:
    """Refuse what cannot be eBay's key id before spending a call on it."""
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError("a public key id is a short token of A-Z, a-z, 0-9, . _ -")


def _classify(status: int, first: EbayErrorDetail) -> type[EbayError] | None:
    if first.error_id == INVALID_KEY_ID or status == 404:
        return EbayPublicKeyNotFound
    return None


UNKNOWN_KEY_CACHE_SECONDS = 300
UNKNOWN_KEY_LOOKUPS_PER_MINUTE = 10
"""getPublicKey calls per container per rolling minute for key ids it does not
hold. Anyone may POST a notice, and each new key id would cost a call against the
app's Notification API quota; eBay rotates its keys rarely."""


class RollingLimit:
    """At most ``limit`` events in any ``window`` seconds, across threads."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("a rolling limit needs limit >= 1 and window > 0")
        self._limit = limit
        self._window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._times: deque[float] = deque()

    def acquire(self) -> bool:
        """Count one event now if the limit allows it; False, counting nothing,
        if ``limit`` events already happened in the last ``window`` seconds."""
        now = self._clock()
        with self._lock:
            while self._times and self._times[0] <= now - self._window:
                self._times.popleft()
            if len(self._times) >= self._limit:
                return False
            self._times.append(now)
            return True


class PublicKeyCache:
    """Keys by id for ``ttl`` seconds, at most ``size`` of them (oldest out
    first), so a flood of made-up key ids cannot grow a container's memory; and
    at most ``lookups`` calls to eBay a minute, so it cannot drain the app's
    Notification API quota either."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        ttl: float = PUBLIC_KEY_CACHE_SECONDS,
        size: int = PUBLIC_KEY_CACHE_SIZE,
        lookups: RollingLimit | None = None,
    ) -> None:
        self._clock = clock
        self._ttl = ttl
        self._size = size
        self._lookups = (
            lookups
            if lookups is not None
            else RollingLimit(UNKNOWN_KEY_LOOKUPS_PER_MINUTE, 60.0, clock=clock)
        )
        self._lock = threading.Lock()
        self._keys: OrderedDict[str, tuple[float, NotificationPublicKey]] = (
            OrderedDict()
        )
        # Key ids eBay said it does not know, kept apart so forged ids never push
        # a real key out: each costs one eBay call per UNKNOWN_KEY_CACHE_SECONDS.
        self._unknown: OrderedDict[str, float] = OrderedDict()

    def get(
        self, key_id: str, fetch: Callable[[], NotificationPublicKey]
    ) -> NotificationPublicKey:
        """The cached key, or ``fetch()``'s, remembered. An unknown key id is
        remembered briefly; other failures (eBay down) are not cached. Beyond
        the lookups allowed this minute, ``PublicKeyLookupRefused`` without a
        call, except for a key eBay handed out before, which stays in use past
        its hour until a lookup is allowed again."""
        now = self._clock()
        with self._lock:
            cached = self._keys.get(key_id)
            unknown_until = self._unknown.get(key_id, 0.0)
        if cached is not None and now < cached[0]:
            return cached[1]
        if now < unknown_until:
            raise EbayPublicKeyNotFound(
                f"eBay knows no notification key {key_id!r}", http_status=404
            )
        if not self._lookups.acquire():
            if cached is not None:
                return cached[1]  # eBay's own key: a flood must not lock it out
            raise PublicKeyLookupRefused(
                f"notification key {key_id!r} not looked up: too many key ids "
                "not yet known this minute"
            )
        try:
            key = fetch()  # outside the lock: a slow eBay must not block other ids
        except EbayPublicKeyNotFound:
            with self._lock:
                _remember(self._unknown, key_id, now + UNKNOWN_KEY_CACHE_SECONDS)
            raise
        with self._lock:
            _remember(self._keys, key_id, (now + self._ttl, key), self._size)
        return key

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self._unknown.clear()


def _remember(
    entries: OrderedDict[str, Any], key: str, value: Any, size: int = 256
) -> None:
    """Store as newest; drop the oldest beyond `size`."""
    entries[key] = value
    entries.move_to_end(key)
    while len(entries) > size:
        entries.popitem(last=False)
