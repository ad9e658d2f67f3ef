"""`--persist DIR`: the embedded AWS survives a restart.

What is kept is moto's own state: every backend the stack touched (DynamoDB items,
SQS queues and their messages, KMS keys with their key material, secrets, schedules
and groups, ...) is pickled into `DIR/aws-state.pickle`, together with the schedule
runner's memory of fired one-time schedules. It is written every `interval` seconds
and at shutdown (atomically: a crash leaves the previous snapshot), and loaded into
moto before its server starts. Locks and private keys inside moto's objects, which
pickle cannot carry, are recreated on load.

Limits: a snapshot is only as fresh as the last write (a `kill -9` loses up to
`interval` seconds); it belongs to one moto version (another version starts empty and
keeps the old file as `aws-state.pickle.incompatible`); pickles are code, so load only
your own state directories.
"""

from __future__ import annotations

import io
import pickle
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from local.stack.console import Console

STATE_FILE = "aws-state.pickle"
FORMAT = 1
_LOCK_TYPES: dict[type, Callable[[], Any]] = {
    type(threading.Lock()): threading.Lock,
    type(threading.RLock()): threading.RLock,
}


def _load_private_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


class _Pickler(pickle.Pickler):
    """Pickles moto's objects, replacing what pickle cannot carry."""

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _LOCK_TYPES:
            return _LOCK_TYPES[kind], ()
        if kind is threading.Condition:
            return threading.Condition, ()
        if kind is threading.Event:
            return threading.Event, ()
        if hasattr(obj, "private_bytes") and hasattr(obj, "public_key"):
            pem = obj.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return _load_private_key, (pem,)
        return NotImplemented


def _moto_version() -> str:
    import moto

    return str(getattr(moto, "__version__", "unknown"))


def _backend_dicts() -> list[Any]:
    from moto.core.base_backend import BackendDict

    instances: list[Any] = list(BackendDict._instances)  # type: ignore[misc]
    return [d for d in instances if d.service_name != "moto_api"]


class Snapshots:
    """Save and restore moto's state (and the stack's extras) in a folder."""

    def __init__(self, folder: Path, console: Console) -> None:
        self.folder = folder
        self.path = folder / STATE_FILE
        self._console = console
        self._lock = threading.Lock()

    def restore(self) -> dict[str, Any]:
        """Load the snapshot into moto (before its server starts); the extras."""
        if not self.path.exists():
            return {}
        try:
            with self.path.open("rb") as stream:
                document = pickle.load(stream)  # noqa: S301 - the developer's own state
            if (
                document.get("format") != FORMAT
                or document.get("moto") != _moto_version()
            ):
                written_by = document.get("moto")
                raise ValueError(f"written by moto {written_by}, not {_moto_version()}")
            from moto.backends import get_backend

            restored = 0
            for (service, account, region), blob in document["backends"].items():
                try:
                    backend = pickle.loads(blob)  # noqa: S301 - as above
                    get_backend(service)[account][region] = backend
                    restored += 1
                except Exception as error:
                    self._console.warn(f"could not restore {service} state: {error}")
        except Exception as error:
            aside = self.path.with_name(STATE_FILE + ".incompatible")
            self.path.replace(aside)
            self._console.warn(
                f"state in {self.path} cannot be loaded ({error}); starting empty, "
                f"the old file is kept as {aside.name}"
            )
            return {}
        extras: dict[str, Any] = document.get("extras", {})
        return extras

    def save(self, extras: dict[str, Any]) -> bool:
        """Write a snapshot; False (and the previous one kept) if moto was too busy."""
        with self._lock:
            for _ in range(5):
                try:
                    backends = self._pickle_backends()
                    break
                except RuntimeError:  # a dict changed size while moto served a request
                    time.sleep(0.05)
            else:
                return False
            document = {
                "format": FORMAT,
                "moto": _moto_version(),
                "python": sys.version_info[:2],
                "saved_at": time.time(),
                "backends": backends,
                "extras": extras,
            }
            self.folder.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(STATE_FILE + ".tmp")
            with temporary.open("wb") as stream:
                pickle.dump(document, stream, protocol=pickle.HIGHEST_PROTOCOL)
            temporary.replace(self.path)
            return True

    def _pickle_backends(self) -> dict[tuple[str, str, str], bytes]:
        blobs: dict[tuple[str, str, str], bytes] = {}
        for backend_dict in _backend_dicts():
            for account, region, backend in backend_dict.iter_backends():
                buffer = io.BytesIO()
                try:
                    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(backend)
                except RuntimeError:
                    raise
                except Exception as error:
                    key = f"{backend_dict.service_name}/{region}"
                    self._console.warn(f"{key} state cannot be saved: {error}")
                    continue
                blobs[(backend_dict.service_name, account, region)] = buffer.getvalue()
        return blobs


class PeriodicSaver:
    """Saves a snapshot every `interval` seconds on a background thread."""

    def __init__(
        self,
        snapshots: Snapshots,
        extras: Callable[[], dict[str, Any]],
        interval: float,
    ) -> None:
        self._snapshots = snapshots
        self._extras = extras
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._loop, name="state-saver", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            self._snapshots.save(self._extras())

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
