"""The lake's per-process caches on a real SqlCatalog: parsed metadata files (splake.lake.metacache) and
schema conversions (splake.lake.schemacache). A cached write produces the same data files as an uncached
one, a commit made elsewhere (another catalog object: another process) is seen at the next load, and a
schema that evolved is never served from a conversion of the old one."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from splake.lake.catalog import open_local_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.metacache import CachingSqlCatalog
from splake.lake.parquet_writer import DataFileWriter
from splake.lake.query import QueryEngine
from splake.lake.schemacache import SchemaCache
from splake.lake.tables import OccurrenceCounter, Provenance, TableSpec, prepare_batch, stored_schema

DE = "A1PA6795UKMFR9"
SPEC = TableSpec(
    "orders",
    pa.schema([("order_id", pa.string()), ("sku", pa.string()), ("qty", pa.int64())]),
    key_columns=("order_id",),
    replace="snapshot",
)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _prov(report: str) -> Provenance:
    return Provenance("acme", report, f"raw/{report}", T0, marketplace_id=DE, marketplace_ids=(DE,))


def _doc(n: int, **extra: list[Any]) -> pa.Table:
    cols: dict[str, list[Any]] = {
        "order_id": [f"O-{i:05d}" for i in range(n)],
        "sku": [f"SKU-{i % 7}" for i in range(n)],
        "qty": list(range(n)),
    }
    return pa.table({**cols, **extra})


def _stats(files: list[Any]) -> list[tuple[Any, ...]]:
    return [
        (
            f.record_count,
            dict(f.value_counts),
            dict(f.null_value_counts),
            dict(f.lower_bounds),
            dict(f.upper_bounds),
            tuple(f.partition),
            f.file_size_in_bytes,
        )
        for f in files
    ]


def _write(lake: CuratedLake, cache: SchemaCache | None) -> tuple[list[Any], list[str]]:
    target = stored_schema(SPEC, _doc(1).schema)
    lake._ensure_table("orders", target, (("account_id", "identity"),))
    tbl, target, _ = lake._evolve("orders", target)
    counter = OccurrenceCounter()
    writer = DataFileWriter(tbl, cache=cache, background=False)
    for b in _doc(900).to_batches(max_chunksize=200):
        writer.write(prepare_batch(SPEC, b, target, _prov("R1"), counter))
    files = writer.close()
    counter.close()
    return files, [f.file_path.removeprefix("file://") for f in files]


def test_cached_conversions_write_the_same_files_as_uncached(tmp_path: Path) -> None:
    lake = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
    plain, plain_paths = _write(lake, None)
    cache = SchemaCache()
    first, _ = _write(lake, cache)  # fills the cache
    second, paths = _write(lake, cache)  # served from it
    assert _stats(plain) == _stats(first) == _stats(second)
    for a, b in zip(plain_paths, paths, strict=True):
        assert pq.read_table(a).equals(pq.read_table(b))
        assert pq.ParquetFile(a).schema_arrow == pq.ParquetFile(b).schema_arrow  # field ids too


def test_a_batch_in_another_column_order_is_converted_not_relabelled(tmp_path: Path) -> None:
    """Same types in another order (two string columns swapped): relabelling would store each column
    under the other's name."""
    lake = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
    target = stored_schema(SPEC, _doc(1).schema)
    lake._ensure_table("orders", target, (("account_id", "identity"),))
    tbl, target, _ = lake._evolve("orders", target)
    counter = OccurrenceCounter()
    stored = prepare_batch(SPEC, _doc(5).to_batches()[0], target, _prov("R1"), counter)
    counter.close()
    names = stored.schema.names
    i, j = names.index("order_id"), names.index("sku")
    order = list(range(len(names)))
    order[i], order[j] = j, i
    swapped = stored.select(order)
    for cache in (None, SchemaCache()):
        writer = DataFileWriter(tbl, cache=cache, background=False)
        writer.write(swapped)
        [f] = writer.close()
        got = pq.read_table(f.file_path.removeprefix("file://"))
        assert got.column("order_id").to_pylist() == [f"O-{k:05d}" for k in range(5)]
        assert got.column("sku").to_pylist() == [f"SKU-{k}" for k in range(5)]


def test_a_parsed_metadata_file_is_reused_and_a_commit_elsewhere_is_seen(tmp_path: Path) -> None:
    mine = open_local_catalog(tmp_path / "lake")
    assert isinstance(mine, CachingSqlCatalog)
    lake = CuratedLake(mine, "spapi")
    lake.write(SPEC, _doc(10), _prov("R1"))
    a, b = lake.table("orders"), lake.table("orders")
    assert a.metadata is b.metadata  # one parse for the same metadata file
    hits = mine.parsed.hits
    # another catalog object on the same lake (as another process would) commits
    other = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
    other.write(SPEC, _doc(25), _prov("R2"))
    seen = lake.table("orders")
    assert seen.metadata_location == other.table("orders").metadata_location != a.metadata_location
    assert seen.current_snapshot() is not None
    assert seen.current_snapshot().snapshot_id == other.table("orders").current_snapshot().snapshot_id  # type: ignore[union-attr]
    assert mine.parsed.hits == hits  # the new file was parsed, not served from the old one
    assert QueryEngine(mine, "spapi").sql("select count(*) n from orders").to_pylist() == [{"n": 25}]


def test_an_evolved_schema_is_not_served_from_the_old_conversion(tmp_path: Path) -> None:
    """A warm lake (caches filled by earlier writes) lands a document with a new column, then one
    without it: the column is stored under its own field id and read back; the old rows read null."""
    lake = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
    spec = TableSpec(SPEC.name, SPEC.schema, key_columns=("order_id",), replace="key")
    lake.write(spec, _doc(3), _prov("R1"))
    lake.write(spec, _doc(3), _prov("R1"))
    n = 4
    new = _doc(n, gift=[f"g{i}" for i in range(n)])
    new = new.set_column(0, "order_id", pa.array([f"N-{i}" for i in range(n)]))
    lake.write(spec, new, _prov("R2"))
    later = _doc(2).set_column(0, "order_id", pa.array(["L-0", "L-1"]))
    lake.write(spec, later, _prov("R3"))
    rows = QueryEngine(lake.catalog, "spapi").sql("select order_id, gift from orders order by order_id")
    got = {r["order_id"]: r["gift"] for r in rows.to_pylist()}
    assert got == {
        **{f"O-{i:05d}": None for i in range(3)},
        **{f"N-{i}": f"g{i}" for i in range(n)},
        "L-0": None,
        "L-1": None,
    }
    tbl = lake.table("orders")
    gift_id = tbl.schema().find_field("gift").field_id
    for task in tbl.scan().plan_files():
        fields = pq.ParquetFile(task.file.file_path.removeprefix("file://")).schema_arrow
        if "gift" in fields.names:
            assert int(fields.field("gift").metadata[b"PARQUET:field_id"]) == gift_id


def test_a_column_first_seen_mid_document_evolves_the_table_each_time(tmp_path: Path) -> None:
    """The grows check is kept per (incoming, target) schema pair: a warm lake still evolves when a later
    batch of a document brings a column, and a later document of the same shape needs no evolution."""
    lake = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
    spec = TableSpec(SPEC.name, SPEC.schema, key_columns=("order_id",), replace="key")

    def doc(prefix: str, extra: str) -> list[pa.RecordBatch]:
        plain = _doc(2).set_column(0, "order_id", pa.array([f"{prefix}-0", f"{prefix}-1"]))
        more = _doc(2, **{extra: ["x", "y"]}).set_column(
            0, "order_id", pa.array([f"{prefix}-2", f"{prefix}-3"])
        )
        return [*plain.to_batches(), *more.to_batches()]

    first = lake.write(spec, doc("A", "gift"), _prov("R1"))
    second = lake.write(spec, doc("B", "wrap"), _prov("R2"))
    third = lake.write(spec, doc("C", "gift"), _prov("R3"))
    assert (first.columns_added, second.columns_added, third.columns_added) == (("gift",), ("wrap",), ())
    rows = QueryEngine(lake.catalog, "spapi").sql("select order_id, gift, wrap from orders order by order_id")
    got = {r["order_id"]: (r["gift"], r["wrap"]) for r in rows.to_pylist()}
    assert got == {
        "A-0": (None, None), "A-1": (None, None), "A-2": ("x", None), "A-3": ("y", None),
        "B-0": (None, None), "B-1": (None, None), "B-2": (None, "x"), "B-3": (None, "y"),
        "C-0": (None, None), "C-1": (None, None), "C-2": ("x", None), "C-3": ("y", None),
    }  # fmt: skip


def test_a_table_dropped_and_created_again_is_loaded_as_the_new_one(tmp_path: Path) -> None:
    """The pointer query (one SQL Core statement, built once per catalog) follows a drop and re-create by
    another catalog object, and a missing table is still NoSuchTableError."""
    from pyiceberg.exceptions import NoSuchTableError

    mine = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
    mine.write(SPEC, _doc(5), _prov("R1"))
    first = mine.table("orders")
    other = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
    other.catalog.drop_table(("spapi", "orders"))
    with pytest.raises(NoSuchTableError):
        mine.catalog.load_table(("spapi", "orders"))
    other.write(SPEC, _doc(2), _prov("R2"))
    again = mine.table("orders")
    assert again.metadata.table_uuid != first.metadata.table_uuid
    assert again.metadata_location == other.table("orders").metadata_location
    assert QueryEngine(mine.catalog, "spapi").sql("select count(*) n from orders").to_pylist() == [{"n": 2}]


def test_a_warm_lake_aligns_its_writes_to_a_schema_evolved_elsewhere(tmp_path: Path) -> None:
    """The write schema kept per (table schema, incoming schema): after another catalog object (another
    process) evolved the table, the same incoming schema is aligned to the new table schema (its new column
    written as null), not served from the old alignment."""
    mine = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
    mine.write(SPEC, _doc(3), _prov("R1"))
    target = stored_schema(SPEC, _doc(1).schema)
    _, before, added = mine._evolve("orders", target)
    assert "gift" not in before.names and added == ()
    assert mine._evolve("orders", target)[1] is before  # (kept: the same derivation)
    other = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
    other.write(SPEC, _doc(2, gift=["a", "b"]), _prov("R2"))
    _, after, added = mine._evolve("orders", target)
    assert added == () and after.names == [*before.names, "gift"]
    mine.write(SPEC, _doc(4), _prov("R3"))
    rows = QueryEngine(mine.catalog, "spapi").sql("select count(*) n, count(gift) g from orders").to_pylist()
    assert rows == [{"n": 4, "g": 0}]


def test_a_file_io_is_shared_per_table_properties(tmp_path: Path) -> None:
    """Table loads reuse the FileIO built for the same table properties; a table whose properties changed
    (another catalog object set one) is loaded with a FileIO of the new properties."""
    lake = CuratedLake(open_local_catalog(tmp_path / "lake"), "spapi")
    lake.write(SPEC, _doc(3), _prov("R1"))
    a, b = lake.table("orders"), lake.table("orders")
    assert a.io is b.io
    other = open_local_catalog(tmp_path / "lake")
    with other.load_table(("spapi", "orders")).transaction() as txn:
        txn.set_properties({"splake.test": "1"})
    c = lake.table("orders")
    assert c.io is not a.io and c.io.properties.get("splake.test") == "1"
    assert "splake.test" not in a.io.properties
