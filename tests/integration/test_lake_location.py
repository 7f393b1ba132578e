"""Location independence: a copied lake never touches the original; a moved lake keeps working; nothing
is ever written outside the lake root."""

from __future__ import annotations

import hashlib
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from splake.lake.catalog import open_local_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.location import LakeLocationError, RootedFileIO
from splake.lake.query import QueryEngine
from splake.lake.tables import Provenance, TableSpec

SPEC = TableSpec(
    "orders",
    pa.schema([("order_id", pa.string()), ("qty", pa.int64())]),
    key_columns=("order_id",),
    replace="key",
)


def _prov(report: str) -> Provenance:
    return Provenance(
        account_id="acme",
        report_id=report,
        source_key=f"raw/{report}",
        ingested_at=datetime(2026, 2, 1, tzinfo=UTC),
        marketplace_id="ATVPDKIKX0DER",
    )


def _rows(prefix: str, n: int, qty: int = 1) -> pa.Table:
    return pa.table({"order_id": [f"{prefix}-{i}" for i in range(n)], "qty": [qty] * n})


def _digest(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the sha256 of its bytes (the test's own view, not splake's)."""
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _write(root: Path, report: str, rows: pa.Table) -> None:
    lake = CuratedLake(open_local_catalog(root), "spapi")
    lake.write(SPEC, rows, _prov(report))


def _keys(root: Path) -> list[str]:
    with QueryEngine(open_local_catalog(root), "spapi") as q:
        return sorted(q.sql("select order_id from orders").column("order_id").to_pylist())


def test_synced_copy_leaves_every_byte_of_the_original(tmp_path: Path) -> None:
    a = tmp_path / "lakeA"
    _write(a, "r1", _rows("a", 5))
    _write(a, "r2", _rows("b", 3))
    before = _digest(a)
    b = tmp_path / "lakeB"
    shutil.copytree(a, b, symlinks=True)
    for i in range(3):  # three "syncs" of the copy, each a commit + an expiry of older snapshots
        _write(b, f"copy-{i}", _rows(f"c{i}", 4, qty=i))
        CuratedLake(open_local_catalog(b), "spapi").expire_snapshots(
            datetime.now(UTC) + timedelta(days=1), retain_last=1
        )
    assert _digest(a) == before  # not one byte of the original changed, nothing added or removed
    assert len(_keys(a)) == 8
    assert len(_keys(b)) == 8 + 12
    # every file of the copy's current state lies under the copy
    tbl = CuratedLake(open_local_catalog(b), "spapi").table("orders")
    assert isinstance(tbl.io, RootedFileIO)
    for task in tbl.scan().plan_files():
        local = tbl.io.local_path(task.file.file_path)
        assert local is not None and local.startswith(str(b.resolve()) + "/") and os.path.exists(local)


def test_moved_lake_answers_queries_and_takes_writes(tmp_path: Path) -> None:
    a = tmp_path / "old"
    _write(a, "r1", _rows("a", 5))
    b = tmp_path / "new" / "place"
    b.parent.mkdir()
    a.rename(b)
    assert _keys(b) == sorted(f"a-{i}" for i in range(5))
    _write(b, "r2", _rows("a", 2, qty=9))  # same keys: replaced, not duplicated
    _write(b, "r3", _rows("z", 1))
    assert _keys(b) == sorted([*(f"a-{i}" for i in range(5)), "z-0"])
    assert not a.exists()  # nothing was recreated at the old place
    b.rename(tmp_path / "third")  # moved again: the roots recorded so far keep resolving
    assert len(_keys(tmp_path / "third")) == 6


def test_copy_into_own_subdirectory_maps_to_itself(tmp_path: Path) -> None:
    a = tmp_path / "lake"
    _write(a, "r1", _rows("a", 3))
    sub = a / "backup"
    shutil.copytree(a, tmp_path / "staging")
    (tmp_path / "staging").rename(sub)
    before = {k: v for k, v in _digest(a).items() if not k.startswith("backup/")}
    _write(sub, "r2", _rows("s", 2))
    after = {k: v for k, v in _digest(a).items() if not k.startswith("backup/")}
    assert after == before
    assert len(_keys(sub)) == 5 and len(_keys(a)) == 3


def test_guard_refuses_writes_outside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    _write(root, "r1", _rows("a", 1))
    io = CuratedLake(open_local_catalog(root), "spapi").table("orders").io
    outside = tmp_path / "victim.txt"
    outside.write_text("keep me")
    with pytest.raises(LakeLocationError, match="outside the lake root"):
        io.new_output(outside.as_uri())
    with pytest.raises(LakeLocationError, match="outside the lake root"):
        io.delete(str(outside))
    with pytest.raises(LakeLocationError):
        io.new_output(f"file://{root}/../victim.txt")
    assert outside.read_text() == "keep me"


def test_metadata_elsewhere_is_refused_not_read(tmp_path: Path) -> None:
    """A catalog that points outside the root at files this lake does not have (a catalog.db copied
    without its warehouse): the table is refused with the fix, the other lake's files are not read."""
    from splake.lake.damage import TableDamagedError

    a = tmp_path / "lakeA"
    _write(a, "r1", _rows("a", 3))
    b = tmp_path / "lakeB"
    b.mkdir()
    shutil.copy(a / "catalog.db", b / "catalog.db")
    with QueryEngine(open_local_catalog(b), "spapi") as q:
        with pytest.raises(TableDamagedError) as err:
            q.sql("select * from orders")
    assert "outside the lake root" in err.value.reason and "lake rebuild" in err.value.render()
    with pytest.raises(LakeLocationError):
        CuratedLake(open_local_catalog(b), "spapi").write(SPEC, _rows("x", 1), _prov("r2"))
    assert len(_keys(a)) == 3
