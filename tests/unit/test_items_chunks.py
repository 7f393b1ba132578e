"""Items refresh chunks (pure): every identifier in exactly one chunk, chunks bounded."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from splake.items.chunks import chunk_count, chunk_of
from splake.items.plan import catalog_batches


@dataclass(frozen=True)
class Work:
    catalog: tuple
    skus: tuple[str, ...]


@pytest.mark.parametrize(("asins", "skus", "size"), [(0, 8, 3), (45, 0, 20), (1000, 4000, 1000), (5, 5, 1)])
def test_chunks_cover_each_identifier_once(asins: int, skus: int, size: int) -> None:
    work = Work(
        tuple(catalog_batches("US", [f"B{i:09d}" for i in range(asins)])),
        tuple(sorted(f"sku-{i:05d}" for i in range(skus))),
    )
    n = chunk_count(work, size)
    parts = [chunk_of(work, k, size) for k in range(n)]
    ids = [i for p in parts for b in p.catalog for i in b.identifiers]
    assert sorted(ids) == sorted(i for b in work.catalog for i in b.identifiers)
    assert [s for p in parts for s in p.skus] == list(work.skus)
    assert all(
        len(p.skus) <= size and sum(len(b.identifiers) for b in p.catalog) <= max(size, 20) for p in parts
    )
    assert chunk_of(work, n, size).skus == () and chunk_of(work, n, size).catalog == ()
    if asins + skus:
        assert all(p.catalog or p.skus for p in parts)
