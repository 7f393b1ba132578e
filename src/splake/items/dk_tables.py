"""Data Kiosk declared queries and their typed tables, as data (query text + schema + row mapping).

Each declared query selects one dataset table with ``$startDate``/``$endDate``/``$marketplaceIds`` filled
in per run; its JSONL records map to one typed row each (key: marketplace + period [+ product]).
User queries (``[data_kiosk].queries``) land in ``dk_<name>``: the record as canonical JSON text plus the
key fields the user named (or the record's top-level scalars).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from splake.items.schemas import TS, S, _struct
from splake.lake.tables import TableSpec

D = pa.date32()
F = pa.float64()
I = pa.int64()  # noqa: E741 - a type alias, not a loop variable

SALES_TRAFFIC_BY_DATE_QUERY = """query {
  analytics_salesAndTraffic_2024_04_24 {
    salesAndTrafficByDate(startDate: $startDate, endDate: $endDate, aggregateBy: DAY,
                          marketplaceIds: $marketplaceIds) {
      startDate endDate marketplaceId
      sales {
        orderedProductSales { amount currencyCode } orderedProductSalesB2B { amount currencyCode }
        unitsOrdered unitsOrderedB2B totalOrderItems totalOrderItemsB2B unitsRefunded unitsShipped
        ordersShipped shippedProductSales { amount currencyCode } refundRate
      }
      traffic {
        pageViews sessions browserSessions mobileAppSessions buyBoxPercentage unitSessionPercentage
        orderItemSessionPercentage averageOfferCount feedbackReceived negativeFeedbackReceived
      }
    }
  }
}"""

ECONOMICS_QUERY = """query {
  analytics_economics_2024_03_15 {
    economics(startDate: $startDate, endDate: $endDate, marketplaceIds: $marketplaceIds,
              aggregateBy: {date: DAY, productId: MSKU}) {
      startDate endDate marketplaceId parentAsin childAsin msku fnsku
      sales {
        unitsOrdered unitsRefunded netUnitsSold orderedProductSales { amount currencyCode }
        refundedProductSales { amount currencyCode } netProductSales { amount currencyCode }
      }
      fees { feeTypeName charge { aggregatedDetail { totalAmount { amount currencyCode } quantity } } }
      ads { adTypeName charge { totalAmount { amount currencyCode } } }
      netProceeds { total { amount currencyCode } }
    }
  }
}"""

DK_SALES_TRAFFIC_BY_DATE = pa.schema(
    [
        pa.field("start_date", D, nullable=False),
        pa.field("end_date", D, nullable=False),
        pa.field("marketplace_id", S, nullable=False),
        pa.field("currency", S),
        pa.field("ordered_product_sales", F),
        pa.field("ordered_product_sales_b2b", F),
        pa.field("units_ordered", I),
        pa.field("units_ordered_b2b", I),
        pa.field("total_order_items", I),
        pa.field("total_order_items_b2b", I),
        pa.field("units_refunded", I),
        pa.field("units_shipped", I),
        pa.field("orders_shipped", I),
        pa.field("shipped_product_sales", F),
        pa.field("refund_rate", F),
        pa.field("page_views", I),
        pa.field("sessions", I),
        pa.field("browser_sessions", I),
        pa.field("mobile_app_sessions", I),
        pa.field("buy_box_percentage", F),
        pa.field("unit_session_percentage", F),
        pa.field("order_item_session_percentage", F),
        pa.field("average_offer_count", I),
        pa.field("feedback_received", I),
        pa.field("negative_feedback_received", I),
        pa.field("query_id", S),
        pa.field("fetched_at", TS, nullable=False),
    ]
)

DK_ECONOMICS = pa.schema(
    [
        pa.field("start_date", D, nullable=False),
        pa.field("end_date", D, nullable=False),
        pa.field("marketplace_id", S, nullable=False),
        pa.field("parent_asin", S),
        pa.field("child_asin", S),
        pa.field("msku", S),
        pa.field("fnsku", S),
        pa.field("currency", S),
        pa.field("units_ordered", I),
        pa.field("units_refunded", I),
        pa.field("net_units_sold", I),
        pa.field("ordered_product_sales", F),
        pa.field("refunded_product_sales", F),
        pa.field("net_product_sales", F),
        pa.field("fees", pa.list_(_struct(fee_type_name=S, total_amount=F, quantity=F))),
        pa.field("fees_total", F),
        pa.field("ads_total", F),
        pa.field("net_proceeds", F),
        pa.field("query_id", S),
        pa.field("fetched_at", TS, nullable=False),
    ]
)

DK_USER = pa.schema(
    [
        pa.field("record_key", S, nullable=False),  # canonical JSON of the key fields
        pa.field("marketplace_id", S),
        pa.field("record", S, nullable=False),  # the record as canonical JSON text
        pa.field("window_start", D),
        pa.field("window_end", D),
        pa.field("query_id", S),
        pa.field("fetched_at", TS, nullable=False),
    ]
)

_PART = (("account_id", "identity"), ("marketplace_id", "identity"))


def _amount(m: Any) -> float | None:
    return float(m["amount"]) if isinstance(m, dict) and m.get("amount") is not None else None


def _currency(*ms: Any) -> str | None:
    return next((m["currencyCode"] for m in ms if isinstance(m, dict) and m.get("currencyCode")), None)


def _day(v: Any) -> date | None:
    return date.fromisoformat(v) if isinstance(v, str) else None


def sales_traffic_row(rec: dict[str, Any]) -> dict[str, Any]:
    s, t = rec.get("sales") or {}, rec.get("traffic") or {}
    return {
        "start_date": _day(rec.get("startDate")),
        "end_date": _day(rec.get("endDate")),
        "marketplace_id": rec.get("marketplaceId"),
        "currency": _currency(s.get("orderedProductSales"), s.get("shippedProductSales")),
        "ordered_product_sales": _amount(s.get("orderedProductSales")),
        "ordered_product_sales_b2b": _amount(s.get("orderedProductSalesB2B")),
        "units_ordered": s.get("unitsOrdered"),
        "units_ordered_b2b": s.get("unitsOrderedB2B"),
        "total_order_items": s.get("totalOrderItems"),
        "total_order_items_b2b": s.get("totalOrderItemsB2B"),
        "units_refunded": s.get("unitsRefunded"),
        "units_shipped": s.get("unitsShipped"),
        "orders_shipped": s.get("ordersShipped"),
        "shipped_product_sales": _amount(s.get("shippedProductSales")),
        "refund_rate": s.get("refundRate"),
        "page_views": t.get("pageViews"),
        "sessions": t.get("sessions"),
        "browser_sessions": t.get("browserSessions"),
        "mobile_app_sessions": t.get("mobileAppSessions"),
        "buy_box_percentage": t.get("buyBoxPercentage"),
        "unit_session_percentage": t.get("unitSessionPercentage"),
        "order_item_session_percentage": t.get("orderItemSessionPercentage"),
        "average_offer_count": t.get("averageOfferCount"),
        "feedback_received": t.get("feedbackReceived"),
        "negative_feedback_received": t.get("negativeFeedbackReceived"),
    }


def economics_row(rec: dict[str, Any]) -> dict[str, Any]:
    s = rec.get("sales") or {}
    fees = []
    for f in rec.get("fees") or []:
        detail = ((f or {}).get("charge") or {}).get("aggregatedDetail") or {}
        fees.append(
            {
                "fee_type_name": f.get("feeTypeName"),
                "total_amount": _amount(detail.get("totalAmount")),
                "quantity": detail.get("quantity"),
            }
        )
    ads = [_amount(((a or {}).get("charge") or {}).get("totalAmount")) for a in rec.get("ads") or []]
    return {
        "start_date": _day(rec.get("startDate")),
        "end_date": _day(rec.get("endDate")),
        "marketplace_id": rec.get("marketplaceId"),
        "parent_asin": rec.get("parentAsin"),
        "child_asin": rec.get("childAsin"),
        "msku": rec.get("msku"),
        "fnsku": rec.get("fnsku"),
        "currency": _currency(s.get("orderedProductSales"), (rec.get("netProceeds") or {}).get("total")),
        "units_ordered": s.get("unitsOrdered"),
        "units_refunded": s.get("unitsRefunded"),
        "net_units_sold": s.get("netUnitsSold"),
        "ordered_product_sales": _amount(s.get("orderedProductSales")),
        "refunded_product_sales": _amount(s.get("refundedProductSales")),
        "net_product_sales": _amount(s.get("netProductSales")),
        "fees": fees,
        "fees_total": round(sum(f["total_amount"] or 0.0 for f in fees), 2),
        "ads_total": round(sum(a or 0.0 for a in ads), 2),
        "net_proceeds": _amount((rec.get("netProceeds") or {}).get("total")),
    }


def _path(rec: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        rec = rec.get(part) if isinstance(rec, dict) else None
    return rec


def user_row(rec: dict[str, Any], key: tuple[str, ...]) -> dict[str, Any]:
    fields = key or tuple(sorted(k for k, v in rec.items() if not isinstance(v, dict | list)))
    return {
        "record_key": json.dumps({k: _path(rec, k) for k in fields}, sort_keys=True, separators=(",", ":")),
        "marketplace_id": rec.get("marketplaceId") if isinstance(rec.get("marketplaceId"), str) else None,
        "record": json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
    }


@dataclass(frozen=True)
class DeclaredQuery:
    name: str
    query: str
    table: TableSpec
    row: Callable[[dict[str, Any]], dict[str, Any]]


DECLARED: dict[str, DeclaredQuery] = {
    "sales_traffic_by_date": DeclaredQuery(
        "sales_traffic_by_date",
        SALES_TRAFFIC_BY_DATE_QUERY,
        TableSpec(
            name="dk_sales_traffic_by_date",
            schema=DK_SALES_TRAFFIC_BY_DATE,
            key_columns=("start_date", "end_date"),
            replace="key",
            partition_by=(*_PART, ("start_date", "month")),
            description="Data Kiosk analytics_salesAndTraffic_2024_04_24 salesAndTrafficByDate (DAY)",
        ),
        sales_traffic_row,
    ),
    "economics": DeclaredQuery(
        "economics",
        ECONOMICS_QUERY,
        TableSpec(
            name="dk_economics",
            schema=DK_ECONOMICS,
            key_columns=("start_date", "end_date", "msku", "fnsku", "child_asin"),
            replace="key",
            partition_by=(*_PART, ("start_date", "month")),
            description="Data Kiosk analytics_economics_2024_03_15 economics (DAY, MSKU)",
        ),
        economics_row,
    ),
}


def user_table(name: str) -> TableSpec:
    return TableSpec(
        name=f"dk_{name}",
        schema=DK_USER,
        key_columns=("record_key",),
        replace="key",
        partition_by=_PART,
        description=f"Data Kiosk user query {name!r}: one row per record (key fields → record_key)",
    )
