"""Marts: portable SQL (Trino <-> DuckDB), honest table declarations, correct numbers on small hand-made
tables shaped exactly like the curated tables (schemas from the report type declarations)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pyarrow as pa
import pytest
import sqlglot

from splake.insights.dialect import referenced_tables, roundtrip, to_duckdb
from splake.insights.marts import MARTS, mart
from splake.insights.runner import Filters, MartUnavailableError, chart_data, mart_status, run_mart
from splake.insights.source import DuckDBSource
from splake.lake.tables import PROVENANCE_FIELDS
from splake.reports.typed import table_spec
from splake.reports.types import REPORT_TYPES

SPECS = {s.table: s for s in REPORT_TYPES.values()}


def curated_schema(table: str) -> pa.Schema:
    return pa.schema(list(table_spec(SPECS[table]).schema) + list(PROVENANCE_FIELDS))


def _typed(value: Any, t: pa.DataType) -> Any:
    # money columns are exact decimals: hand-written floats go in as their decimal text
    if pa.types.is_decimal(t) and isinstance(value, float | int):
        return Decimal(str(value))
    return value


def curated(table: str, rows: list[dict[str, Any]]) -> pa.Table:
    schema = curated_schema(table)
    full = [{f.name: _typed(r.get(f.name), f.type) for f in schema} for r in rows]
    return pa.Table.from_pylist(full, schema=schema)


def source(**tables: pa.Table) -> DuckDBSource:
    con = duckdb.connect()
    for name, t in tables.items():
        con.register(name, t)
    return DuckDBSource(con)


def ts(day: str, hour: int = 12) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


@pytest.mark.parametrize("m", MARTS, ids=lambda m: m.name)
def test_mart_sql_is_portable_trino_and_duckdb(m):
    tree = sqlglot.parse_one(m.sql, read="trino")
    assert tree is not None
    duck, back = roundtrip(m.sql)
    # both directions parse again in their own dialect
    sqlglot.parse_one(duck, read="duckdb")
    sqlglot.parse_one(back, read="trino")


@pytest.mark.parametrize("m", MARTS, ids=lambda m: m.name)
def test_required_tables_are_exactly_the_tables_read(m):
    assert referenced_tables(m.sql) == frozenset(m.required_tables)
    assert all(t in SPECS for t in m.required_tables), "every mart reads declared report tables"


@pytest.mark.parametrize("m", MARTS, ids=lambda m: m.name)
def test_mart_runs_on_the_real_curated_schemas(m):
    src = source(**{t: curated(t, []) for t in SPECS})
    out = run_mart(src, m, Filters(start=date(2026, 1, 1), end=date(2026, 12, 31)))
    assert out.num_rows == 0
    cols = set(out.column_names)
    assert {"account_id", "marketplace_id"} <= cols
    if m.date_column:
        assert m.date_column in cols
    assert {x.column for x in m.measures} <= cols
    for r in m.ratios:
        assert {r.numerator, r.denominator} <= cols


def test_unavailable_when_a_table_is_missing():
    src = source(orders_by_last_update=curated("orders_by_last_update", []))
    status = {s.name: s for s in mart_status(MARTS, src.table_names())}
    assert status["daily_sales"].available
    assert not status["inventory_health"].available
    assert status["inventory_health"].missing_tables == ("fba_myi_inventory",)
    with pytest.raises(MartUnavailableError) as exc:
        run_mart(src, mart("settlement_fees"))
    assert "settlements" in str(exc.value)


def _order(acct, mkt, oid, sku, qty, price, day, status="Shipped", currency="USD", hour=12):
    return {
        "account_id": acct,
        "marketplace_id": mkt,
        "amazon_order_id": oid,
        "sku": sku,
        "asin": "B0" + sku,
        "quantity": qty,
        "item_price": price,
        "currency": currency,
        "order_status": status,
        "item_status": "Unshipped",
        "purchase_date": ts(day, hour),
    }


ORDERS = [
    _order("seller-na", "ATVPDKIKX0DER", "111-1", "SKU1", 2, 20.0, "2026-10-01"),
    _order("seller-na", "ATVPDKIKX0DER", "111-2", "SKU1", 1, 10.0, "2026-10-01", hour=23),
    _order("seller-na", "ATVPDKIKX0DER", "111-3", "SKU2", 5, 50.5, "2026-10-02", hour=0),
    _order("seller-na", "ATVPDKIKX0DER", "111-4", "SKU2", 7, 70.0, "2026-10-02", status="Cancelled"),
    _order("seller-na", "A2EUQ1WTGCTBG2", "111-5", "SKU1", 3, 45.0, "2026-10-02", currency="CAD"),
    _order("seller-eu", "A1PA6795UKMFR9", "222-1", "SKU9", 4, 40.0, "2026-10-03", currency="EUR"),
]


def test_daily_sales_totals_and_filters():
    src = source(orders_by_last_update=curated("orders_by_last_update", ORDERS))
    m = mart("daily_sales")
    out = run_mart(src, m)
    sold = [o for o in ORDERS if o["order_status"] != "Cancelled"]
    assert sum(out.column("units").to_pylist()) == sum(o["quantity"] for o in sold)
    data = chart_data(m, out)
    # money is never added across currencies
    assert data.totals["sales|USD"] == pytest.approx(80.5)
    assert data.totals["sales|CAD"] == pytest.approx(45.0)
    assert data.totals["sales|EUR"] == pytest.approx(40.0)
    assert data.totals["units"] == 15  # units are not money: summed across currencies
    assert {d["label"] for d in data.datasets} == {
        "Units ordered",
        "Item sales (CAD)",
        "Item sales (EUR)",
        "Item sales (USD)",
    }
    assert data.labels == ["2026-10-01", "2026-10-02", "2026-10-03"]
    # UTC calendar day: 23:00 on Oct 1 stays on Oct 1, 00:00 on Oct 2 is Oct 2
    by_day = {(r["day"], r["sku"], r["marketplace_id"]): r["units"] for r in out.to_pylist()}
    assert by_day[(date(2026, 10, 1), "SKU1", "ATVPDKIKX0DER")] == 3
    assert by_day[(date(2026, 10, 2), "SKU2", "ATVPDKIKX0DER")] == 5

    only_us = run_mart(src, m, Filters(marketplaces=("ATVPDKIKX0DER",)))
    assert sum(only_us.column("units").to_pylist()) == 8
    eu = run_mart(src, m, Filters(accounts=("seller-eu",)))
    assert eu.column("units").to_pylist() == [4]
    one_day = run_mart(src, m, Filters(start=date(2026, 10, 2), end=date(2026, 10, 2)))
    assert sum(one_day.column("units").to_pylist()) == 8  # 5 (US) + 3 (CA)


def test_filters_reject_injection():
    from splake.errors import BadDataError

    with pytest.raises(BadDataError):
        Filters(accounts=("x' OR '1'='1",)).validate()
    with pytest.raises(BadDataError):
        Filters(accounts=("seller-na\n",)).validate()
    with pytest.raises(BadDataError):
        Filters.parse({"marketplace": "ATVPDKIKX0DER;drop table t"})
    with pytest.raises(BadDataError):
        Filters.parse({"start": "2026-13-01"})
    f = Filters.parse({"account": "seller-na,seller-eu", "start": "2026-10-01"})
    assert f.accounts == ("seller-na", "seller-eu") and f.start == date(2026, 10, 1)


def test_inventory_health_days_of_cover_and_stranded():
    orders = [
        # the 30 days ending at the latest order day (Oct 30) are Oct 1..30: Sep 30 is outside
        _order("seller-na", "ATVPDKIKX0DER", "o1", "SKU1", 100, 1.0, "2026-09-30"),
        _order("seller-na", "ATVPDKIKX0DER", "o2", "SKU1", 10, 1.0, "2026-10-01"),
        _order("seller-na", "ATVPDKIKX0DER", "o3", "SKU1", 5, 1.0, "2026-10-30"),
    ]
    inv = [
        {
            "account_id": "seller-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "sku": "SKU1",
            "asin": "B0SKU1",
            "afn_listing_exists": True,
            "afn_fulfillable_quantity": 45,
            "afn_inbound_working_quantity": 1,
            "afn_inbound_shipped_quantity": 2,
            "afn_inbound_receiving_quantity": 3,
            "afn_reserved_quantity": 4,
            "afn_unsellable_quantity": 5,
        },
        {
            "account_id": "seller-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "sku": "SKU-ORPHAN",
            "afn_listing_exists": False,
            "afn_fulfillable_quantity": 7,
        },
    ]
    src = source(
        orders_by_last_update=curated("orders_by_last_update", orders),
        fba_myi_inventory=curated("fba_myi_inventory", inv),
    )
    m = mart("inventory_health")
    rows = {r["sku"]: r for r in run_mart(src, m).to_pylist()}
    assert rows["SKU1"]["units_30d"] == 15
    assert rows["SKU1"]["inbound"] == 6
    assert rows["SKU1"]["days_of_cover"] == pytest.approx(45 * 30 / 15)
    assert rows["SKU1"]["stranded"] == 0
    assert rows["SKU-ORPHAN"]["stranded"] == 7
    assert rows["SKU-ORPHAN"]["days_of_cover"] is None  # no sales: no cover figure, not a crash
    data = chart_data(m, run_mart(src, m))
    assert data.totals["on_hand"] == 52
    assert data.ratios["days_of_cover"] == pytest.approx(52 * 30 / 15)


def test_sessions_conversion_from_sales_and_traffic():
    st = [
        {
            "account_id": "seller-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "section": "by_date",
            "date": date(2026, 10, 1),
            "traffic_by_date_sessions": 200,
            "traffic_by_date_page_views": 300,
            "sales_by_date_units_ordered": 10,
            "sales_by_date_total_order_items": 8,
        },
        {
            "account_id": "seller-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "section": "by_date",
            "date": date(2026, 10, 2),
            "traffic_by_date_sessions": 100,
            "traffic_by_date_page_views": 150,
            "sales_by_date_units_ordered": 20,
            "sales_by_date_total_order_items": 12,
        },
        # by-ASIN rows must not be double counted in the account-level mart
        {
            "account_id": "seller-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "section": "by_asin",
            "start_date": date(2026, 10, 1),
            "end_date": date(2026, 10, 1),
            "child_asin": "B01",
            "traffic_by_asin_sessions": 200,
            "sales_by_asin_units_ordered": 10,
            "sales_by_asin_ordered_product_sales_amount": 99.0,
            "sales_by_asin_ordered_product_sales_currency_code": "USD",
        },
        # a multi-day by-ASIN row (a document covering 1-3 Oct) belongs to no single day
        {
            "account_id": "seller-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "section": "by_asin",
            "start_date": date(2026, 10, 1),
            "end_date": date(2026, 10, 3),
            "child_asin": "B01",
            "traffic_by_asin_sessions": 500,
            "sales_by_asin_units_ordered": 30,
            "sales_by_asin_ordered_product_sales_amount": 300.0,
            "sales_by_asin_ordered_product_sales_currency_code": "USD",
        },
    ]
    src = source(sales_and_traffic=curated("sales_and_traffic", st))
    m = mart("sessions_conversion")
    data = chart_data(m, run_mart(src, m))
    assert data.totals == {"page_views": 450, "sessions": 300, "units": 30}
    assert data.ratios["conversion"] == pytest.approx(30 / 300)
    asin = chart_data(mart("sales_traffic_by_asin"), run_mart(src, mart("sales_traffic_by_asin")))
    assert asin.totals == {"sales|USD": 99.0, "sessions": 200, "units": 10}


def test_returns_rate_and_settlement_fees():
    orders = [_order("seller-na", "ATVPDKIKX0DER", "o1", "SKU1", 10, 1.0, "2026-10-01")]
    returns = [
        {
            "account_id": "seller-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "return_date": ts("2026-10-05"),
            "order_id": "o1",
            "sku": "SKU1",
            "quantity": 2,
        }
    ]
    src = source(
        orders_by_last_update=curated("orders_by_last_update", orders),
        fba_customer_returns=curated("fba_customer_returns", returns),
    )
    m = mart("returns_rate")
    data = chart_data(m, run_mart(src, m))
    assert data.totals == {"units_ordered": 10, "units_returned": 2}
    assert data.ratios["returns_rate"] == pytest.approx(0.2)
    assert data.labels == ["2026-10-01", "2026-10-05"]

    def line(amount_type, desc, amount):
        return {
            "account_id": "seller-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "settlement_id": "S1",
            "posted_date": date(2026, 10, 3),
            "currency": None,  # as in V2 flat files: only the summary line has the currency
            "transaction_type": "Order",
            "amount_type": amount_type,
            "amount_description": desc,
            "amount": amount,
        }

    summary = {**line(None, None, None), "settlement_id": "S1", "currency": "USD", "posted_date": None}
    summary_cad = {**line(None, None, None), "settlement_id": "S2", "currency": "CAD", "posted_date": None}
    lines = [
        summary,
        summary_cad,
        line("ItemPrice", "Principal", 100.0),
        line("ItemFees", "Commission", -15.0),
        line("ItemFees", "Commission", -1.5),
        line("ItemFees", "FBAPerUnitFulfillmentFee", -3.25),
        line("other-transaction", "Storage Fee", -9.0),
        {**line("ItemFees", "Commission", -2.0), "settlement_id": "S2"},
    ]
    fees = mart("settlement_fees")
    data = chart_data(fees, run_mart(source(settlements=curated("settlements", lines)), fees))
    assert data.totals["amount|USD"] == pytest.approx(-28.75)
    assert data.totals["amount|CAD"] == pytest.approx(-2.0)
    assert data.labels[0] == "Commission"  # largest absolute fee first
    assert "Principal" not in data.labels


def test_vendor_sales_vs_inventory_last_day_stock():
    def s(day, asin, ordered, shipped):
        return {
            "account_id": "vendor-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "section": "by_asin",
            "start_date": day,
            "asin": asin,
            "ordered_units": ordered,
            "shipped_units": shipped,
            "ordered_revenue_amount": ordered * 10.0,
            "ordered_revenue_currency_code": "USD",
        }

    def i(day, asin, on_hand):
        return {
            "account_id": "vendor-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "section": "by_asin",
            "start_date": day,
            "asin": asin,
            "sellable_on_hand_inventory_units": on_hand,
        }

    d1, d2 = date(2026, 10, 1), date(2026, 10, 2)
    sales = [s(d1, "A", 3, 2), s(d2, "A", 4, 4), s(d2, "B", 1, 0)]
    sales.append({**s(d1, "A", 99, 99), "section": "aggregate"})  # aggregate section not double counted
    inv = [i(d1, "A", 50), i(d2, "A", 46), i(d2, "B", 10)]
    src = source(
        vendor_sales=curated("vendor_sales", sales), vendor_inventory=curated("vendor_inventory", inv)
    )
    m = mart("vendor_sales_inventory")
    data = chart_data(m, run_mart(src, m))
    assert data.totals["ordered_units"] == 8
    assert data.totals["shipped_units"] == 6
    assert data.totals["sellable_on_hand_units"] == 56  # stock on the last day, not a sum over days


def test_transpile_rejects_garbage():
    from splake.errors import BadDataError

    with pytest.raises(BadDataError):
        to_duckdb("SELECT FROM WHERE (")


def test_marts_as_duckdb_views_and_athena_ddl():
    from splake.insights.dialect import view_ddl

    con = duckdb.connect()
    con.register("orders_by_last_update", curated("orders_by_last_update", ORDERS))
    con.execute(view_ddl("daily_sales", mart("daily_sales").sql, dialect="duckdb"))
    got = con.execute("select sum(units) from daily_sales where marketplace_id = 'ATVPDKIKX0DER'").fetchone()
    assert got == (8,)
    athena = view_ddl("daily_sales", mart("daily_sales").sql, schema="splake_curated")
    assert athena.startswith('CREATE OR REPLACE VIEW "splake_curated"."daily_sales" AS')
    assert sqlglot.parse_one(athena, read="trino") is not None


def test_orders_vs_sales_traffic_full_outer_join():
    orders = [
        _order("seller-na", "ATVPDKIKX0DER", "o1", "SKU1", 2, 1.0, "2026-10-01"),  # asin B0SKU1
        _order("seller-na", "ATVPDKIKX0DER", "o2", "SKU2", 1, 1.0, "2026-10-02"),  # only in orders
    ]
    st = [
        {
            "account_id": "seller-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "section": "by_asin",
            "start_date": date(2026, 10, 1),
            "end_date": date(2026, 10, 1),
            "child_asin": "B0SKU1",
            "sales_by_asin_units_ordered": 3,
        },
        {
            "account_id": "seller-na",
            "marketplace_id": "ATVPDKIKX0DER",
            "section": "by_asin",
            "start_date": date(2026, 10, 3),
            "end_date": date(2026, 10, 3),
            "child_asin": "B0SKU9",
            "sales_by_asin_units_ordered": 4,
        },
    ]
    src = source(
        orders_by_last_update=curated("orders_by_last_update", orders),
        sales_and_traffic=curated("sales_and_traffic", st),
    )
    m = mart("orders_vs_sales_traffic")
    rows = {
        (r["day"], r["asin"]): (r["units_orders"], r["units_sales_traffic"])
        for r in run_mart(src, m).to_pylist()
    }
    assert rows == {
        (date(2026, 10, 1), "B0SKU1"): (2, 3),
        (date(2026, 10, 2), "B0SKU2"): (1, 0),
        (date(2026, 10, 3), "B0SKU9"): (0, 4),
    }
    assert chart_data(m, run_mart(src, m)).ratios["coverage"] == pytest.approx(3 / 7)
