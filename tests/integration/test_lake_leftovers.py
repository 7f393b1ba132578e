"""Crash leftovers older than the running process (tmp downloads, decoded documents, half-written raw
objects, orphan Parquet and metadata files) are removed at the next start; everything referenced, and
anything newer than the cutoff (a concurrent process's files), stays."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from splake.lake.catalog import open_local_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.leftovers import sweep
from splake.lake.query import QueryEngine
from splake.lake.tables import Provenance, TableSpec

SPEC = TableSpec("t", pa.schema([("k", pa.string())]), key_columns=("k",), replace="key")


def _age(path: Path, seconds: float) -> Path:
    t = time.time() - seconds
    os.utime(path, (t, t))
    return path


def test_leftovers_removed_and_nothing_else(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    lake = CuratedLake(open_local_catalog(root), "spapi")
    for i in range(3):
        prov = Provenance("a", f"r{i}", "raw/x", datetime(2026, 1, 1, tzinfo=UTC), marketplace_id="M")
        lake.write(SPEC, pa.table({"k": [f"k{i}", "same"]}), prov)
    tdir = next(p for p in (root / "warehouse").rglob("t") if p.is_dir())
    before = {p for p in tdir.rglob("*") if p.is_file()}
    for p in before:  # every real file is old too: age alone must never condemn a referenced file
        _age(p, 7200)
    real_parquet = next(p for p in before if p.suffix == ".parquet")
    (root / "tmp").mkdir(exist_ok=True)
    (root / "raw" / "reports").mkdir(parents=True)
    for name in ("tmp/splake-a-1-abc.download", "tmp/splake-doc-x1.txt", "raw/reports/.tmp-0123"):
        (root / name).write_bytes(b"partial")
    old = [
        _age(root / "tmp" / "splake-a-1-abc.download", 7200),
        _age(root / "tmp" / "splake-doc-x1.txt", 7200),
        _age(root / "raw" / "reports" / ".tmp-0123", 7200),
        _age(Path(shutil.copy(real_parquet, tdir / "data" / "00000-0-orphan.parquet")), 7200),
        _age(tdir / "metadata" / "00099-orphan.metadata.json", 7200)
        if (tdir / "metadata" / "00099-orphan.metadata.json").write_text("{}")
        else None,
    ]
    fresh = [root / "tmp" / "splake-b-2-def.download", tdir / "data" / "00000-1-inflight.parquet"]
    for p in fresh:  # a concurrent process's files: newer than the cutoff
        p.write_bytes(b"x")
    (root / "tmp" / "notes.txt").write_text("mine")
    other = _age(root / "tmp" / "notes.txt", 7200)  # not a splake leftover pattern
    cutoff = time.time() - 600
    # another run still working in this lake: none of its (or anyone's) files are touched
    live = root / "tmp" / f"run-{os.getpid()}-live.running"
    live.write_text(str(os.getpid()))
    assert sweep(root, open_local_catalog(root), "spapi", cutoff).total == 0
    assert all(p.exists() for p in old)
    live.unlink()
    # a killed run's marker (its process is gone) is the evidence that sends the sweep into the tables
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    killed = root / "tmp" / "run-dead.running"
    killed.write_text(dead.stdout.strip())
    _age(killed, 7200)
    out = sweep(root, open_local_catalog(root), "spapi", cutoff)
    assert not killed.exists()
    assert sorted(out.tmp + out.raw + out.orphans) == sorted(str(p) for p in old)
    assert all(not p.exists() for p in old)
    assert all(p.exists() for p in fresh) and other.exists()
    assert all(p.exists() for p in before)
    with QueryEngine(open_local_catalog(root), "spapi") as q:
        assert sorted(q.sql("select k from t").column(0).to_pylist()) == ["k0", "k1", "k2", "same"]


def test_without_evidence_of_a_killed_run_the_tables_are_not_scanned(tmp_path: Path) -> None:
    """The table scan reads every manifest: a clean history (no stale run marker, no leftovers) skips it."""
    root = tmp_path / "lake"
    lake = CuratedLake(open_local_catalog(root), "spapi")
    prov = Provenance("a", "r0", "raw/x", datetime(2026, 1, 1, tzinfo=UTC), marketplace_id="M")
    lake.write(SPEC, pa.table({"k": ["x"]}), prov)
    tdir = next(p for p in (root / "warehouse").rglob("t") if p.is_dir())
    orphan = _age(Path(shutil.copy(next(tdir.rglob("*.parquet")), tdir / "data" / "orphan.parquet")), 7200)
    assert sweep(root, open_local_catalog(root), "spapi", time.time() - 600).total == 0
    assert orphan.exists()
    assert sweep(root, open_local_catalog(root), "spapi", time.time() - 600, warehouse=True).orphans == [
        str(orphan)
    ]
