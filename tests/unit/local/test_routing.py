"""Path templates matched the way API Gateway picks a resource and method."""

from __future__ import annotations

import pytest

from local.stack.routing import PathTemplate, PathTemplateError, RouteTable


@pytest.fixture
def table() -> RouteTable[str]:
    routes: RouteTable[str] = RouteTable()
    for path, method, target in [
        ("/health", "GET", "health"),
        ("/bids", "GET", "list"),
        ("/bids", "POST", "create"),
        ("/bids/{bidId}", "GET", "get"),
        ("/bids/active", "GET", "active"),
        ("/bids/{bidId}/history", "ANY", "history"),
        ("/bids/{bidId}/history", "DELETE", "erase"),
        ("/files/{proxy+}", "ANY", "files"),
        ("/{proxy+}", "GET", "fallback"),
    ]:
        table_added = routes.add(path, method, target)
        assert table_added
    return routes


def test_literal_paths(table: RouteTable[str]) -> None:
    match = table.find("/health", "GET")

    assert match is not None
    assert (match.target, match.resource, match.parameters) == ("health", "/health", {})


def test_a_literal_segment_beats_a_parameter(table: RouteTable[str]) -> None:
    active = table.find("/bids/active", "GET")
    one = table.find("/bids/b-1", "GET")

    assert active is not None and active.target == "active"
    assert one is not None and one.parameters == {"bidId": "b-1"}
    assert one.resource == "/bids/{bidId}"


def test_an_exact_method_beats_any(table: RouteTable[str]) -> None:
    erase = table.find("/bids/b-1/history", "DELETE")
    read = table.find("/bids/b-1/history", "GET")

    assert erase is not None and erase.target == "erase"
    assert read is not None and read.target == "history"


def test_greedy_parameters_take_one_or_more_segments(table: RouteTable[str]) -> None:
    nested = table.find("/files/a/b/c.txt", "PUT")
    fallback = table.find("/anything/else", "GET")

    assert nested is not None
    assert nested.parameters == {"proxy": "a/b/c.txt"}
    assert nested.resource == "/files/{proxy+}"
    assert fallback is not None and fallback.parameters == {"proxy": "anything/else"}
    bare = table.find("/files", "GET")  # {proxy+} needs a segment: the root greedy wins
    assert bare is not None and bare.target == "fallback"


def test_a_resource_without_the_method_is_no_match(table: RouteTable[str]) -> None:
    assert table.find("/health", "POST") is None
    resource = table.resource("/bids")
    assert resource is not None
    assert sorted(table.methods(resource)) == ["GET", "POST"]


def test_no_resource_at_all() -> None:
    routes: RouteTable[str] = RouteTable()
    routes.add("/a", "GET", "a")

    assert routes.find("/b", "GET") is None
    assert routes.resource("/") is None


def test_duplicate_routes_are_refused(table: RouteTable[str]) -> None:
    assert table.add("/health", "get", "again") is False


@pytest.mark.parametrize("path", ["no-slash", "/{proxy+}/tail", "/x/{bad"])
def test_invalid_templates(path: str) -> None:
    with pytest.raises(PathTemplateError):
        PathTemplate.parse(path)


def test_trailing_slashes_do_not_matter() -> None:
    template = PathTemplate.parse("/users/profile/")

    assert template.text == "/users/profile"
    assert template.match(("users", "profile")) is not None
