"""Every catalog report type: the sandbox's document (its real layout) parses into exactly the sandbox's
ground-truth rows, with no quarantined row and no column the client did not declare; JSON documents
validate against Amazon's official report schemas."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from splake.reports.catalog import catalog_specs
from splake.reports.formats import iter_document
from splake.reports.parse_stream import iter_json_stream
from splake.reports.types import REPORT_TYPES, ReportTypeSpec
from splake.sandbox.report_request import ReportFatal
from splake.sandbox.world import World

US = "ATVPDKIKX0DER"
SCHEMAS = Path(__file__).resolve().parents[2] / "src/splake/spapi/models/schemas/reports"
SCHEMA_OF = {
    "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT": "sellingPartnerSearchTermsReport.json",
    "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT": "sellingPartnerSearchQueryPerformanceReport.json",
    "GET_BRAND_ANALYTICS_SEARCH_CATALOG_PERFORMANCE_REPORT": (
        "sellingPartnerSearchCatalogPerformanceReport.json"
    ),
    "GET_BRAND_ANALYTICS_MARKET_BASKET_REPORT": "sellingPartnerMarketBasketAnalysisReport.json",
    "GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT": "sellingPartnerRepeatPurchaseReport.json",
    "GET_B2B_PRODUCT_OPPORTUNITIES_RECOMMENDED_FOR_YOU": (
        "b2bProductOpportunitiesRecommendedForYouReport-2020-11-19.json"
    ),
    "GET_B2B_PRODUCT_OPPORTUNITIES_NOT_YET_ON_AMAZON": (
        "b2bProductOpportunitiesNotYetOnAmazonReport-2020-11-19.json"
    ),
    "GET_V2_SELLER_PERFORMANCE_REPORT": "accountHealthReport-2020-11-18.json",
    "GET_PROMOTION_PERFORMANCE_REPORT": "promotionReport.json",
    "GET_COUPON_PERFORMANCE_REPORT": "sellerCouponReport.json",
    "GET_VENDOR_TRAFFIC_REPORT": "vendorTrafficReport.json",
    "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT": "vendorNetPureProductMarginReport.json",
    "GET_VENDOR_FORECASTING_REPORT": "vendorForecastingReport.json",
    "GET_VENDOR_REAL_TIME_INVENTORY_REPORT": "vendorRealTimeInventoryReport.json",
    "GET_VENDOR_REAL_TIME_SALES_REPORT": "vendorRealTimeSalesReport.json",
    "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT": "vendorRealTimeTrafficReport.json",
}
PROVENANCE_FREE = {"section"}
WORLD = World(seed=11)
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def _window(spec: ReportTypeSpec) -> tuple[datetime, datetime]:
    if not spec.windowed:
        return NOW, NOW
    if spec.grid_offset:  # a Sunday-to-Saturday week
        start = datetime(2026, 11, 8, tzinfo=UTC)
        return start, start + timedelta(days=7) - timedelta(seconds=1)
    start = datetime(2026, 11, 15, tzinfo=UTC)
    return start, start + min(spec.max_window, timedelta(days=2)) - timedelta(seconds=1)


def _options(spec: ReportTypeSpec) -> dict[str, str]:
    opts = dict(spec.default_options)
    if any(o.name == "asin" and o.required for o in spec.options):
        opts["asin"] = "B0AAAAAAA1 B0AAAAAAA2"
    return opts


def _render(spec: ReportTypeSpec, tmp_path: Path) -> tuple[list[dict[str, Any]], Path, datetime]:
    acct = "vendor-na" if "vendor" in spec.account_kinds else "seller-na"
    spid = WORLD.account(acct).selling_partner_id
    start, end = _window(spec)
    args = (spec.name, spid, [US], start, end, _options(spec))
    rows = WORLD.report_rows(*args, as_of=NOW)
    doc = WORLD.render_report(*args, as_of=NOW)
    path = tmp_path / "doc"
    path.write_bytes(doc.body.decode(doc.charset).encode("utf-8"))  # what decode() hands the parser
    return rows, path, start


CATALOG = [s.name for s in catalog_specs()]


def test_catalog_has_at_least_fifty_types_with_every_format() -> None:
    assert len(REPORT_TYPES) >= 50
    formats = {REPORT_TYPES[n].format for n in CATALOG}
    assert formats == {"tsv", "json", "xml"}
    assert len({s.table for s in REPORT_TYPES.values()}) == len(REPORT_TYPES)


@pytest.mark.parametrize("name", CATALOG)
def test_document_parses_into_ground_truth(name: str, tmp_path: Path) -> None:
    spec = REPORT_TYPES[name]
    rows, path, start = _render(spec, tmp_path)
    assert rows, f"{name}: the sandbox served no rows for the test window"
    declared = {c.column for c in spec.columns} | PROVENANCE_FREE
    parsed = bad = 0
    present: set[str] = set()
    for chunk in iter_document(path, spec, window_start=start):
        parsed += chunk.table.num_rows
        bad += len(chunk.bad)
        undeclared = set(chunk.table.column_names) - declared
        assert not undeclared, f"{name}: document columns the declaration lacks: {sorted(undeclared)}"
        present |= {
            c for c in chunk.table.column_names if chunk.table.column(c).null_count < chunk.table.num_rows
        }
    assert not set(spec.key_columns) - present - {"section"}, f"{name}: a key column is never filled"
    assert bad == 0
    assert parsed == len(rows)


@pytest.mark.parametrize("name", sorted(SCHEMA_OF))
def test_json_documents_match_the_official_schema(name: str, tmp_path: Path) -> None:
    _, path, _ = _render(REPORT_TYPES[name], tmp_path)
    schema = json.loads((SCHEMAS / SCHEMA_OF[name]).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    errors = sorted(cls(schema).iter_errors(json.loads(path.read_text(encoding="utf-8"))), key=str)
    assert not errors, f"{name}: {errors[0].message} at {list(errors[0].absolute_path)}"


def test_every_catalog_json_type_is_contract_checked() -> None:
    assert {n for n in CATALOG if REPORT_TYPES[n].format == "json"} == set(SCHEMA_OF)


def test_streamed_json_equals_loaded_json(tmp_path: Path) -> None:
    spec = REPORT_TYPES["GET_VENDOR_REAL_TIME_SALES_REPORT"]
    _, path, start = _render(spec, tmp_path)
    loaded = [c.table for c in iter_json_stream(path, spec, window_start=start)]
    streamed = [c.table for c in iter_json_stream(path, spec, window_start=start, small=0, rows_per_chunk=7)]
    a = [r for t in loaded for r in t.to_pylist()]
    b = [r for t in streamed for r in t.to_pylist()]
    assert len(b) > 7 and a == b


def test_weekly_brand_analytics_report_needs_a_sunday_week(tmp_path: Path) -> None:
    spid = WORLD.account("seller-na").selling_partner_id
    monday = datetime(2026, 11, 9, tzinfo=UTC)
    with pytest.raises(ReportFatal, match="Sunday"):
        WORLD.report_rows(
            "GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT",
            spid,
            [US],
            monday,
            monday + timedelta(days=7, seconds=-1),
            {"reportPeriod": "WEEK"},
            as_of=NOW,
        )
