"""The base of every model of ours: built on first use, not at import.

Pydantic builds a model's validator and serializer when its class is defined,
unless `defer_build` asks it to wait for the first validation, dump or schema. A
function defines dozens of models (each route's bodies, the eBay client's, the
stored items') and a request uses a few, so deferred, a cold start builds only
what its first request touches (`bench/test_cold_start.py`). Subclasses' own
`model_config` is merged with this one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A Pydantic model whose validator is built on its first use."""

    model_config = ConfigDict(defer_build=True)
