"""Streaming writes keep memory bounded: a big document is written batch by batch, never materialised.

Each measurement runs in a fresh Python process (so RSS is not polluted by other tests): it writes a
warm-up document, records RSS, then streams N generated rows (batches produced lazily) while a thread
samples peak RSS. The rows are then counted through DuckDB to prove nothing was lost or duplicated.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

_SCRIPT = textwrap.dedent(
    """
    import json, sys, threading, time
    from datetime import UTC, datetime, timedelta
    import psutil
    import pyarrow as pa
    import pyarrow.compute as pc
    from splake.lake import CuratedLake, Provenance, QueryEngine, TableSpec, open_local_catalog

    n_rows, batch_rows, lake_dir, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    spec = TableSpec(
        "big",
        pa.schema([("order_id", pa.string()), ("sku", pa.string()), ("qty", pa.int64()),
                   ("price", pa.float64()), ("purchase_date", pa.timestamp("us", tz="UTC"))]),
        key_columns=("order_id", "sku"), replace="window", window_column="purchase_date",
    )
    base = datetime(2026, 1, 1, tzinfo=UTC)
    base_us = int(base.timestamp() * 1_000_000)

    def batches(n):
        for start in range(0, n, batch_rows):
            idx = pa.array(range(start, min(n, start + batch_rows)), pa.int64())
            secs = pc.multiply(pc.bit_wise_and(pc.multiply(idx, 37), 0x1FFFFF), 1_000_000)
            yield pa.RecordBatch.from_arrays(
                [pc.cast(idx, pa.string()),
                 pc.binary_join_element_wise("SKU-", pc.cast(pc.bit_wise_and(idx, 1023), pa.string()), ""),
                 idx, pc.multiply(pc.cast(idx, pa.float64()), 0.5),
                 pc.cast(pc.add(secs, base_us), pa.timestamp("us", tz="UTC"))],
                schema=spec.schema)

    def prov(rid, acct):
        return Provenance(acct, rid, "raw/" + rid, base, base, base + timedelta(days=30), "ATVPDKIKX0DER")

    catalog = open_local_catalog(lake_dir)
    lake = CuratedLake(catalog, "spapi")
    if mode == "reingest":  # the same document is already in the table: the write must replace it
        lake.write(spec, batches(n_rows), prov("first", "acct"))
    else:  # load every code path first
        lake.write(spec, batches(batch_rows), prov("warm", "warm"))
    proc = psutil.Process()
    base_rss = peak = proc.memory_info().rss
    done = False

    def sample():
        global peak
        while not done:
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.01)

    t = threading.Thread(target=sample)
    t.start()
    t0 = time.monotonic()
    res = lake.write(spec, batches(n_rows), prov("R", "acct"))
    elapsed = time.monotonic() - t0
    done = True
    t.join()
    counts = QueryEngine(catalog, "spapi").sql(
        "select count(*) n, count(distinct row_key) k from big where account_id = 'acct'").to_pylist()[0]
    print(json.dumps({"growth_mb": (peak - base_rss) / 2**20, "seconds": elapsed,
                      "written": res.rows_written, "files": res.data_files, **counts}))
    """
)


def _measure(tmp_path: Path, n_rows: int, batch_rows: int, mode: str = "new") -> dict[str, float]:
    lake = tmp_path / f"lake-{n_rows}-{mode}"
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(n_rows), str(batch_rows), str(lake), mode],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=os.getcwd(),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"streaming write {n_rows:,} rows ({mode}): {result}")
    return result


def test_streaming_write_of_1m_rows_stays_small(tmp_path: Path) -> None:
    r = _measure(tmp_path, 1_000_000, 100_000)
    assert r["written"] == r["n"] == r["k"] == 1_000_000
    # In the stored shape (provenance + 64-char row key) a row takes ~175 bytes of Arrow, so holding
    # the 1M-row document would alone add ~170 MB on top of the copies a write makes; streaming adds
    # ~100 MB (measured) whatever the size.
    assert r["growth_mb"] < 200


_COUNTER_SCRIPT = textwrap.dedent(
    """
    import json, sys, tracemalloc
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from splake.lake.rowkeys import OccurrenceCounter

    n_rows, batch_rows = int(sys.argv[1]), int(sys.argv[2])
    mix = pa.scalar(0x9E3779B97F4A7C15, pa.uint64())  # odd: row number -> distinct, spread fingerprint
    counter = OccurrenceCounter()
    tracemalloc.start()  # numpy reports its buffers to tracemalloc
    base = tracemalloc.get_traced_memory()[0]
    for start in range(0, n_rows, batch_rows):
        fps = pc.multiply(pa.array(np.arange(start, min(n_rows, start + batch_rows), dtype=np.uint64)), mix)
        assert counter.occurrences(fps) is None
        del fps
    kept, peak = tracemalloc.get_traced_memory()
    print(json.dumps({"peak_mb": (peak - base) / 2**20, "kept_mb": (kept - base) / 2**20,
                      "distinct": len(counter)}))
    """
)


def test_row_key_counter_holds_its_fingerprints_and_little_more() -> None:
    # The row-key repeat counter keeps every fingerprint of a document (8 bytes a row). Merging all into
    # one sorted array took ~2x the array as scratch at each merge (4M rows: a 95 MB peak for 31 MB of
    # fingerprints), the size-dependent part of a 2M-row landing's RSS growth (~180 MB vs ~110 MB).
    n = 4_000_000
    out = subprocess.run(
        [sys.executable, "-c", _COUNTER_SCRIPT, str(n), "100000"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.getcwd(),
    )
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"row-key counter, {n:,} fingerprints: {r}")
    assert r["distinct"] == n
    # the fingerprints themselves, and their Bloom filter (lake/bloom.py: 1-2 bytes a value)
    assert r["kept_mb"] < (8 + 2) * n / 2**20 + 2
    assert r["peak_mb"] < r["kept_mb"] + 24  # merge scratch bounded by a few chunks, not the level


@pytest.mark.slow
def test_memory_does_not_grow_with_document_size(tmp_path: Path) -> None:
    small = _measure(tmp_path, 200_000, 100_000)
    big = _measure(tmp_path, 2_000_000, 100_000)
    assert big["written"] == big["n"] == big["k"] == 2_000_000
    assert big["growth_mb"] < 250  # materialised, 2M stored rows alone are ~350 MB of Arrow
    # 10x the rows must not cost anywhere near 10x the memory
    assert big["growth_mb"] < small["growth_mb"] + 100


@pytest.mark.slow
def test_reingesting_2m_rows_over_themselves_stays_small(tmp_path: Path) -> None:
    # the replace plus the table-wide key check (a DuckDB join of 2M new against 2M live keys)
    r = _measure(tmp_path, 2_000_000, 100_000, mode="reingest")
    assert r["written"] == r["n"] == r["k"] == 2_000_000
    assert r["growth_mb"] < 250
