"""A function's init without garbage collection: imported first by each handler.

Loading a function allocates hundreds of thousands of objects (Pydantic's
dataclasses and schema types, Powertools, X-Ray's SDK, boto3) and frees almost
none, so the collector's passes during it find nothing to free and cost about a
fifth of `import boto3` on a cold start (`bench/test_cold_start.py`). Importing
this module turns collection off; the handler module's last line calls
`finished()`, which freezes what init built (later collections, between requests,
no longer walk it) and turns collection back on. Instagram's `gc.freeze()` pattern
(CPython docs: "Freeze all the objects tracked by the garbage collector").
"""

from __future__ import annotations

import gc

gc.disable()


def finished() -> None:
    """End of init: what it built is permanent; collection resumes."""
    gc.freeze()
    gc.enable()
