"""The curated lake on AWS-shaped storage: pyiceberg GlueCatalog + S3 on a moto server (loopback).

Covers the remote code paths the local tests cannot: the table-wide key check and the query views read
S3 data files through Arrow datasets (DuckDB cannot reach S3 offline)."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from splake.lake.catalog import open_glue_catalog
from splake.lake.iceberg import CuratedLake
from splake.lake.query import QueryEngine
from splake.lake.raw import RawZone
from splake.lake.tables import BadRow, Provenance, TableSpec

SPEC = TableSpec(
    "orders",
    pa.schema([("order_id", pa.string()), ("status", pa.string()), ("day", pa.date32())]),
    key_columns=("order_id",),
    replace="window",
    window_column="day",
)


@pytest.fixture
def glue_catalog(moto_server: Any, aws_bucket: str) -> Any:
    props = {
        "warehouse": f"s3://{aws_bucket}/warehouse",
        "glue.endpoint": moto_server.url,
        "glue.region": "us-east-1",
        "glue.access-key-id": "testing",
        "glue.secret-access-key": "testing",
        "s3.endpoint": moto_server.url,
        "s3.region": "us-east-1",
        "s3.access-key-id": "testing",
        "s3.secret-access-key": "testing",
    }
    return open_glue_catalog(props)


def _prov(rid: str, start: int, end: int) -> Provenance:
    return Provenance(
        account_id="acme",
        report_id=rid,
        source_key=f"raw/{rid}",
        ingested_at=datetime(2026, 2, 1, tzinfo=UTC),
        data_start=datetime(2026, 1, start, tzinfo=UTC),
        data_end=datetime(2026, 1, end, tzinfo=UTC),
        marketplace_id="ATVPDKIKX0DER",
    )


def _doc(rows: list[tuple[str, str, int]]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"order_id": o, "status": s, "day": date(2026, 1, d)} for o, s, d in rows], schema=SPEC.schema
    )


def test_window_replace_and_moved_keys_on_glue_and_s3(glue_catalog: Any) -> None:
    namespace = "spapi_" + datetime.now(UTC).strftime("%H%M%S%f")
    lake = CuratedLake(glue_catalog, namespace)
    lake.write(
        SPEC, _doc([("o1", "Pending", 1), ("o2", "Pending", 1), ("o3", "Pending", 2)]), _prov("A", 1, 3)
    )
    # o1 changed on day 3 (outside A's window): its old row must go; o3's day is re-delivered
    res = lake.write(SPEC, _doc([("o1", "Shipped", 3), ("o4", "Pending", 3)]), _prov("B", 3, 4))
    assert res.rows_deleted == 1
    assert lake.quarantine("orders", [BadRow(7, "bad\tline", "too few columns")], _prov("B", 3, 4)) == 1
    engine = QueryEngine(glue_catalog, namespace)
    got = engine.sql("select order_id, status from orders order by order_id").to_pylist()
    assert got == [
        {"order_id": "o1", "status": "Shipped"},
        {"order_id": "o2", "status": "Pending"},
        {"order_id": "o3", "status": "Pending"},
        {"order_id": "o4", "status": "Pending"},
    ]
    assert engine.sql("select count(*) n from orders__quarantine").to_pylist() == [{"n": 1}]
    assert lake.table_stats() == {"orders": 4, "orders__quarantine": 1}
    # the same documents again: still exactly one row per key
    lake.write(SPEC, _doc([("o1", "Shipped", 3), ("o4", "Pending", 3)]), _prov("B", 3, 4))
    [row] = engine.sql("select count(*) n, count(distinct row_key) k from orders").to_pylist()
    assert row == {"n": 4, "k": 4}
    removed = lake.expire_snapshots(datetime.now(UTC) + timedelta(seconds=1), retain_last=1)
    assert removed["orders"] > 0
    assert engine.sql("select count(*) n from orders").to_pylist() == [{"n": 4}]


@pytest.mark.parametrize("mode", ["window", pytest.param("key", marks=pytest.mark.slow)])
def test_a_group_commit_equals_one_by_one_on_glue_and_s3(glue_catalog: Any, mode: str) -> None:
    """The remote paths of a group commit: staged and live files read through Arrow datasets, no local
    file names (rewrites find their files by scanning candidates)."""
    from tests.integration.test_lake_group_commit import compare_group

    stamp = datetime.now(UTC).strftime("%H%M%S%f")
    one_by_one = CuratedLake(glue_catalog, f"seq_{mode}_{stamp}")
    grouped = CuratedLake(glue_catalog, f"grp_{mode}_{stamp}")
    compare_group(one_by_one, grouped, mode, seed=2, base=3, group=5)


def test_raw_zone_on_the_s3_object_store(aws_object_store: Any, tmp_path: Path) -> None:
    zone = RawZone(aws_object_store)
    doc = tmp_path / "doc.gz"
    doc.write_bytes(gzip.compress(b"sku\tqty\nA\t1\n", mtime=0))
    meta = {
        "report_type": "GET_X",
        "report_id": "R1",
        "document_id": "D1",
        "data_start": "2026-01-02T00:00:00Z",
        "content_type": "text/tab-separated-values",
    }
    ref = zone.put_document("acme", "reports", "R1__D1", doc, meta)
    assert ref.key == "raw/reports/acme/GET_X/2026/01/02/R1__D1.tsv.gz"
    assert zone.put_document("acme", "reports", "R1__D1", doc, meta) == ref  # idempotent re-put
    [back] = list(zone.iter_documents("raw/reports/acme/"))
    assert back.open().read() == doc.read_bytes()
    assert back.open_decoded().read() == b"sku\tqty\nA\t1\n"
