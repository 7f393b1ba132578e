"""The streamed Parquet staging writer (splake.lake.parquet_writer) on a real pyiceberg SqlCatalog: rows
land in the partition their own values say (a batch spanning two months is split, null window values get
their own partition), row groups and file rolling keep every row once, the DataFile statistics match the
file, and an aborted write leaves no file behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from splake.lake.catalog import open_local_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.parquet_writer import DataFileWriter
from splake.lake.query import QueryEngine
from splake.lake.tables import Provenance, TableSpec, stored_schema

US, DE = "ATVPDKIKX0DER", "A1PA6795UKMFR9"
SPEC = TableSpec(
    "orders",
    pa.schema(
        [
            ("order_id", pa.string()),
            ("marketplace_id", pa.string()),
            ("qty", pa.int64()),
            ("purchase_date", pa.timestamp("us", tz="UTC")),
        ]
    ),
    key_columns=("order_id",),
    replace="window",
    window_column="purchase_date",
)
START = datetime(2026, 1, 20, tzinfo=UTC)
PROV = Provenance("acme", "R1", "raw/R1", datetime(2026, 3, 1, tzinfo=UTC), START, START + timedelta(days=30))


def _doc(n: int, *, nulls: int = 0) -> pa.Table:
    """``n`` orders spread over 20 Jan - 18 Feb (two months), two marketplaces, ``nulls`` without a date."""
    dates = [START + timedelta(minutes=43 * i) for i in range(n)]
    return pa.table(
        {
            "order_id": [f"O-{i:06d}" for i in range(n + nulls)],
            "marketplace_id": [US if i % 3 else DE for i in range(n + nulls)],
            "qty": list(range(n + nulls)),
            "purchase_date": pa.array([*dates, *([None] * nulls)], pa.timestamp("us", tz="UTC")),
        }
    )


@pytest.fixture
def lake(tmp_path: Path) -> CuratedLake:
    return CuratedLake(open_local_catalog(str(tmp_path / "lake")), "spapi")


def _partitions(lake: CuratedLake) -> dict[tuple[object, ...], int]:
    tbl = lake.table("orders")
    out: dict[tuple[object, ...], int] = {}
    for task in tbl.scan().plan_files():
        key = tuple(task.file.partition)
        out[key] = out.get(key, 0) + task.file.record_count
    return out


def test_rows_land_in_the_partition_of_their_own_values(lake: CuratedLake) -> None:
    doc = _doc(1000, nulls=5)
    res = lake.write(SPEC, doc.to_batches(max_chunksize=128), PROV)
    assert res.rows_written == 1005
    parts = _partitions(lake)
    # identity(account), identity(marketplace), month(purchase_date): months since 1970 (Jan = 672)
    jan, feb = (2026 - 1970) * 12, (2026 - 1970) * 12 + 1
    mine = doc.to_pylist()
    expected: dict[tuple[object, ...], int] = {}
    for r in mine:
        d = r["purchase_date"]
        month = None if d is None else (jan if d.month == 1 else feb)
        k = ("acme", r["marketplace_id"], month)
        expected[k] = expected.get(k, 0) + 1
    assert parts == expected
    assert res.data_files == len(expected)  # one file per partition, however many batches
    engine = QueryEngine(lake.catalog, "spapi")
    try:
        got = engine.sql("select order_id, marketplace_id, qty, purchase_date from orders order by order_id")
    finally:
        engine.close()
    assert got.to_pylist() == sorted(mine, key=lambda r: r["order_id"])


def test_row_groups_and_rolled_files_keep_every_row_once_with_true_statistics(lake: CuratedLake) -> None:
    target = stored_schema(SPEC, _doc(1).schema)
    lake._ensure_table("orders", target, (("account_id", "identity"),))
    tbl, target, _ = lake._evolve("orders", target)
    from splake.lake.tables import OccurrenceCounter, prepare_batch

    counter = OccurrenceCounter()
    writer = DataFileWriter(tbl, row_group_rows=300, target_file_bytes=60_000)
    for b in _doc(3000).to_batches(max_chunksize=250):
        writer.write(prepare_batch(SPEC, b, target, PROV, counter))
    files = writer.close()
    counter.close()
    assert len(files) > 2  # rolled
    assert sum(f.record_count for f in files) == 3000
    seen: list[str] = []
    for f in files:
        path = f.file_path.removeprefix("file://")
        meta = pq.ParquetFile(path).metadata
        assert meta.num_rows == f.record_count
        assert meta.num_row_groups >= 1
        assert all(meta.row_group(i).num_rows <= 550 for i in range(meta.num_row_groups))
        assert f.file_size_in_bytes == Path(path).stat().st_size
        seen += pq.read_table(path, columns=["order_id"]).column(0).to_pylist()
        # every column carries its Iceberg field id (batches after the first are relabelled, not converted)
        ids = {fld.name: int(fld.metadata[b"PARQUET:field_id"]) for fld in pq.ParquetFile(path).schema_arrow}
        assert ids == {fld.name: fld.field_id for fld in tbl.schema().fields}
    assert sorted(seen) == [f"O-{i:06d}" for i in range(3000)]
    # a file whose first row group is small is written plain, row keys included (larger ones choose by
    # distinct share: test_dictionary_is_chosen_by_the_share_...)
    meta = pq.ParquetFile(files[0].file_path.removeprefix("file://")).metadata
    assert not any("RLE_DICTIONARY" in meta.row_group(0).column(i).encodings for i in range(meta.num_columns))


def test_abort_deletes_every_file_written(lake: CuratedLake, tmp_path: Path) -> None:
    target = stored_schema(SPEC, _doc(1).schema)
    lake._ensure_table("orders", target, (("account_id", "identity"),))
    tbl, target, _ = lake._evolve("orders", target)
    from splake.lake.tables import OccurrenceCounter, prepare_batch

    counter = OccurrenceCounter()
    writer = DataFileWriter(tbl, row_group_rows=100, target_file_bytes=20_000)
    for b in _doc(2000).to_batches(max_chunksize=100):
        writer.write(prepare_batch(SPEC, b, target, PROV, counter))
    counter.close()
    written = list((tmp_path / "lake").rglob("*.parquet"))
    assert len(written) > 2
    writer.abort()
    assert list((tmp_path / "lake").rglob("*.parquet")) == []


def test_dictionary_is_chosen_by_the_share_of_distinct_values() -> None:
    from splake.lake.parquet_format import dictionary_columns

    n = 6000
    table = pa.table(
        {
            "status": ["Shipped" if i % 3 else "Pending" for i in range(n)],
            "order_id": [f"O-{i}" for i in range(n)],
            "half": [str(i // 2) for i in range(n)],  # 50 % distinct: still worth it at the bound
            "sparse": [f"x{i}" if i < 10 else None for i in range(n)],  # all its values distinct
            "empty": pa.nulls(n, pa.string()),
            "row_key": ["k"] * n,  # plain whatever its values
        }
    )
    assert dictionary_columns(table) == ["status", "half", "empty"]
    assert dictionary_columns(table, max_distinct=0.4) == ["status", "empty"]
    # a small file is written plain (no distinct counts; zstd takes the repeats)
    assert dictionary_columns(table.slice(0, 100)) == []
    small, large = pa.BufferOutputStream(), pa.BufferOutputStream()
    for rows, out in ((table.slice(0, 4_999), small), (table, large)):
        with pq.ParquetWriter(out, rows.schema, use_dictionary=dictionary_columns(rows)) as w:
            w.write_table(rows)
    small_meta = pq.ParquetFile(pa.BufferReader(small.getvalue())).metadata.row_group(0)
    large_meta = pq.ParquetFile(pa.BufferReader(large.getvalue())).metadata.row_group(0)
    assert not any(small_meta.column(i).has_dictionary_page for i in range(small_meta.num_columns))
    assert [large_meta.column(i).has_dictionary_page for i in range(large_meta.num_columns)] == [
        True,
        False,
        True,
        False,
        True,
        False,
    ]


def test_a_one_row_group_document_is_encoded_without_a_writer_thread(lake: CuratedLake) -> None:
    """Nothing would overlap with a file's last row group: it is encoded in the caller's thread, so a
    small document (most reports) starts no writer thread; larger ones still hand row groups over."""
    import threading

    from splake.lake.tables import OccurrenceCounter, prepare_batch

    target = stored_schema(SPEC, _doc(1).schema)
    lake._ensure_table("orders", target, (("account_id", "identity"),))
    tbl, target, _ = lake._evolve("orders", target)
    for rows, row_group_rows, threads in ((200, 1000, False), (2000, 300, True)):
        counter = OccurrenceCounter()
        writer = DataFileWriter(tbl, row_group_rows=row_group_rows, background=True)
        seen: set[str] = set()
        for b in _doc(rows).to_batches(max_chunksize=100):
            writer.write(prepare_batch(SPEC, b, target, PROV, counter))
            seen |= {t.name for t in threading.enumerate()}
        files = writer.close()
        counter.close()
        assert any(n.startswith("splake-parquet") for n in seen) is threads
        assert sum(f.record_count for f in files) == rows
        total = sum(pq.ParquetFile(f.file_path.removeprefix("file://")).metadata.num_rows for f in files)
        assert total == rows
