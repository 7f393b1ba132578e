"""The catalog's declarations as data: the README table is generated from them (and in sync), reportOptions
in the config are validated against them with a clear error, and required options are enforced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from splake.config import parse_config
from splake.errors import ConfigError
from splake.reports.catalog.listing import BEGIN, END, readme_table, render_into, rows
from splake.reports.catalog.options import effective_options, option_errors
from splake.reports.planner import report_types_for
from splake.reports.types import CORE_REPORT_TYPES, REPORT_TYPES, default_report_types

README = Path(__file__).resolve().parents[2] / "README.md"
SQP = "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT"


def _config(**sync: Any) -> dict[str, Any]:
    return {
        "lwa": {"client_id": "amzn1.application-oa2-client.x"},
        "sync": sync,
        "accounts": [{"id": "acme", "region": "NA", "selling_partner_id": "A1", "marketplaces": ["US"]}],
    }


def test_readme_table_is_generated_from_the_declarations() -> None:
    text = README.read_text(encoding="utf-8")
    assert render_into(text) == text, (
        "README is stale: python -m splake.reports.catalog.listing --readme README.md"
    )
    table = text[text.index(BEGIN) : text.index(END)]
    for spec in REPORT_TYPES.values():
        assert f"`{spec.name}`" in table and f"| {spec.table} |" in table
    assert table.count("\n| ") - 1 == len(REPORT_TYPES)  # one row per type (plus the header row)


def test_listing_rows_show_options_roles_and_latency() -> None:
    by_name = {r.name: r for r in rows()}
    assert len(by_name) == len(REPORT_TYPES) >= 50
    sqp = by_name[SQP]
    assert "asin*" in sqp.options and "reportPeriod*=WEEK|MONTH|QUARTER (default WEEK)" in sqp.options
    assert sqp.roles == "Brand Analytics" and sqp.latency == "2 d"
    assert {r.accounts for r in rows("vendor")} == {"vendor"}
    assert "BEGIN" in readme_table()


def test_unknown_option_and_bad_value_are_refused_with_the_allowed_ones() -> None:
    errs = option_errors("GET_VENDOR_TRAFFIC_REPORT", {"reportPeriod": "HOUR", "sellingProgram": "RETAIL"})
    assert any(
        "reportPeriod='HOUR' is not allowed; use one of: DAY, WEEK, MONTH, QUARTER, YEAR" in e for e in errs
    )
    assert any("has no reportOption 'sellingProgram'; it accepts: reportPeriod" in e for e in errs)
    assert option_errors("GET_VENDOR_TRAFFIC_REPORT", {"reportPeriod": "WEEK"}) == []
    assert option_errors("GET_NOT_A_TYPE", {}) != []


def test_config_validates_report_options() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(
            _config(report_options={"GET_LEDGER_SUMMARY_VIEW_DATA": {"aggregateByLocation": "CITY"}})
        )
    assert "aggregateByLocation='CITY' is not allowed; use one of: COUNTRY, FC" in exc.value.message
    ok = parse_config(_config(report_options={"GET_LEDGER_SUMMARY_VIEW_DATA": {"aggregateByLocation": "FC"}}))
    assert ok.sync.report_options["GET_LEDGER_SUMMARY_VIEW_DATA"] == {"aggregateByLocation": "FC"}


def test_a_listed_type_missing_a_required_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(_config(report_types=[SQP]))
    assert f"{SQP} needs reportOption(s) asin" in exc.value.message
    assert f"[sync.report_options.{SQP}]" in exc.value.message
    s = parse_config(_config(report_types=[SQP], report_options={SQP: {"asin": "B0AAAAAAA1"}}))
    assert report_types_for(s, s.accounts[0]) == (SQP,)


def test_default_types_are_the_core_types_of_the_account_kind() -> None:
    seller = default_report_types("seller")
    vendor = default_report_types("vendor")
    # catalog types (roles most apps lack, createReport quota) are opt-in, required options or not
    assert SQP not in seller and "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT" not in seller
    assert "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL" in seller
    assert "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE" in seller
    assert "GET_VENDOR_SALES_REPORT" in vendor and "GET_VENDOR_SALES_REPORT" not in seller
    assert set(seller) | set(vendor) <= set(CORE_REPORT_TYPES)
    assert len(REPORT_TYPES) > 50 > len(CORE_REPORT_TYPES)


def test_vendor_options_reach_only_the_types_that_declare_them() -> None:
    vendor = {"reportPeriod": "WEEK", "distributorView": "SOURCING", "sellingProgram": "FRESH"}
    traffic = effective_options(REPORT_TYPES["GET_VENDOR_TRAFFIC_REPORT"], {}, vendor)
    assert traffic == {"reportPeriod": "WEEK"}
    forecast = effective_options(REPORT_TYPES["GET_VENDOR_FORECASTING_REPORT"], {}, vendor)
    assert forecast == {"sellingProgram": "FRESH"}
    realtime = effective_options(REPORT_TYPES["GET_VENDOR_REAL_TIME_TRAFFIC_REPORT"], {}, vendor)
    assert realtime == {}
    # a type that declares no options keeps the old behaviour: every vendor option is sent
    sales = effective_options(REPORT_TYPES["GET_VENDOR_SALES_REPORT"], {}, vendor)
    assert sales == vendor


def test_reports_list_cli_prints_every_type() -> None:
    from typer.testing import CliRunner

    from splake.cli import app

    out = CliRunner().invoke(app, ["reports", "list", "--format", "tsv"])
    assert out.exit_code == 0, out.output
    lines = out.output.strip().splitlines()
    assert lines[0].split("\t") == [
        "type",
        "table",
        "accounts",
        "format",
        "window",
        "options",
        "roles",
        "latency",
    ]
    assert {ln.split("\t")[0] for ln in lines[1:]} == set(REPORT_TYPES)
    sqp = next(ln.split("\t") for ln in lines[1:] if ln.startswith(SQP + "\t"))
    assert sqp[1] == "ba_search_query_performance" and "asin*" in sqp[5] and sqp[6] == "Brand Analytics"
    vendor = CliRunner().invoke(app, ["reports", "list", "--kind", "vendor", "--format", "tsv"])
    assert all("\tvendor\t" in ln for ln in vendor.output.strip().splitlines()[1:])
