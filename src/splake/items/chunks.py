"""Chunks of one (account, marketplace)'s items refresh, so a big catalog lands piece by piece (pure).

Chunk ``k`` of size ``n`` covers the catalog batches holding identifiers ``[k*n, (k+1)*n)`` and the SKUs
``[k*n, (k+1)*n)`` of the (sorted) work: every identifier falls in exactly one chunk, and a chunk's calls
fit one function invocation whatever the catalog size.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Protocol, TypeVar

DEFAULT_CHUNK = 1000  # identifiers per chunk: ~50 catalog calls + ~50 listings calls


class _Work(Protocol):
    @property
    def catalog(self) -> tuple[Any, ...]: ...

    @property
    def skus(self) -> tuple[str, ...]: ...


W = TypeVar("W", bound=_Work)


def _per_batch(work: _Work) -> int:
    return max((len(b.identifiers) for b in work.catalog), default=1)


def chunk_count(work: _Work, size: int = DEFAULT_CHUNK) -> int:
    if size < 1:
        raise ValueError("chunk size must be >= 1")
    batches_per_chunk = max(1, size // _per_batch(work))
    return max(1, math.ceil(len(work.catalog) / batches_per_chunk), math.ceil(len(work.skus) / size))


def chunk_of(work: W, index: int, size: int = DEFAULT_CHUNK) -> W:
    """The part of ``work`` in chunk ``index`` (empty past the last chunk)."""
    batches_per_chunk = max(1, size // _per_batch(work))
    catalog = work.catalog[index * batches_per_chunk : (index + 1) * batches_per_chunk]
    skus = work.skus[index * size : (index + 1) * size]
    return dataclasses.replace(work, catalog=catalog, skus=skus)  # type: ignore[type-var]
