"""Landing documents into the real lake (SqlCatalog + Iceberg on disk): quarantine lane, schema drift,
overlapping windows replace instead of duplicating, provenance from the request."""

from __future__ import annotations

import dataclasses
import gzip
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from splake.config import parse_config
from splake.reports.ledger import LedgerEntry, new_entry, on_report_obtained, on_status
from splake.reports.pipeline import land_document
from splake.reports.planner import Window, WorkUnit
from splake.runners.local import LocalContext
from splake.spapi.download import DownloadInfo

ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
DE = "A1PA6795UKMFR9"
HEADER = "amazon-order-id\tsku\tpurchase-date\tquantity\titem-price\tproduct-name"


class _Offline:
    async def call(self, *a: object, **k: object) -> object:
        raise AssertionError("no API calls while landing a local document")

    async def download(self, url: str, dest: str | Path) -> DownloadInfo:
        raise AssertionError("no downloads")

    async def aclose(self) -> None:
        return None


@pytest.fixture
def ctx(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = parse_config(
        {
            "lake": {"path": str(tmp_path / "lake")},
            "lwa": {"client_id": "x"},
            "sync": {"hold_quarantined_share": 1.0},  # half-bad documents on purpose: land their good rows
            "accounts": [{"id": "eu", "region": "EU", "selling_partner_id": "A1", "marketplaces": ["DE"]}],
        }
    )
    c = LocalContext.open(settings, client=_Offline())
    yield c
    c.state.close()  # type: ignore[attr-defined]


def _entry(rid: str, start: datetime, end: datetime) -> LedgerEntry:
    unit = WorkUnit("eu", ORDERS, (DE,), Window(start, end))
    now = datetime.now(UTC)
    e = on_report_obtained(new_entry(unit), rid, "IN_QUEUE", now, reused=False)
    return on_status(e, rid, "DONE", "DOC-" + rid, now, cooldown=timedelta(minutes=30))


def _doc(tmp: Path, name: str, lines: list[str], header: str = HEADER) -> Path:
    p = tmp / name
    p.write_bytes(gzip.compress(("\n".join([header, *lines]) + "\n").encode("cp1252")))
    return p


def _land(ctx, e: LedgerEntry, path: Path) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    info = DownloadInfo("text/plain", "ISO-8859-1", None, path.stat().st_size)
    ref = ctx.raw.put_document(
        "eu", "reports", e.report_id, path, {"report_type": ORDERS, "report_id": e.report_id}
    )
    return land_document(ctx, e, path, info, "GZIP", ref.key, datetime.now(UTC))


def _rows(ctx, sql: str) -> list[dict]:  # type: ignore[no-untyped-def]
    engine = ctx.query_engine()
    try:
        return engine.sql(sql).to_pylist()
    finally:
        engine.close()


D = lambda n: datetime(2026, 11, n, tzinfo=UTC)  # noqa: E731


def test_quarantine_schema_drift_and_window_replace(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    first = _doc(
        tmp_path,
        "a.gz",
        [
            "303-1\tA\t2026-11-20T10:00:00+00:00\t1\t19,99\tKüchenwaage",
            "303-2\tB\t2026-11-21T10:00:00+00:00\tzwei\t5,00\tTasse",
            "303-3\tC\t2026-11-22T10:00:00+00:00\t2\t7,50\tKanne",
            "303-4\tD",
        ],
    )
    rows, quarantined = _land(ctx, _entry("R1", D(20), D(23)), first)
    assert (rows, quarantined) == (2, 2)
    q = _rows(ctx, "select line_number, raw_line, reason, report_id from orders_by_order_date__quarantine")
    assert sorted(r["raw_line"].split("\t")[0] for r in q) == ["303-2", "303-4"]
    assert all(r["report_id"] == "R1" and r["reason"] for r in q)
    got = _rows(
        ctx, "select amazon_order_id, item_price, product_name, marketplace_id from orders_by_order_date"
    )
    assert {(r["amazon_order_id"], r["item_price"], r["product_name"], r["marketplace_id"]) for r in got} == {
        ("303-1", Decimal("19.99"), "Küchenwaage", DE),
        ("303-3", Decimal("7.5"), "Kanne", DE),
    }
    # an overlapping window [21, 24) with a new column: rows in [21, 24) are replaced, 303-1 (20th) stays
    second = _doc(
        tmp_path,
        "b.gz",
        [
            "303-3\tC\t2026-11-22T10:00:00+00:00\t3\t7,50\tKanne\tX",
            "303-5\tE\t2026-11-23T09:00:00+00:00\t1\t1,00\tLöffel\tY",
        ],
        header=HEADER + "\tamazon-programs",
    )
    rows, quarantined = _land(ctx, _entry("R2", D(21), D(24)), second)
    assert (rows, quarantined) == (2, 0)
    got = _rows(
        ctx,
        "select amazon_order_id, quantity, amazon_programs, report_id from orders_by_order_date order by 1",
    )
    assert [(r["amazon_order_id"], r["quantity"], r["amazon_programs"], r["report_id"]) for r in got] == [
        ("303-1", 1, None, "R1"),
        ("303-3", 3, "X", "R2"),
        ("303-5", 1, "Y", "R2"),
    ]
    # landing the same document again is harmless: same rows, no duplicate keys
    _land(ctx, _entry("R2", D(21), D(24)), second)
    again = _rows(ctx, "select count(*) as n, count(distinct row_key) as k from orders_by_order_date")
    assert again == [{"n": 3, "k": 3}]


def test_provenance_marketplace_and_window_come_from_the_request(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    doc = _doc(tmp_path, "c.gz", ["303-9\tZ\t2026-11-20T10:00:00+00:00\t1\t2,00\tGlas"])
    e = dataclasses.replace(_entry("R9", D(20), D(21)))
    _land(ctx, e, doc)
    (row,) = _rows(
        ctx,
        "select account_id, marketplace_id, report_id, data_start, data_end, source_key "
        "from orders_by_order_date",
    )
    assert row["account_id"] == "eu" and row["marketplace_id"] == DE and row["report_id"] == "R9"
    assert row["data_start"] == D(20) and row["data_end"] == D(21)
    assert row["source_key"].startswith("raw/reports/eu/")
