"""Curated lake on a real pyiceberg SqlCatalog (tmp dir): replace modes, dedup, evolution, quarantine,
nested types, atomicity, and the DuckDB view of live rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from splake.errors import BadDataError
from splake.lake.iceberg import CuratedLake
from splake.lake.query import QueryEngine
from splake.lake.tables import BadRow, Provenance, ReplaceScope, TableSpec

US, CA, DE = "ATVPDKIKX0DER", "A2EUQ1WTGCTBG2", "A1PA6795UKMFR9"
ORDERS = TableSpec(
    "orders",
    pa.schema(
        [
            ("order_id", pa.string()),
            ("sku", pa.string()),
            ("qty", pa.int64()),
            ("version", pa.string()),
            ("purchase_date", pa.timestamp("ns", tz="UTC")),
        ]
    ),
    key_columns=("order_id", "sku"),
    replace="window",
    window_column="purchase_date",
)


def day(n: int) -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n - 1)


def prov(report: str, start: int, end: int, account: str = "acme", market: str | None = US) -> Provenance:
    return Provenance(
        account_id=account,
        report_id=report,
        source_key=f"raw/reports/{account}/{report}",
        ingested_at=datetime(2026, 2, 1, tzinfo=UTC),
        data_start=day(start),
        data_end=day(end),
        marketplace_id=market,
    )


def orders_doc(version: str, days: list[int], per_day: int = 4) -> pa.Table:
    rows = [
        {
            "order_id": f"{d:02d}-{i}",
            "sku": f"SKU-{i % 2}",
            "qty": i + 1,
            "version": version,
            "purchase_date": day(d) + timedelta(hours=i),
        }
        for d in days
        for i in range(per_day)
    ]
    return pa.Table.from_pylist(rows, schema=ORDERS.schema)


def live(engine: QueryEngine, sql: str) -> list[dict[str, object]]:
    return engine.sql(sql).to_pylist()


def assert_no_duplicate_keys(engine: QueryEngine, table: str) -> None:
    [row] = live(engine, f"select count(*) as n, count(distinct row_key) as k from {table}")
    assert row["n"] == row["k"]


def test_overlapping_windows_replace_never_duplicate(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    a = curated_lake.write(ORDERS, orders_doc("A", [1, 2, 3]), prov("A", 1, 4), ReplaceScope())
    assert (a.rows_written, a.rows_deleted) == (12, 0)
    b = curated_lake.write(ORDERS, orders_doc("B", [2, 3, 4, 5]), prov("B", 2, 6), ReplaceScope())
    assert (b.rows_written, b.rows_deleted) == (16, 8)  # A's days 2 and 3
    a2 = curated_lake.write(ORDERS, orders_doc("A", [1, 2, 3]), prov("A", 1, 4), ReplaceScope())
    assert (a2.rows_written, a2.rows_deleted) == (12, 4 + 8)  # A's day 1 + B's days 2, 3
    got = live(
        query_engine,
        "select version, cast(purchase_date as date) as d, count(*) as n from orders group by all order by d",
    )
    assert [(r["version"], r["d"], r["n"]) for r in got] == [
        ("A", date(2026, 1, 1), 4),
        ("A", date(2026, 1, 2), 4),
        ("A", date(2026, 1, 3), 4),
        ("B", date(2026, 1, 4), 4),
        ("B", date(2026, 1, 5), 4),
    ]
    assert_no_duplicate_keys(query_engine, "orders")
    assert curated_lake.table_stats()["orders"] == 20
    # pyiceberg's own scan agrees with the DuckDB view
    assert curated_lake.table("orders").scan().to_arrow().num_rows == 20


def test_rows_outside_the_window_still_replace_by_key(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    # an "orders by last update" document may carry rows purchased before its window
    doc = orders_doc("A", [1, 5])
    for _ in range(3):
        curated_lake.write(ORDERS, doc, prov("A", 5, 6), ReplaceScope())
    [row] = live(query_engine, "select count(*) as n, count(distinct row_key) as k from orders")
    assert row == {"n": 8, "k": 8}


def test_a_key_that_moves_to_a_later_window_replaces_its_old_row(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    """Orders-by-last-update: order 01-0 changes on day 3, so it appears in the day-3 document while its
    old version (last updated day 1) lies outside that window."""
    spec = TableSpec(
        "orders_by_update",
        pa.schema(
            [
                ("order_id", pa.string()),
                ("status", pa.string()),
                ("last_updated", pa.timestamp("us", tz="UTC")),
            ]
        ),
        key_columns=("order_id",),
        replace="window",
        window_column="last_updated",
    )

    def doc(rows: list[tuple[str, str, int]]) -> pa.Table:
        return pa.Table.from_pylist(
            [{"order_id": o, "status": s, "last_updated": day(d) + timedelta(hours=1)} for o, s, d in rows],
            schema=spec.schema,
        )

    curated_lake.write(spec, doc([("01-0", "Pending", 1), ("01-1", "Pending", 1)]), prov("d1", 1, 2))
    curated_lake.write(spec, doc([("02-0", "Pending", 2)]), prov("d2", 2, 3))
    res = curated_lake.write(spec, doc([("01-0", "Shipped", 3), ("03-0", "Pending", 3)]), prov("d3", 3, 4))
    assert res.rows_deleted == 1
    got = live(query_engine, "select order_id, status, report_id from orders_by_update order by order_id")
    assert [(r["order_id"], r["status"], r["report_id"]) for r in got] == [
        ("01-0", "Shipped", "d3"),
        ("01-1", "Pending", "d1"),
        ("02-0", "Pending", "d2"),
        ("03-0", "Pending", "d3"),
    ]
    # re-running the older day-1 document (e.g. windows committed out of order) must not undo the update
    again = curated_lake.write(
        spec, doc([("01-0", "Pending", 1), ("01-1", "Cancelled", 1)]), prov("d1", 1, 2)
    )
    assert (again.rows_written, again.rows_superseded) == (1, 1)
    got = live(query_engine, "select order_id, status from orders_by_update order by order_id")
    assert [(r["order_id"], r["status"]) for r in got] == [
        ("01-0", "Shipped"),
        ("01-1", "Cancelled"),
        ("02-0", "Pending"),
        ("03-0", "Pending"),
    ]
    assert_no_duplicate_keys(query_engine, "orders_by_update")


def test_windows_replace_only_their_account_and_marketplaces(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    curated_lake.write(ORDERS, orders_doc("us", [1, 2]), prov("U", 1, 3, market=US), ReplaceScope())
    curated_lake.write(ORDERS, orders_doc("ca", [1, 2]), prov("C", 1, 3, market=CA), ReplaceScope())
    curated_lake.write(ORDERS, orders_doc("other", [1, 2]), prov("O", 1, 3, account="other"), ReplaceScope())
    res = curated_lake.write(ORDERS, orders_doc("us2", [1]), prov("U2", 1, 3, market=US), ReplaceScope())
    assert res.rows_deleted == 8
    got = live(
        query_engine,
        "select account_id, marketplace_id, version, count(*) n from orders group by all order by all",
    )
    assert [(r["account_id"], r["marketplace_id"], r["version"], r["n"]) for r in got] == [
        ("acme", CA, "ca", 8),
        ("acme", US, "us2", 4),
        ("other", US, "other", 8),
    ]


def test_window_on_a_date_column(curated_lake: CuratedLake, query_engine: QueryEngine) -> None:
    spec = TableSpec(
        "traffic",
        pa.schema([("asin", pa.string()), ("day", pa.date32()), ("sessions", pa.int64())]),
        key_columns=("asin", "day"),
        replace="window",
        window_column="day",
        partition_by=(("account_id", "identity"), ("day", "day")),
    )

    def doc(v: int, days: range) -> pa.Table:
        return pa.Table.from_pylist(
            [{"asin": "B1", "day": date(2026, 1, d), "sessions": v} for d in days], schema=spec.schema
        )

    curated_lake.write(spec, doc(1, range(1, 8)), prov("T1", 1, 8))
    curated_lake.write(spec, doc(2, range(5, 11)), prov("T2", 5, 11))
    got = live(query_engine, "select day, sessions from traffic order by day")
    assert [r["sessions"] for r in got] == [1, 1, 1, 1, 2, 2, 2, 2, 2, 2]


def test_snapshot_mode_replaces_everything_of_account_marketplace(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    spec = TableSpec(
        "listings",
        pa.schema([("sku", pa.string()), ("price", pa.float64())]),
        key_columns=("sku",),
        replace="snapshot",
    )

    def doc(skus: list[str], price: float) -> pa.Table:
        return pa.Table.from_pylist([{"sku": s, "price": price} for s in skus], schema=spec.schema)

    curated_lake.write(spec, doc(["a", "b", "c"], 1.0), prov("L1", 1, 2))
    curated_lake.write(spec, doc(["a", "z"], 9.0), prov("L1de", 1, 2, market=DE))
    curated_lake.write(spec, doc(["a", "b"], 2.0), prov("L2", 2, 3))
    got = live(query_engine, "select marketplace_id m, sku, price from listings order by m, sku")
    assert [(r["m"], r["sku"], r["price"]) for r in got] == [
        (DE, "a", 9.0),
        (DE, "z", 9.0),
        (US, "a", 2.0),
        (US, "b", 2.0),
    ]
    # an empty snapshot means the account has no listings there any more
    res = curated_lake.write(spec, doc([], 0.0), prov("L3", 3, 4))
    assert res.rows_written == 0 and res.rows_deleted == 2
    assert [r["m"] for r in live(query_engine, "select distinct marketplace_id m from listings")] == [DE]


def test_key_mode_upserts_by_row_key(curated_lake: CuratedLake, query_engine: QueryEngine) -> None:
    spec = TableSpec(
        "catalog_items",
        pa.schema([("asin", pa.string()), ("title", pa.string())]),
        key_columns=("asin",),
        replace="key",
    )
    first = pa.Table.from_pylist([{"asin": f"B{i}", "title": "old"} for i in range(5)], schema=spec.schema)
    second = pa.Table.from_pylist(
        [{"asin": "B1", "title": "new"}, {"asin": "B9", "title": "new"}], schema=spec.schema
    )
    curated_lake.write(spec, first, prov("c1", 1, 2))
    res = curated_lake.write(spec, second, prov("c2", 2, 3))
    assert res.rows_deleted == 1
    got = {r["asin"]: r["title"] for r in live(query_engine, "select asin, title from catalog_items")}
    assert got == {"B0": "old", "B1": "new", "B2": "old", "B3": "old", "B4": "old", "B9": "new"}
    assert_no_duplicate_keys(query_engine, "catalog_items")


def test_schema_evolves_when_a_new_column_appears(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    curated_lake.write(ORDERS, orders_doc("A", [1]), prov("A", 1, 2))
    newer = orders_doc("B", [2]).append_column("is_business_order", pa.array([True, False, True, False]))
    res = curated_lake.write(ORDERS, newer, prov("B", 2, 3))
    assert res.columns_added == ("is_business_order",)
    got = live(query_engine, "select version, is_business_order b from orders order by version, order_id")
    assert [(r["version"], r["b"]) for r in got] == [("A", None)] * 4 + [
        ("B", True),
        ("B", False),
        ("B", True),
        ("B", False),
    ]
    # a later document without the column still lands (stored as null)
    curated_lake.write(ORDERS, orders_doc("C", [3]), prov("C", 3, 4))
    [row] = live(query_engine, "select count(*) n, count(is_business_order) nb from orders")
    assert row == {"n": 12, "nb": 4}


def test_quarantine_keeps_bad_lines_with_provenance(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    bad = [BadRow(3, "111\tA\tnot-a-number", "qty: invalid int"), BadRow(9, "short", "2 of 5 columns")]
    assert curated_lake.quarantine("orders", bad, prov("A", 1, 2)) == 2
    # re-ingesting the same document replaces its quarantine entries instead of adding more
    assert curated_lake.quarantine("orders", bad[:1], prov("A", 1, 2)) == 1
    assert curated_lake.quarantine("orders", bad, prov("B", 1, 2)) == 2
    got = live(
        query_engine,
        "select report_id, line_number, raw_line, reason, source_key from orders__quarantine order by all",
    )
    assert got == [
        {
            "report_id": "A",
            "line_number": 3,
            "raw_line": "111\tA\tnot-a-number",
            "reason": "qty: invalid int",
            "source_key": "raw/reports/acme/A",
        },
        {
            "report_id": "B",
            "line_number": 3,
            "raw_line": "111\tA\tnot-a-number",
            "reason": "qty: invalid int",
            "source_key": "raw/reports/acme/B",
        },
        {
            "report_id": "B",
            "line_number": 9,
            "raw_line": "short",
            "reason": "2 of 5 columns",
            "source_key": "raw/reports/acme/B",
        },
    ]
    assert curated_lake.table_stats()["orders__quarantine"] == 3
    [info] = [i for i in curated_lake.table_info() if i.name == "orders__quarantine"]
    assert (info.rows, info.last_report_id, info.last_account_id) == (3, "B", "acme")
    assert info.last_commit is not None and "raw_line" in info.columns


def test_nested_struct_and_list_columns_are_queryable(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    spec = TableSpec(
        "catalog",
        pa.schema(
            [
                ("asin", pa.string()),
                ("summary", pa.struct([("brand", pa.string()), ("size", pa.int32())])),
                ("images", pa.list_(pa.struct([("url", pa.string()), ("height", pa.int64())]))),
                ("attributes", pa.map_(pa.string(), pa.string())),
            ]
        ),
        key_columns=("asin",),
        replace="key",
    )
    rows = [
        {
            "asin": "B1",
            "summary": {"brand": "Acme", "size": 3},
            "images": [{"url": "u1", "height": 10}, {"url": "u2", "height": 20}],
            "attributes": [("color", "red")],
        },
        {"asin": "B2", "summary": None, "images": [], "attributes": []},
    ]
    curated_lake.write(spec, pa.Table.from_pylist(rows, schema=spec.schema), prov("c", 1, 2))
    got = live(
        query_engine,
        "select asin, summary.brand as brand, len(images) n, images[2].url u2, attributes['color'] c "
        "from catalog order by asin",
    )
    assert got == [
        {"asin": "B1", "brand": "Acme", "n": 2, "u2": "u2", "c": "red"},
        {"asin": "B2", "brand": None, "n": 0, "u2": None, "c": None},
    ]
    heights = live(query_engine, "select sum(i.height) h from (select unnest(images) i from catalog)")
    assert heights == [{"h": 30}]


def test_a_failing_stream_commits_nothing(
    curated_lake: CuratedLake, query_engine: QueryEngine, lake_dir: Path
) -> None:
    curated_lake.write(ORDERS, orders_doc("A", [1, 2]), prov("A", 1, 3))
    before_files = sorted(lake_dir.rglob("*.parquet"))

    def broken() -> Iterator[pa.RecordBatch]:
        yield from orders_doc("B", [1]).to_batches()
        yield from orders_doc("B", [2]).to_batches()
        raise BadDataError("decoder failed at line 9")

    with pytest.raises(BadDataError):
        curated_lake.write(ORDERS, broken(), prov("B", 1, 3))
    got = live(query_engine, "select version, count(*) n from orders group by all")
    assert got == [{"version": "A", "n": 8}]
    assert sorted(lake_dir.rglob("*.parquet")) == before_files  # the staged files were removed


def test_query_engine_sees_only_live_rows(
    curated_lake: CuratedLake, query_engine: QueryEngine, lake_dir: Path
) -> None:
    for v in range(4):
        curated_lake.write(ORDERS, orders_doc(f"v{v}", [1, 2, 3]), prov(f"R{v}", 1, 4))
        [row] = live(query_engine, "select count(*) n, min(version) lo, max(version) hi from orders")
        assert row == {"n": 12, "lo": f"v{v}", "hi": f"v{v}"}
    files = [str(p) for p in lake_dir.rglob("*.parquet")]
    [(on_disk,)] = duckdb.sql(f"select count(*) from read_parquet({files!r})").fetchall()
    assert on_disk > 12  # replaced files are still on disk...
    assert live(query_engine, "select count(*) n from orders") == [{"n": 12}]  # ...but not visible


def test_query_engine_names_available_tables(curated_lake: CuratedLake, query_engine: QueryEngine) -> None:
    with pytest.raises(BadDataError) as exc:
        query_engine.sql("select * from orders")
    assert "none yet" in (exc.value.hint or "")
    curated_lake.write(ORDERS, orders_doc("A", [1]), prov("A", 1, 2))
    with pytest.raises(BadDataError) as exc:
        query_engine.sql("select * from ordrs")
    assert "ordrs" in str(exc.value) and "orders" in (exc.value.hint or "")
    with pytest.raises(BadDataError) as exc:
        query_engine.sql("select no_such_column from orders")
    assert "no_such_column" in str(exc.value) and "DESCRIBE" in (exc.value.hint or "")
    assert query_engine.tables() == ["orders"]


def test_window_mode_requires_a_window(curated_lake: CuratedLake) -> None:
    p = Provenance(account_id="a", report_id="r", source_key="k", ingested_at=day(1), marketplace_id=US)
    with pytest.raises(BadDataError) as exc:
        curated_lake.write(ORDERS, orders_doc("A", [1]), p)
    assert "window" in str(exc.value)


def test_nested_fields_evolve_instead_of_being_dropped(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    v1 = pa.schema([("asin", pa.string()), ("summary", pa.struct([("brand", pa.string())]))])
    v2 = pa.schema(
        [("asin", pa.string()), ("summary", pa.struct([("brand", pa.string()), ("color", pa.string())]))]
    )
    spec = TableSpec("catalog", v1, key_columns=("asin", "summary"), replace="key")
    curated_lake.write(
        spec, pa.Table.from_pylist([{"asin": "B1", "summary": {"brand": "x"}}], schema=v1), prov("1", 1, 2)
    )
    res = curated_lake.write(
        spec,
        pa.Table.from_pylist([{"asin": "B2", "summary": {"brand": "y", "color": "red"}}], schema=v2),
        prov("2", 1, 2),
    )
    assert res.columns_added == ("summary",)
    # the first document again: its (null-extended) struct key still matches, so no duplicate
    curated_lake.write(
        spec, pa.Table.from_pylist([{"asin": "B1", "summary": {"brand": "x"}}], schema=v1), prov("1", 1, 2)
    )
    got = live(query_engine, "select asin, summary.color as color from catalog order by asin")
    assert got == [{"asin": "B1", "color": None}, {"asin": "B2", "color": "red"}]


def test_incompatible_type_change_is_a_clear_error(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    curated_lake.write(ORDERS, orders_doc("A", [1]), prov("A", 1, 2))
    bad = orders_doc("B", [1]).set_column(2, "qty", pa.array(["1", "two", "3", "4"]))
    with pytest.raises(BadDataError) as exc:
        curated_lake.write(ORDERS, bad, prov("B", 1, 2))
    assert "qty" in str(exc.value)
    assert live(query_engine, "select distinct version from orders") == [{"version": "A"}]


def test_expire_snapshots_deletes_only_replaced_files(
    curated_lake: CuratedLake, query_engine: QueryEngine, lake_dir: Path
) -> None:
    for v in range(4):
        curated_lake.write(ORDERS, orders_doc(f"v{v}", [1, 2, 3]), prov(f"R{v}", 1, 4))
    curated_lake.quarantine("orders", [BadRow(1, "x", "bad")], prov("R3", 1, 4))
    tbl = curated_lake.table("orders")
    live_files = {Path(t.file.file_path.removeprefix("file://")) for t in tbl.scan().plan_files()}
    on_disk = set(lake_dir.rglob("orders/data/**/*.parquet"))
    assert live_files < on_disk  # replaced files are still there

    removed = curated_lake.expire_snapshots(datetime.now(UTC) + timedelta(seconds=1), retain_last=1)
    assert removed["orders"] >= len(on_disk - live_files)
    assert set(lake_dir.rglob("orders/data/**/*.parquet")) == live_files
    assert len(curated_lake.table("orders").metadata.snapshots) == 1
    # the live data is untouched, and the lake keeps working afterwards
    assert live(query_engine, "select count(*) n, min(version) v from orders") == [{"n": 12, "v": "v3"}]
    curated_lake.write(ORDERS, orders_doc("v4", [3]), prov("R4", 3, 4))
    assert live(query_engine, "select version, count(*) n from orders group by all order by all") == [
        {"version": "v3", "n": 8},
        {"version": "v4", "n": 4},
    ]
    assert curated_lake.expire_snapshots(datetime(2000, 1, 1, tzinfo=UTC)) == {
        "orders": 0,
        "orders__quarantine": 0,
    }


def test_a_column_first_seen_mid_stream_is_kept(curated_lake: CuratedLake, query_engine: QueryEngine) -> None:
    def stream() -> Iterator[pa.RecordBatch]:
        yield from orders_doc("A", [1]).to_batches()
        later = orders_doc("A", [2]).append_column("promo", pa.array(["x", None, "y", None]))
        yield from later.to_batches()
        yield from orders_doc("A", [3]).to_batches()

    res = curated_lake.write(ORDERS, stream(), prov("A", 1, 4))
    assert res.rows_written == 12 and res.columns_added == ("promo",)
    got = live(
        query_engine,
        "select cast(purchase_date as date) d, count(promo) n from orders group by all order by d",
    )
    assert [r["n"] for r in got] == [0, 2, 0]


def test_compact_merges_small_files_without_changing_rows(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    for d in range(1, 11):  # ten daily documents: ten files in the January partition
        curated_lake.write(ORDERS, orders_doc(f"d{d}", [d]), prov(f"R{d}", d, d + 1))
    query = "select order_id, sku, version, row_key from orders order by row_key"
    before = live(query_engine, query)
    files_before = len(list(curated_lake.table("orders").scan().plan_files()))
    assert files_before >= 10
    assert curated_lake.compact("orders", min_files=4) == files_before
    assert len(list(curated_lake.table("orders").scan().plan_files())) == 1
    assert live(query_engine, query) == before
    assert curated_lake.compact("orders", min_files=4) == 0  # nothing left to do
    # writes keep working on the compacted table
    curated_lake.write(ORDERS, orders_doc("again", [3]), prov("R3b", 3, 4))
    assert live(query_engine, "select count(*) n, count(distinct row_key) k from orders") == [
        {"n": 40, "k": 40}
    ]


def test_window_on_a_timestamp_without_time_zone(
    curated_lake: CuratedLake, query_engine: QueryEngine
) -> None:
    spec = TableSpec(
        "events",
        pa.schema([("event_id", pa.string()), ("at", pa.timestamp("ms"))]),
        key_columns=("event_id",),
        replace="window",
        window_column="at",
    )

    def doc(ids: list[str], d: int) -> pa.Table:
        return pa.Table.from_pylist(
            [{"event_id": i, "at": datetime(2026, 1, d, 12)} for i in ids], schema=spec.schema
        )

    curated_lake.write(spec, doc(["a", "b"], 1), prov("e1", 1, 2))
    curated_lake.write(spec, doc(["c"], 1), prov("e2", 1, 2))  # same window: replaces a and b
    curated_lake.write(spec, doc(["c", "d"], 2), prov("e3", 2, 3))  # c moved to day 2
    got = live(query_engine, 'select event_id, cast("at" as date) d from events order by event_id')
    assert [(r["event_id"], r["d"].day) for r in got] == [("c", 2), ("d", 2)]
