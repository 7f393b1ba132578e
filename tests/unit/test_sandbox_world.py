"""The sandbox world: deterministic, realistic report content (headers, charsets, local languages)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from splake.sandbox import World
from splake.sandbox.report_request import ReportFatal
from splake.sandbox.report_types import REPORT_TYPES
from tests.support.contract import validate_report_document

AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
START, END = AS_OF - timedelta(days=10), AS_OF
ORDERS = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL"
ORDERS_LU = "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"
SETTLEMENT = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
VENDOR_OPTS = {"reportPeriod": "DAY", "distributorView": "MANUFACTURING", "sellingProgram": "RETAIL"}


def rows(w: World, rt: str, account: str, **kw: object) -> list[dict[str, object]]:
    a = w.account(account)
    start = kw.pop("start", START)
    end = kw.pop("end", END)
    return w.report_rows(
        rt, a.selling_partner_id, a.marketplace_ids, start, end, kw.pop("options", None), as_of=AS_OF
    )  # type: ignore[arg-type]


def test_same_seed_same_documents_other_seed_differs() -> None:
    a, b, c = World(seed=7), World(seed=7), World(seed=8)
    for rt in (ORDERS, "GET_MERCHANT_LISTINGS_ALL_DATA", "GET_SALES_AND_TRAFFIC_REPORT"):
        acct = a.account("seller-eu")
        args = (rt, acct.selling_partner_id, acct.marketplace_ids, START, END)
        assert a.render_report(*args, as_of=AS_OF).body == b.render_report(*args, as_of=AS_OF).body
    acct_c = c.account("seller-eu")
    assert (
        c.render_report(
            ORDERS, acct_c.selling_partner_id, acct_c.marketplace_ids, START, END, as_of=AS_OF
        ).body
        != a.render_report(
            ORDERS, acct.selling_partner_id, acct.marketplace_ids, START, END, as_of=AS_OF
        ).body
    )
    assert a.accounts == b.accounts and a.accounts != c.accounts


def test_accounts_match_the_contract() -> None:
    w = World()
    got = {a.account_id: (a.type, a.region, len(a.marketplace_ids)) for a in w.accounts}
    assert got == {
        "seller-na": ("seller", "NA", 2),
        "seller-eu": ("seller", "EU", 3),
        "seller-jp": ("seller", "FE", 1),
        "vendor-na": ("vendor", "NA", 1),
    }
    assert len({a.refresh_token for a in w.accounts}) == 4


def test_orders_window_and_volume() -> None:
    w = World()
    got = rows(w, ORDERS, "seller-na")
    assert len({r["amazon-order-id"] for r in got}) > 300  # thousands over the full 60+ days
    for r in got:
        purchased = datetime.fromisoformat(str(r["purchase-date"]))
        assert START <= purchased <= END
        assert datetime.fromisoformat(str(r["last-updated-date"])) >= purchased
    assert {r["sales-channel"] for r in got} == {"Amazon.com", "Amazon.ca"}
    assert list(got[0]) == list(REPORT_TYPES[ORDERS].columns)


def test_last_update_report_catches_orders_bought_before_the_window() -> None:
    w = World()
    lu = rows(w, ORDERS_LU, "seller-na")
    assert lu, "expected updated orders"
    older = [r for r in lu if datetime.fromisoformat(str(r["purchase-date"])) < START]
    assert older, "orders bought before the window but updated inside it must appear (lookback matters)"
    for r in lu:
        assert START <= datetime.fromisoformat(str(r["last-updated-date"])) <= END


def test_order_state_moves_forward_with_as_of() -> None:
    w = World()
    a = w.account("seller-na")
    day = AS_OF - timedelta(days=1)
    early = w.report_rows(
        ORDERS, a.selling_partner_id, a.marketplace_ids, day - timedelta(hours=6), day, as_of=day
    )
    late = w.report_rows(
        ORDERS,
        a.selling_partner_id,
        a.marketplace_ids,
        day - timedelta(hours=6),
        day,
        as_of=day + timedelta(days=5),
    )
    assert [r["amazon-order-id"] for r in early] == [r["amazon-order-id"] for r in late]
    assert sum(r["order-status"] == "Pending" for r in early) > sum(
        r["order-status"] == "Pending" for r in late
    )


def test_jp_titles_need_cp932_and_round_trip() -> None:
    w = World()
    a = w.account("seller-jp")
    rep = w.render_report(
        "GET_MERCHANT_LISTINGS_ALL_DATA", a.selling_partner_id, a.marketplace_ids, START, END, as_of=AS_OF
    )
    assert rep.content_type == "text/plain;charset=windows-31j" and rep.charset == "cp932"
    text = rep.body.decode("cp932")
    titles = [line.split("\t")[0] for line in text.splitlines()[1:]]
    truth = [r["item-name"] for r in rows(w, "GET_MERCHANT_LISTINGS_ALL_DATA", "seller-jp")]
    assert titles == truth
    joined = "".join(titles)
    assert "①" in joined or "②" in joined or "③" in joined
    assert "ｷ" in joined or "ﾀ" in joined  # half-width katakana
    with pytest.raises(UnicodeDecodeError):
        rep.body.decode("shift_jis")  # strict Shift_JIS cannot decode the cp932-only characters


def test_eu_orders_are_cp1252_with_umlauts_and_euro() -> None:
    w = World()
    a = w.account("seller-eu")
    rep = w.render_report(ORDERS, a.selling_partner_id, a.marketplace_ids, START, END, as_of=AS_OF)
    assert rep.content_type == "text/plain;charset=ISO-8859-1" and rep.charset == "cp1252"
    text = rep.body.decode("cp1252")
    assert any(ch in text for ch in "äöüß") and "€" in text and any(ch in text for ch in "éèç")
    assert {"Amazon.de", "Amazon.co.uk", "Amazon.fr"} <= {
        line.split("\t")[6] for line in text.splitlines()[1:]
    }


def test_snapshot_reports_share_skus() -> None:
    w = World()
    listings = rows(w, "GET_MERCHANT_LISTINGS_ALL_DATA", "seller-na")
    myi = rows(w, "GET_FBA_MYI_UNSUPPRESSED_INVENTORY_DATA", "seller-na")
    afn = rows(w, "GET_AFN_INVENTORY_DATA", "seller-na")
    assert len(listings) >= 1000
    assert {r["sku"] for r in myi} <= {r["seller-sku"] for r in listings}
    assert {r["seller-sku"] for r in afn} == {r["sku"] for r in myi}
    for r in myi:
        assert int(str(r["afn-warehouse-quantity"])) >= int(str(r["afn-fulfillable-quantity"]))


def test_json_reports_validate_against_official_schemas() -> None:
    w = World()
    for acct, rt, schema, opts in (
        (
            "seller-na",
            "GET_SALES_AND_TRAFFIC_REPORT",
            "sellerSalesAndTrafficReport.json",
            {"asinGranularity": "SKU"},
        ),
        (
            "seller-jp",
            "GET_SALES_AND_TRAFFIC_REPORT",
            "sellerSalesAndTrafficReport.json",
            {"dateGranularity": "WEEK"},
        ),
        ("vendor-na", "GET_VENDOR_SALES_REPORT", "vendorSalesReport.json", VENDOR_OPTS),
        ("vendor-na", "GET_VENDOR_INVENTORY_REPORT", "vendorInventoryReport.json", VENDOR_OPTS),
    ):
        a = w.account(acct)
        rep = w.render_report(rt, a.selling_partner_id, a.marketplace_ids, START, END, opts, as_of=AS_OF)
        assert rep.content_type == "application/json"
        doc = json.loads(rep.body)
        validate_report_document(schema, doc)
        assert doc["reportSpecification"]["reportType"] == rt


def test_sales_and_traffic_units_match_orders() -> None:
    w = World()
    day = (AS_OF - timedelta(days=3)).replace(hour=0, minute=0, second=0)
    a = w.account("seller-na")
    us = a.marketplace_ids[0]
    st = w.report_rows("GET_SALES_AND_TRAFFIC_REPORT", a.selling_partner_id, [us], day, day, as_of=AS_OF)
    by_date = [r for r in st if r["section"] == "salesAndTrafficByDate"]
    assert len(by_date) == 1
    orders = w.report_rows(
        ORDERS,
        a.selling_partner_id,
        [us],
        day,
        day + timedelta(hours=23, minutes=59, seconds=59),
        as_of=AS_OF,
    )
    units = sum(int(str(r["quantity"])) for r in orders if r["order-status"] != "Cancelled")
    assert by_date[0]["salesByDate"]["unitsOrdered"] == units  # type: ignore[index]


def vendor_week(w: World, start: datetime, end: datetime) -> list[dict[str, object]]:
    a = w.account("vendor-na")
    opts = {**VENDOR_OPTS, "reportPeriod": "WEEK"}
    return w.report_rows(
        "GET_VENDOR_SALES_REPORT", a.selling_partner_id, a.marketplace_ids, start, end, opts, as_of=AS_OF
    )


def test_vendor_misaligned_week_is_fatal_and_missing_options_explained() -> None:
    w = World()
    a = w.account("vendor-na")
    monday = datetime(2026, 11, 2, tzinfo=UTC)
    with pytest.raises(ReportFatal, match="Sunday"):
        vendor_week(w, monday, monday + timedelta(days=6))
    sunday = datetime(2026, 11, 1, tzinfo=UTC)
    ok = vendor_week(w, sunday, sunday + timedelta(days=13))
    assert {r["startDate"] for r in ok if r["section"] == "salesAggregate"} == {"2026-11-01", "2026-11-08"}
    with pytest.raises(ReportFatal, match="reportPeriod, distributorView, sellingProgram"):
        w.report_rows(
            "GET_VENDOR_SALES_REPORT", a.selling_partner_id, a.marketplace_ids, START, END, {}, as_of=AS_OF
        )


def test_settlement_rows_sum_to_total() -> None:
    w = World()
    a = w.account("seller-na")
    period = w.settlements(a.selling_partner_id, AS_OF - timedelta(days=30), AS_OF)[0]
    mids = [period.marketplace_id]
    got = w.report_rows(SETTLEMENT, a.selling_partner_id, mids, period.start, period.end, as_of=AS_OF)
    head, lines = got[0], got[1:]
    assert head["settlement-id"] == period.settlement_id and head["transaction-type"] == ""
    total = sum(float(str(r["amount"])) for r in lines)
    assert abs(total - float(str(head["total-amount"]))) < 0.05
    assert all(r["settlement-id"] == period.settlement_id for r in lines)


def test_render_to_streams_gzip_that_matches_in_memory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    w = World(scale=3.0)
    a = w.account("seller-eu")
    info = w.render_report_to(
        tmp_path / "o.gz", ORDERS, a.selling_partner_id, a.marketplace_ids, START, END, as_of=AS_OF
    )
    body = gzip.decompress((tmp_path / "o.gz").read_bytes())
    assert (
        body == w.render_report(ORDERS, a.selling_partner_id, a.marketplace_ids, START, END, as_of=AS_OF).body
    )
    assert info.rows == len(body.splitlines()) - 1 > 2000
    assert info.raw_bytes == len(body)
