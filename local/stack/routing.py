"""Match request paths against API Gateway resource paths.

API Gateway picks the most specific resource: at every segment a literal beats a
`{param}`, which beats a greedy `{proxy+}` (one or more trailing segments). Then the
method: an exact method beats `ANY`. A path that matches no resource, or a resource
without the method, is API Gateway's 403 "Missing Authentication Token".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

_PARAM = re.compile(r"^\{([A-Za-z0-9_.\-]+)\}$")
_GREEDY = re.compile(r"^\{([A-Za-z0-9_.\-]+)\+\}$")


class PathTemplateError(ValueError):
    """A resource path API Gateway would reject."""


@dataclass(frozen=True)
class PathTemplate:
    """A resource path such as `/bids/{bidId}` or `/files/{proxy+}`."""

    text: str
    segments: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> PathTemplate:
        if not text.startswith("/"):
            raise PathTemplateError(f"path {text!r} must start with /")
        segments = tuple(part for part in text.strip("/").split("/") if part)
        for index, segment in enumerate(segments):
            greedy = _GREEDY.match(segment)
            if greedy and index != len(segments) - 1:
                raise PathTemplateError(
                    f"{text!r}: {{{greedy.group(1)}+}} must be last"
                )
            if "{" in segment and not (greedy or _PARAM.match(segment)):
                raise PathTemplateError(f"{text!r}: bad path parameter {segment!r}")
        return cls(text="/" + "/".join(segments), segments=segments)

    def match(
        self, parts: tuple[str, ...]
    ) -> tuple[tuple[int, ...], dict[str, str]] | None:
        """`(rank, parameters)` if the path matches; lower ranks are more specific."""
        rank: list[int] = []
        parameters: dict[str, str] = {}
        for index, segment in enumerate(self.segments):
            greedy = _GREEDY.match(segment)
            if greedy:
                rest = parts[index:]
                if not rest:
                    return None
                parameters[greedy.group(1)] = "/".join(rest)
                rank.append(2)
                return tuple(rank), parameters
            if index >= len(parts):
                return None
            param = _PARAM.match(segment)
            if param:
                parameters[param.group(1)] = parts[index]
                rank.append(1)
            elif segment == parts[index]:
                rank.append(0)
            else:
                return None
        if len(parts) != len(self.segments):
            return None
        return tuple(rank), parameters


@dataclass(frozen=True)
class Match(Generic[T]):
    target: T
    resource: str
    parameters: dict[str, str]


@dataclass(frozen=True)
class _Entry(Generic[T]):
    template: PathTemplate
    method: str
    target: T


def split_path(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.split("/") if part)


class RouteTable(Generic[T]):
    """Resources and methods to targets (one target per resource and method)."""

    def __init__(self) -> None:
        self._entries: list[_Entry[T]] = []

    def add(self, path: str, method: str, target: T) -> bool:
        """Add a route; False if that resource and method are already taken."""
        template = PathTemplate.parse(path)
        method = method.upper()
        for entry in self._entries:
            if entry.template.text == template.text and entry.method == method:
                return False
        self._entries.append(_Entry(template, method, target))
        return True

    def resource(self, path: str) -> PathTemplate | None:
        """The most specific resource matching `path`, whatever the method."""
        best = self._best(path, self._entries)
        return best[0].template if best else None

    def methods(self, resource: PathTemplate) -> list[str]:
        return [e.method for e in self._entries if e.template.text == resource.text]

    def targets(self, resource: PathTemplate) -> Iterable[T]:
        return [e.target for e in self._entries if e.template.text == resource.text]

    def find(self, path: str, method: str) -> Match[T] | None:
        """The route API Gateway would pick for this request, if any."""
        best = self._best(path, self._entries)
        if best is None:
            return None
        template, parameters = best[0].template, best[1]
        candidates = [e for e in self._entries if e.template.text == template.text]
        method = method.upper()
        chosen = next((e for e in candidates if e.method == method), None)
        if chosen is None:
            chosen = next((e for e in candidates if e.method == "ANY"), None)
        if chosen is None:
            return None
        return Match(chosen.target, template.text, parameters)

    @staticmethod
    def _best(
        path: str, entries: list[_Entry[T]]
    ) -> tuple[_Entry[T], dict[str, str]] | None:
        parts = split_path(path)
        best: tuple[tuple[int, ...], _Entry[T], dict[str, str]] | None = None
        for entry in entries:
            matched = entry.template.match(parts)
            if matched is None:
                continue
            rank, parameters = matched
            if best is None or rank < best[0]:
                best = (rank, entry, parameters)
        return (best[1], best[2]) if best else None
