"""The sandbox's catalog report types (beyond the core ten): audience, format, header and the SP-API role
each needs, declared here independently of the client's declarations."""

from __future__ import annotations

from typing import Literal

from splake.sandbox.catalog_layouts import FLAT_LAYOUTS
from splake.sandbox.report_types import REPORT_TYPES, SandboxReportType

# Loaded by the sandbox's renderer and roles (so with any sandbox server or World); adds the catalog
# types to ``report_types.REPORT_TYPES``. It imports no renderer.
XML_TYPES = (
    "GET_ORDER_REPORT_DATA_SHIPPING",
    "GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL",
    "GET_XML_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
    "GET_XML_BROWSE_TREE_DATA",
)
JSON_TYPES = (
    "GET_BRAND_ANALYTICS_SEARCH_TERMS_REPORT",
    "GET_BRAND_ANALYTICS_SEARCH_QUERY_PERFORMANCE_REPORT",
    "GET_BRAND_ANALYTICS_SEARCH_CATALOG_PERFORMANCE_REPORT",
    "GET_BRAND_ANALYTICS_MARKET_BASKET_REPORT",
    "GET_BRAND_ANALYTICS_REPEAT_PURCHASE_REPORT",
    "GET_B2B_PRODUCT_OPPORTUNITIES_RECOMMENDED_FOR_YOU",
    "GET_B2B_PRODUCT_OPPORTUNITIES_NOT_YET_ON_AMAZON",
    "GET_V2_SELLER_PERFORMANCE_REPORT",
    "GET_PROMOTION_PERFORMANCE_REPORT",
    "GET_COUPON_PERFORMANCE_REPORT",
    "GET_VENDOR_TRAFFIC_REPORT",
    "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT",
    "GET_VENDOR_FORECASTING_REPORT",
    "GET_VENDOR_REAL_TIME_INVENTORY_REPORT",
    "GET_VENDOR_REAL_TIME_SALES_REPORT",
    "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT",
)

VENDOR = frozenset(
    {
        "GET_VENDOR_TRAFFIC_REPORT",
        "GET_VENDOR_NET_PURE_PRODUCT_MARGIN_REPORT",
        "GET_VENDOR_FORECASTING_REPORT",
        "GET_VENDOR_REAL_TIME_INVENTORY_REPORT",
        "GET_VENDOR_REAL_TIME_SALES_REPORT",
        "GET_VENDOR_REAL_TIME_TRAFFIC_REPORT",
    }
)

# Roles that grant each type (any one suffices; createReport answers 403 Unauthorized without one);
# merged into ``splake.sandbox.roles.REPORT_TYPE_ROLES``.
_ORDERS = frozenset({"Inventory and Order Tracking", "Amazon Fulfillment"})
_LISTINGS = frozenset({"Product Listing", "Inventory and Order Tracking"})
_FBA = frozenset({"Amazon Fulfillment"})
_BRAND = frozenset({"Brand Analytics"})
_INSIGHTS = frozenset({"Selling Partner Insights"})
CATALOG_REPORT_ROLES: dict[str, frozenset[str]] = {
    **{t: _FBA for t, lay in FLAT_LAYOUTS.items() if lay.fba_only},
    **{t: _LISTINGS for t in FLAT_LAYOUTS if "LISTINGS" in t or t == "GET_REFERRAL_FEE_PREVIEW_REPORT"},
    **{t: _ORDERS for t in FLAT_LAYOUTS if "ORDER" in t or t == "GET_FLAT_FILE_RETURNS_DATA_BY_RETURN_DATE"},
    "GET_SELLER_FEEDBACK_DATA": frozenset({"Inventory and Order Tracking"}),
    "GET_ORDER_REPORT_DATA_SHIPPING": _ORDERS,
    "GET_XML_ALL_ORDERS_DATA_BY_ORDER_DATE_GENERAL": _ORDERS,
    "GET_XML_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL": _ORDERS,
    "GET_XML_BROWSE_TREE_DATA": _LISTINGS,
    **{t: _BRAND for t in JSON_TYPES if t.startswith("GET_BRAND_ANALYTICS_")},
    **{t: _BRAND for t in VENDOR if "REAL_TIME" not in t},
    **{t: _INSIGHTS for t in VENDOR if "REAL_TIME" in t},
    "GET_B2B_PRODUCT_OPPORTUNITIES_RECOMMENDED_FOR_YOU": _INSIGHTS,
    "GET_B2B_PRODUCT_OPPORTUNITIES_NOT_YET_ON_AMAZON": _INSIGHTS,
    "GET_PROMOTION_PERFORMANCE_REPORT": _INSIGHTS,
    "GET_COUPON_PERFORMANCE_REPORT": _INSIGHTS,
    "GET_V2_SELLER_PERFORMANCE_REPORT": frozenset({"Inventory and Order Tracking"}),
}


def catalog_types() -> tuple[SandboxReportType, ...]:
    out = []
    for name, lay in FLAT_LAYOUTS.items():
        out.append(SandboxReportType(name, "tsv", "seller", "catalog", lay.header, single_marketplace=True))
    for name in XML_TYPES:
        out.append(SandboxReportType(name, "xml", "seller", "catalog", single_marketplace=True))
    for name in JSON_TYPES:
        audience: Literal["seller", "vendor"] = "vendor" if name in VENDOR else "seller"
        out.append(SandboxReportType(name, "json", audience, "catalog", single_marketplace=True))
    return tuple(out)


for _t in catalog_types():
    REPORT_TYPES.setdefault(_t.name, _t)
