"""Current report layouts landed into the real lake (SqlCatalog + Iceberg on disk): typed money / counts /
flags, layout drift recorded per report type, existing tables of an older declaration keep working
(stored types kept; the Sales & Traffic period migration rewrites old rows without duplicates), and the
older settlement layout (V1) from real files lands every row."""

from __future__ import annotations

import csv
import dataclasses
import gzip
import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from splake.config import parse_config
from splake.lake.tables import Provenance, ReplaceScope, TableSpec
from splake.reports import drift
from splake.reports.ledger import LedgerEntry, new_entry, on_report_obtained, on_status
from splake.reports.pipeline import land_document
from splake.reports.planner import Window, WorkUnit
from splake.reports.typed import table_spec
from splake.reports.types import REPORT_TYPES
from splake.runners.local import LocalContext
from splake.spapi.download import DownloadInfo

ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
ST = "GET_SALES_AND_TRAFFIC_REPORT"
V1 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE"
US, DE, JP = "ATVPDKIKX0DER", "A1PA6795UKMFR9", "A1VC38T7YXB528"
REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real-reports"


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
            "accounts": [{"id": "na", "region": "NA", "selling_partner_id": "A1", "marketplaces": ["US"]}],
        }
    )
    c = LocalContext.open(settings, client=_Offline())
    yield c
    c.state.close()  # type: ignore[attr-defined]


def _entry(
    rtype: str, rid: str, mid: str, start: datetime | None, end: datetime, kind: str = "request"
) -> LedgerEntry:
    unit = WorkUnit("na", rtype, (mid,), Window(start, end), kind=kind)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    e = on_report_obtained(new_entry(unit), rid, "IN_QUEUE", now, reused=False)
    return on_status(e, rid, "DONE", "DOC-" + rid, now, cooldown=timedelta(minutes=30))


def _land(ctx: Any, e: LedgerEntry, body: bytes, charset: str | None = "UTF-8") -> tuple[int, int]:
    path = ctx.work_dir / f"{e.report_id}.gz"
    path.write_bytes(gzip.compress(body))
    info = DownloadInfo("text/plain", charset, None, path.stat().st_size)
    ref = ctx.raw.put_document("na", "reports", e.report_id, path, {"report_id": e.report_id})
    return land_document(ctx, e, path, info, "GZIP", ref.key, datetime.now(UTC))


def _sql(ctx: Any, sql: str) -> list[dict[str, Any]]:
    engine = ctx.query_engine()
    try:
        return engine.sql(sql).to_pylist()
    finally:
        engine.close()


def _tsv(header: list[str], rows: list[list[str]], newline: str = "\n") -> bytes:
    return newline.join("\t".join(r) for r in [header, *rows]).encode() + newline.encode()


D = lambda n: datetime(2026, 11, n, tzinfo=UTC)  # noqa: E731

# a current order header (a marketplace's subset of the declared layout) plus a column no one declared
ORDER_HEADER = [
    "amazon-order-id",
    "purchase-date",
    "last-updated-date",
    "sku",
    "number-of-items",
    "quantity",
    "currency",
    "item-price",
    "vat-exclusive-item-price",
    "is-business-order",
    "is-iba",
    "is-heavy-or-bulky",
    "ship-promotion-id",
    "customized-url",
    "brand-new-flag",
]


def test_current_order_layout_is_typed_and_drift_is_recorded(ctx: Any) -> None:
    rows = [
        ["111-1", "2026-11-20T10:00:00+00:00", "2026-11-20T11:00:00+00:00", "A", "2", "2", "USD", "19.99",
         "16.66", "true", "false", "false", "", "", "x"],
        ["111-2", "2026-11-20T12:00:00+00:00", "2026-11-20T12:30:00+00:00", "B", "1", "1", "USD", "0.10",
         "", "false", "true", "true", "PROMO-1", "https://c/1", ""],
    ]  # fmt: skip
    landed, quarantined = _land(ctx, _entry(ORDERS, "R1", US, D(20), D(21)), _tsv(ORDER_HEADER, rows))
    assert (landed, quarantined) == (2, 0)
    got = _sql(
        ctx,
        "select amazon_order_id, item_price, vat_exclusive_item_price, number_of_items, is_iba, "
        "is_heavy_or_bulky, is_business_order, ship_promotion_id, ship_city, brand_new_flag "
        "from orders_by_last_update order by 1",
    )
    assert got == [
        {"amazon_order_id": "111-1", "item_price": Decimal("19.99"),
         "vat_exclusive_item_price": Decimal("16.66"), "number_of_items": 2, "is_iba": False,
         "is_heavy_or_bulky": False, "is_business_order": True,
         "ship_promotion_id": "", "ship_city": None, "brand_new_flag": "x"},
        {"amazon_order_id": "111-2", "item_price": Decimal("0.10"), "vat_exclusive_item_price": None,
         "number_of_items": 1, "is_iba": True, "is_heavy_or_bulky": True, "is_business_order": False,
         "ship_promotion_id": "PROMO-1", "ship_city": None, "brand_new_flag": ""},
    ]  # fmt: skip
    schema = ctx.lake.table("orders_by_last_update").schema().as_arrow()
    assert pa.types.is_decimal(schema.field("item_price").type)  # money exact, never float
    assert schema.field("number_of_items").type == pa.int64()
    assert schema.field("is_iba").type == pa.bool_()

    report = {(d.kind, d.column): d for d in drift.drift_report(ctx.state, [ORDERS])}
    assert ("undeclared", "brand-new-flag") in report
    assert report[("undeclared", "brand-new-flag")].marketplaces == (US,)
    declared = [c.source for c in REPORT_TYPES[ORDERS].columns]
    expected_absent = {c for c in declared if c not in ORDER_HEADER}
    assert {c for k, c in report if k == "absent"} == expected_absent
    first = report[("absent", "ship-city")].first_seen

    # a later document that has ship-city clears that difference; the others keep their "since"
    header2 = [*ORDER_HEADER[:-1], "ship-city"]
    rows2 = [[*rows[0][:-1], "Seattle"]]
    _land(ctx, _entry(ORDERS, "R2", US, D(21), D(22)), _tsv(header2, rows2))
    report2 = {(d.kind, d.column): d for d in drift.drift_report(ctx.state, [ORDERS])}
    assert ("absent", "ship-city") not in report2
    assert ("undeclared", "brand-new-flag") not in report2
    assert report2[("absent", "url")].first_seen == first
    assert report2[("absent", "url")].documents == 2


def _old_orders_spec() -> TableSpec:
    """The order table as the previous declaration created it: money as float64, no current columns."""
    current = table_spec(REPORT_TYPES[ORDERS])
    old_cols = {
        "amazon_order_id", "purchase_date", "last_updated_date", "sku", "quantity", "currency", "item_price",
        "item_tax", "is_business_order",
    }  # fmt: skip
    fields = [
        pa.field(f.name, pa.float64() if pa.types.is_decimal(f.type) else f.type)
        for f in current.schema
        if f.name in old_cols
    ]
    return dataclasses.replace(current, schema=pa.schema(fields))


def test_an_existing_float_money_table_keeps_working(ctx: Any) -> None:
    old = _old_orders_spec()
    prov = Provenance("na", "R0", "raw/old", datetime.now(UTC), marketplace_id=US, marketplace_ids=(US,))
    first = pa.table(
        {
            "amazon_order_id": ["111-0"],
            "purchase_date": pa.array([D(19)], pa.timestamp("us", tz="UTC")),
            "last_updated_date": pa.array([D(19)], pa.timestamp("us", tz="UTC")),
            "sku": ["Z"],
            "quantity": pa.array([1], pa.int64()),
            "item_price": pa.array([5.5]),
        }
    )
    ctx.lake.write(old, first, prov, ReplaceScope())
    rows = [["111-1", "2026-11-20T10:00:00+00:00", "2026-11-20T11:00:00+00:00", "A", "2", "2", "USD", "19.99",
             "16.66", "true", "false", "false", "", "", ""]]  # fmt: skip
    assert _land(ctx, _entry(ORDERS, "R1", US, D(20), D(21)), _tsv(ORDER_HEADER, rows)) == (1, 0)
    schema = ctx.lake.table("orders_by_last_update").schema().as_arrow()
    assert schema.field("item_price").type == pa.float64()  # the stored type is kept: no rewrite, no error
    assert pa.types.is_decimal(schema.field("vat_exclusive_item_price").type)  # a new column: declared type
    assert schema.field("number_of_items").type == pa.int64()
    got = _sql(
        ctx, "select amazon_order_id, item_price, number_of_items from orders_by_last_update order by 1"
    )
    assert got == [
        {"amazon_order_id": "111-0", "item_price": 5.5, "number_of_items": None},
        {"amazon_order_id": "111-1", "item_price": 19.99, "number_of_items": 2},
    ]


def _st_doc(start: date, end: date, asin_units: dict[str, int]) -> bytes:
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    doc = {
        "reportSpecification": {
            "reportType": ST,
            "dataStartTime": start.isoformat(),
            "dataEndTime": end.isoformat(),
            "marketplaceIds": [US],
        },
        "salesAndTrafficByDate": [
            {
                "date": d.isoformat(),
                "salesByDate": {"unitsOrdered": 1, "orderedProductSales": {"amount": 2.5}},
            }
            for d in days
        ],
        "salesAndTrafficByAsin": [
            {"parentAsin": "P", "childAsin": a, "salesByAsin": {"unitsOrdered": n}}
            for a, n in asin_units.items()
        ],
    }
    return json.dumps(doc).encode()


def _old_st_spec() -> TableSpec:
    """Sales & Traffic as the previous declaration created it: no period columns, by-ASIN rows dated."""
    current = table_spec(REPORT_TYPES[ST])
    fields = [f for f in current.schema if f.name not in ("start_date", "end_date")]
    return dataclasses.replace(
        current,
        schema=pa.schema(fields),
        key_columns=("section", "date", "parent_asin", "child_asin", "sku"),
        window_column="date",
        properties=(),  # (created before the migration existed: not marked done)
    )


def _old_st_rows(day: date, asins: list[str]) -> pa.Table:
    n = 1 + len(asins)
    return pa.table(
        {
            "section": ["by_date", *["by_asin"] * len(asins)],
            "date": pa.array([day] * n, pa.date32()),
            "parent_asin": [None, *["P"] * len(asins)],
            "child_asin": [None, *asins],
            "sales_by_asin_units_ordered": pa.array([None, *[1] * len(asins)], pa.int64()),
        }
    )


def test_sales_and_traffic_old_rows_migrate_to_periods_without_duplicates(ctx: Any) -> None:
    old = _old_st_spec()
    for n in (20, 21):
        prov = Provenance("na", f"OLD{n}", f"raw/old{n}", datetime.now(UTC), D(n), D(n + 1), US, (US,))
        ctx.lake.write(old, _old_st_rows(date(2026, 11, n), ["A", "B"]), prov, ReplaceScope(D(n), D(n + 1)))
    assert _sql(ctx, "select count(*) as n from sales_and_traffic") == [{"n": 6}]

    # the next landing (a lookback re-pull of the 21st, now without B) migrates first, then replaces
    d21 = date(2026, 11, 21)
    assert _land(ctx, _entry(ST, "N21", US, D(21), D(22)), _st_doc(d21, d21, {"A": 3})) == (2, 0)
    got = _sql(
        ctx,
        "select section, date, start_date, end_date, child_asin, sales_by_asin_units_ordered as u, report_id "
        "from sales_and_traffic order by start_date, section desc, child_asin",
    )
    d20 = date(2026, 11, 20)
    assert got == [
        {"section": "by_date", "date": d20, "start_date": d20, "end_date": d20, "child_asin": None, "u": None,
         "report_id": "OLD20"},
        {"section": "by_asin", "date": None, "start_date": d20, "end_date": d20, "child_asin": "A", "u": 1,
         "report_id": "OLD20"},
        {"section": "by_asin", "date": None, "start_date": d20, "end_date": d20, "child_asin": "B", "u": 1,
         "report_id": "OLD20"},
        {"section": "by_date", "date": d21, "start_date": d21, "end_date": d21, "child_asin": None, "u": None,
         "report_id": "N21"},
        {"section": "by_asin", "date": None, "start_date": d21, "end_date": d21, "child_asin": "A", "u": 3,
         "report_id": "N21"},
    ]  # fmt: skip
    # re-landing the migrated 20th with the new layout replaces its rows (same keys): still no duplicates
    _land(ctx, _entry(ST, "N20", US, D(20), D(21)), _st_doc(d20, d20, {"A": 1, "B": 1}))
    keys = _sql(ctx, "select count(*) as n, count(distinct row_key) as k from sales_and_traffic")
    assert keys == [{"n": 5, "k": 5}]
    assert _sql(ctx, "select distinct report_id from sales_and_traffic order by 1") == [
        {"report_id": "N20"},
        {"report_id": "N21"},
    ]


def test_sales_and_traffic_multi_day_document_keeps_its_period(ctx: Any) -> None:
    start, end = date(2026, 11, 20), date(2026, 11, 22)
    assert _land(ctx, _entry(ST, "M", US, D(20), D(23)), _st_doc(start, end, {"A": 7})) == (4, 0)
    by_asin = _sql(ctx, "select date, start_date, end_date from sales_and_traffic where section = 'by_asin'")
    assert by_asin == [{"date": None, "start_date": start, "end_date": end}]
    days = _sql(ctx, "select date from sales_and_traffic where section = 'by_date' order by 1")
    assert [r["date"] for r in days] == [start, date(2026, 11, 21), end]


# --- settlement V1 (real files) ------------------------------------------------------------------------

V1_FILES = {
    "peddler-au.txt": "A39IBJ37TRP1C6",
    "peddler-gb.txt": "A1F83G8C2ARO7P",
    "scaleleap-ca.txt": "A2EUQ1WTGCTBG2",
    "airbyte.csv": US,
}


def _instant(text: str) -> datetime | None:
    """Independent reading of the two date forms these files use."""
    if not text:
        return None
    if text.endswith(" UTC"):
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S UTC").replace(tzinfo=UTC)
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize("name", sorted(V1_FILES))
def test_settlement_v1_real_files_land_every_row(ctx: Any, name: str) -> None:
    path = REAL / V1 / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    raw = path.read_bytes()
    with open(path, encoding="utf-8", newline="") as f:
        lines = [r for r in csv.DictReader(f, delimiter="\t")]
    e = _entry(V1, "S-" + name, V1_FILES[name], None, D(28), kind="discover")
    assert _land(ctx, e, raw, charset=None) == (len(lines), 0)  # served without a charset
    got = _sql(
        ctx,
        "select settlement_id, settlement_start_date, total_amount, transaction_type, posted_date, sku, "
        "price_amount, item_related_fee_amount, other_amount, quantity_purchased from settlements_v1",
    )

    def dec(t: str) -> Decimal | None:
        return Decimal(t) if t else None

    want = [
        {
            "settlement_id": r["settlement-id"],
            "settlement_start_date": _instant(r["settlement-start-date"]),
            "total_amount": dec(r["total-amount"]),
            "transaction_type": r["transaction-type"],  # strings land as written (blank stays blank)
            "posted_date": _instant(r["posted-date"]),
            "sku": r["sku"],
            "price_amount": dec(r["price-amount"]),
            "item_related_fee_amount": dec(r["item-related-fee-amount"]),
            "other_amount": dec(r["other-amount"]),
            "quantity_purchased": int(r["quantity-purchased"]) if r["quantity-purchased"] else None,
        }
        for r in lines
    ]
    assert sorted(got, key=_canon) == sorted(want, key=_canon)  # Decimal/instant equality, any scale/zone


def _canon(row: dict[str, Any]) -> str:
    def one(v: Any) -> Any:
        if isinstance(v, Decimal):
            return format(v.normalize(), "f")
        if isinstance(v, datetime):
            return v.timestamp()
        return v

    return json.dumps({k: one(v) for k, v in row.items()}, sort_keys=True)


# The listings header one seller's account started to receive in July 2024 (amzn/selling-partner-api-models
# issue 3999): retired columns renamed "Deprecated column", British "fulfilment-channel", two new columns.
LISTINGS_2024 = (
    "item-name\titem-description\tlisting-id\tseller-sku\tprice\tquantity\topen-date\tDeprecated column\t"
    "item-is-marketplace\tproduct-id-type\tDeprecated column\titem-note\titem-condition\tDeprecated column\t"
    "Deprecated column\tDeprecated column\tasin1\tDeprecated column\tDeprecated column\t"
    "will-ship-internationally\texpedited-shipping\tDeprecated column\tproduct-id\tDeprecated column\t"
    "add-delete\tpending-quantity\tfulfilment-channel\tmerchant-shipping-group\tstatus\t"
    "Minimum order quantity\tSell remainder"
).split("\t")


def test_listings_2024_layout_lands_with_its_renamed_channel_column(ctx: Any) -> None:
    values = {
        "item-name": "Garlic Press",
        "listing-id": "0602X4LF322",
        "seller-sku": "PRESS001",
        "price": "12.99",
        "quantity": "4",
        "open-date": "2024-06-02 03:09:20 PDT",
        "asin1": "B07L1G4YKT",
        "pending-quantity": "0",
        "fulfilment-channel": "DEFAULT",
        "status": "Active",
        "Minimum order quantity": "2",
        "Sell remainder": "true",
    }
    row = [values.get(h, "") for h in LISTINGS_2024]
    e = _entry("GET_MERCHANT_LISTINGS_ALL_DATA", "L24", US, None, D(28))
    assert _land(ctx, e, _tsv(LISTINGS_2024, [row])) == (1, 0)
    (got,) = _sql(
        ctx,
        "select seller_sku, price, open_date, fulfillment_channel, minimum_order_quantity, sell_remainder, "
        "deprecated_column, deprecated_column_9 from merchant_listings",
    )
    assert got == {
        "seller_sku": "PRESS001",
        "price": Decimal("12.99"),
        "open_date": datetime(2024, 6, 2, 10, 9, 20, tzinfo=UTC),  # PDT = UTC-7
        "fulfillment_channel": "DEFAULT",  # the declared column, under its British spelling
        "minimum_order_quantity": 2,
        "sell_remainder": "true",
        "deprecated_column": "",
        "deprecated_column_9": "",
    }
    report = {(d.kind, d.column) for d in drift.drift_report(ctx.state, ["GET_MERCHANT_LISTINGS_ALL_DATA"])}
    assert ("undeclared", "Deprecated column") in report
    assert ("undeclared", "fulfilment-channel") not in report and (
        "absent",
        "fulfillment-channel",
    ) not in report
    assert {("absent", "zshop-shipping-fee"), ("absent", "image-url"), ("absent", "Business Price")} <= report


def test_period_migration_is_per_group_resumable_and_runs_once(ctx: Any) -> None:
    from splake.reports.migrate import migrate

    spec = REPORT_TYPES[ST]
    old = _old_st_spec()
    d20 = date(2026, 11, 20)
    for mid in (US, "A2EUQ1WTGCTBG2"):  # two marketplaces = two groups
        prov = Provenance("na", f"OLD-{mid}", f"raw/{mid}", datetime.now(UTC), D(20), D(21), mid, (mid,))
        ctx.lake.write(old, _old_st_rows(d20, ["A"]), prov, ReplaceScope(D(20), D(21)))
    assert migrate(ctx.lake, spec) == ["sales_and_traffic_period"]
    assert migrate(ctx.lake, spec) == []  # done: a table property, no scan of the rows again
    before = _sql(ctx, "select row_key, start_date, end_date, date from sales_and_traffic order by row_key")
    assert all(r["start_date"] == r["end_date"] == d20 for r in before)

    # a crash after some groups: rows of another group still without a period, marker not yet set
    with ctx.lake.table("sales_and_traffic").transaction() as tx:
        tx.remove_properties("splake.migration.sales_and_traffic_period")
    mx = "A1AM78C64UM0Y8"
    prov = Provenance("na", "OLD-MX", "raw/mx", datetime.now(UTC), D(20), D(21), mx, (mx,))
    ctx.lake.write(old, _old_st_rows(d20, ["A", "B"]), prov, ReplaceScope(D(20), D(21)))
    assert migrate(ctx.lake, spec) == ["sales_and_traffic_period"]
    after = _sql(ctx, "select row_key, start_date, end_date, date from sales_and_traffic order by row_key")
    assert [r for r in after if r["row_key"] in {b["row_key"] for b in before}] == before  # untouched
    assert len(after) == len(before) + 3 and all(r["start_date"] == d20 for r in after)
    keys = _sql(ctx, "select count(*) as n, count(distinct row_key) as k from sales_and_traffic")
    assert keys == [{"n": 7, "k": 7}]


def test_a_new_sales_and_traffic_table_needs_no_migration(ctx: Any) -> None:
    """A table created by this version holds no row of the old layout: it is created with its migrations
    done, so landing its documents never takes the table lock to look for old rows."""
    from splake.reports.migrate import pending

    d20 = date(2026, 11, 20)
    assert _land(ctx, _entry(ST, "N20", US, D(20), D(21)), _st_doc(d20, d20, {"A": 1})) == (2, 0)
    assert pending(ctx.lake, REPORT_TYPES[ST]) == []
