"""What the local stack prints: progress, warnings, requests and function logs.

Every line starts with a short label (`stack`, `api`, `lambda`, `scheduler`, or the
function's logical id) so interleaved output from concurrent functions stays
readable; function lines are otherwise passed through untouched (Powertools' JSON,
START/END/REPORT). Colours only on a terminal, and never with `NO_COLOR`.
"""

from __future__ import annotations

import os
import sys
import threading
import zlib
from typing import TextIO

_COLOURS = (32, 33, 34, 35, 36, 92, 93, 94, 95, 96)


class Console:
    def __init__(
        self, stream: TextIO | None = None, colour: bool | None = None
    ) -> None:
        self._stream = stream or sys.stdout
        if colour is None:
            colour = self._stream.isatty() and "NO_COLOR" not in os.environ
        self._colour = colour
        self._lock = threading.Lock()
        self.width = 10

    def _label(self, label: str) -> str:
        text = f"{label:<{self.width}}|"
        if not self._colour:
            return text
        code = _COLOURS[zlib.crc32(label.encode()) % len(_COLOURS)]
        return f"\033[{code}m{text}\033[0m"

    def line(self, label: str, message: str) -> None:
        with self._lock:
            for part in message.rstrip("\n").split("\n"):
                self._stream.write(f"{self._label(label)} {part}\n")
            self._stream.flush()

    def step(self, message: str) -> None:
        self.line("stack", message)

    def warn(self, message: str) -> None:
        self.line("stack", f"warning: {message}")

    def function_line(self, label: str, text: str) -> None:
        self.line(label, text)

    def raw(self, text: str) -> None:
        with self._lock:
            self._stream.write(text)
            self._stream.flush()
