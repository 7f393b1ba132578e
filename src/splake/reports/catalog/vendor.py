"""Vendor retail analytics beyond sales/inventory: traffic, margin, forecasts, real-time (JSON)."""

from __future__ import annotations

from datetime import timedelta

from splake.reports.catalog._build import VENDOR_ANALYTICS_ROLE, VENDOR_INSIGHTS_ROLE, columns, period_option
from splake.reports.types import ColumnSpec, JsonSection, OptionSpec, ReportTypeSpec

TRAFFIC = columns("startDate|date\nendDate|date\nasin\nglanceViews|int\n")
NPPM = columns("startDate|date\nendDate|date\nasin\nnetPureProductMargin|float\n")
FORECAST = columns("""
forecastGenerationDate|date
asin
startDate|date
endDate|date
meanForecastUnits|float
p70ForecastUnits|float
p80ForecastUnits|float
p90ForecastUnits|float
""")
RT_INVENTORY = columns("startTime|timestamp\nendTime|timestamp\nasin\nhighlyAvailableInventory|int\n")
RT_SALES = columns("startTime|timestamp\nendTime|timestamp\nasin\norderedUnits|int\norderedRevenue|decimal\n")
RT_TRAFFIC = columns("startTime|timestamp\nendTime|timestamp\nasin\nglanceViews|int\n")

_PERIOD = period_option(("DAY", "WEEK", "MONTH", "QUARTER", "YEAR"))
_LAG = timedelta(hours=72)  # retail analytics data for a day is available ~72 h after it ends


def _aggregated(
    name: str, table: str, cols: tuple[ColumnSpec, ...], agg: str, by_asin: str, desc: str
) -> ReportTypeSpec:
    return ReportTypeSpec(
        name=name,
        format="json",
        account_kinds=("vendor",),
        table=table,
        columns=cols,
        key_columns=("section", "start_date", "asin"),
        replace="window",
        window_column="start_date",
        max_window=timedelta(days=7),
        lookback=_LAG,
        end_lag=_LAG,
        default_options=(("reportPeriod", "DAY"),),
        options=(_PERIOD,),
        json_sections=(JsonSection(agg, "aggregate"), JsonSection(by_asin, "by_asin")),
        roles=(VENDOR_ANALYTICS_ROLE,),
        description=desc,
    )


def _real_time(
    name: str, table: str, cols: tuple[ColumnSpec, ...], desc: str, **kw: object
) -> ReportTypeSpec:
    return ReportTypeSpec(
        name=name,
        format="json",
        account_kinds=("vendor",),
        table=table,
        columns=cols,
        key_columns=("start_time", "asin"),
        replace="window",
        window_column="start_time",
        max_window=timedelta(days=1),
        granularity=timedelta(hours=1),
        end_lag=timedelta(hours=1),  # hourly data, refreshed within about an hour
        json_sections=(JsonSection("reportData", "hourly"),),
        roles=(VENDOR_INSIGHTS_ROLE,),
        description=desc,
        **kw,  # type: ignore[arg-type]
    )


SPECS = (
    _aggregated(
        "GET_VENDOR_TRAFFIC_REPORT",
        "vendor_traffic",
        TRAFFIC,
        "trafficAggregate",
        "trafficByAsin",
        "Vendor glance views per period and ASIN (JSON; ~72 h latency).",
    ),
    _aggregated(
        "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT",
        "vendor_net_pure_product_margin",
        NPPM,
        "netPureProductMarginAggregate",
        "netPureProductMarginByAsin",
        "Net pure product margin per period and ASIN (JSON; ~72 h latency).",
    ),
    ReportTypeSpec(
        name="GET_VENDOR_FORECASTING_REPORT",
        format="json",
        account_kinds=("vendor",),
        table="vendor_forecast",
        columns=FORECAST,
        key_columns=("forecast_generation_date", "asin", "start_date", "end_date"),
        replace="snapshot",
        windowed=False,
        refresh_interval=timedelta(hours=24),
        default_options=(("sellingProgram", "RETAIL"),),
        options=(OptionSpec("sellingProgram", ("RETAIL", "FRESH"), required=True),),
        json_sections=(JsonSection("forecastByAsin", "by_asin"),),
        roles=(VENDOR_ANALYTICS_ROLE,),
        description="Weekly demand forecast per ASIN (mean, P70/P80/P90), RETAIL or FRESH program (JSON).",
    ),
    _real_time(
        "GET_VENDOR_REAL_TIME_INVENTORY_REPORT",
        "vendor_rt_inventory",
        RT_INVENTORY,
        "Hourly highly-available inventory per ASIN (JSON, last 7 days).",
    ),
    _real_time(
        "GET_VENDOR_REAL_TIME_SALES_REPORT",
        "vendor_rt_sales",
        RT_SALES,
        "Hourly ordered units and revenue per ASIN (JSON, last 14 days).",
        options=(OptionSpec("currencyCode", description="ISO currency of orderedRevenue"),),
    ),
    _real_time(
        "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT",
        "vendor_rt_traffic",
        RT_TRAFFIC,
        "Hourly glance views per ASIN (JSON, last 14 days).",
    ),
)
