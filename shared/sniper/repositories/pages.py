"""Full pages from DynamoDB Queries, and the positions cursors carry between them.

A Query stops at its `Limit` or at 1 MB, and a filter applies after the limit, so
one call may return fewer items than asked for although more exist. `collect` keeps
querying until it has the items wanted or the range is exhausted; asking for one
more than the page size tells whether a next page exists without an empty last page.
A position is the key of the last item returned, without the user id: the
repository rebuilds the start key with the caller's own id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sniper.pagination import InvalidCursor

# With a filter, a small Limit means many round trips for few matches.
FILTERED_PAGE_LIMIT = 100


def collect(
    table: Any, query: dict[str, Any], wanted: int, *, filtered: bool = False
) -> list[dict[str, Any]]:
    """Up to `wanted` items of the query, following DynamoDB's pages."""
    items: list[dict[str, Any]] = []
    kwargs = dict(query)
    while len(items) < wanted:
        remaining = wanted - len(items)
        kwargs["Limit"] = max(remaining, FILTERED_PAGE_LIMIT) if filtered else remaining
        page = table.query(**kwargs)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    # Items beyond `wanted` are dropped; positions come from items returned, so
    # the next page starts right after the last one kept.
    return items[:wanted]


def position_of(item: Mapping[str, Any], key_names: tuple[str, ...]) -> dict[str, Any]:
    """Where a page ending at `item` ends, in the keys of the index queried."""
    return {name: item[name] for name in key_names}


def start_key(
    user_id: str, position: object, key_names: tuple[str, ...]
) -> dict[str, Any] | None:
    """The `ExclusiveStartKey` of a position, in the caller's own partition."""
    if position is None:
        return None
    if not isinstance(position, Mapping):
        raise InvalidCursor()
    if set(position) != set(key_names) or not all(
        isinstance(position[name], str) and position[name] for name in key_names
    ):
        raise InvalidCursor()
    return {"userId": user_id, **{name: position[name] for name in key_names}}
