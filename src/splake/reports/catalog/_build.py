"""Compact column declarations: one column per line, ``header``, ``header|type`` or ``header|type|name``
(``name`` = the curated column name when snake_case(header) is not a good one)."""

from __future__ import annotations

from typing import cast

from splake.reports.types import ColumnSpec, ColumnType, OptionSpec

_TYPES = {"string", "int", "float", "decimal", "timestamp", "date", "bool"}

# Roles as Developer Central names them (Edit App → Roles); a type's ``roles`` are alternatives (any one
# grants it), as in Amazon's role mappings.
INVENTORY_ROLE = "Inventory and Order Tracking"
FBA_ROLE = "Amazon Fulfillment"
FINANCE_ROLE = "Finance and Accounting"
LISTINGS_ROLE = "Product Listing"
PRICING_ROLE = "Pricing"
BRAND_ROLE = "Brand Analytics"
INSIGHTS_ROLE = "Selling Partner Insights"
PII_ROLE = "Direct-to-Consumer Shipping (Restricted)"
VENDOR_ANALYTICS_ROLE = "Brand Analytics"  # vendor retail analytics reports
VENDOR_INSIGHTS_ROLE = "Selling Partner Insights"

PERIODS = ("DAY", "WEEK", "MONTH", "QUARTER")


def columns(text: str) -> tuple[ColumnSpec, ...]:
    out = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        if not line:
            continue
        header, _, rest = line.partition("|")
        kind, _, name = rest.partition("|")
        kind = kind.strip() or "string"
        if kind not in _TYPES:
            raise ValueError(f"unknown column type {kind!r} for {header!r}")
        out.append(ColumnSpec(header.strip(), cast(ColumnType, kind), name.strip() or None))
    return tuple(out)


def period_option(values: tuple[str, ...] = PERIODS) -> OptionSpec:
    return OptionSpec("reportPeriod", values, required=True, description="aggregation period")
