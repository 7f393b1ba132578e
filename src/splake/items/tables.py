"""Curated items tables, declared as data: latest state (one row per key) and history (every fetch)."""

from __future__ import annotations

from splake.items.schemas import (
    CATALOG_ITEMS,
    FBA_INVENTORY_SUMMARIES,
    FINANCIAL_EVENT_GROUPS,
    FINANCIAL_SHIPMENT_EVENTS,
    FINANCIAL_TRANSACTIONS,
    LISTINGS_ITEMS,
    ORDER_ITEMS_API,
    ORDERS_API,
)
from splake.lake.tables import TableSpec

_PART = (("account_id", "identity"), ("marketplace_id", "identity"))

CATALOG_ITEMS_LATEST = TableSpec(
    name="catalog_items",
    schema=CATALOG_ITEMS,
    key_columns=("asin",),
    replace="key",
    partition_by=_PART,
    description="Catalog Items 2022-04-01, latest fetch per (account, marketplace, ASIN)",
)
CATALOG_ITEMS_HISTORY = TableSpec(
    name="catalog_items_history",
    schema=CATALOG_ITEMS,
    key_columns=("asin", "fetched_at"),
    replace="key",  # key includes fetched_at: every fetch is kept
    partition_by=(*_PART, ("fetched_at", "month")),
    description="Catalog Items 2022-04-01, every fetch",
)
LISTINGS_ITEMS_LATEST = TableSpec(
    name="listings_items",
    schema=LISTINGS_ITEMS,
    key_columns=("seller_id", "sku"),
    replace="key",
    partition_by=_PART,
    description="Listings Items 2021-08-01, latest fetch per (account, marketplace, seller, SKU)",
)
LISTINGS_ITEMS_HISTORY = TableSpec(
    name="listings_items_history",
    schema=LISTINGS_ITEMS,
    key_columns=("seller_id", "sku", "fetched_at"),
    replace="key",  # key includes fetched_at: every fetch is kept
    partition_by=(*_PART, ("fetched_at", "month")),
    description="Listings Items 2021-08-01, every fetch",
)

ITEM_TABLES: tuple[TableSpec, ...] = (
    CATALOG_ITEMS_LATEST,
    CATALOG_ITEMS_HISTORY,
    LISTINGS_ITEMS_LATEST,
    LISTINGS_ITEMS_HISTORY,
)

ORDERS_API_TABLE = TableSpec(
    name="orders_api",
    schema=ORDERS_API,
    key_columns=("amazon_order_id",),
    replace="key",
    partition_by=_PART,
    description="Orders v0 getOrders (LastUpdatedAfter cursor): latest version of each order",
)
ORDER_ITEMS_API_TABLE = TableSpec(
    name="order_items_api",
    schema=ORDER_ITEMS_API,
    key_columns=("amazon_order_id", "order_item_id"),
    replace="key",
    partition_by=_PART,
    description="Orders v0 getOrderItems: latest version of each order item",
)
FINANCIAL_SHIPMENT_EVENTS_TABLE = TableSpec(
    name="financial_shipment_events",
    schema=FINANCIAL_SHIPMENT_EVENTS,
    key_columns=("amazon_order_id", "posted_date"),
    replace="window",
    window_column="posted_date",
    partition_by=(*_PART, ("posted_date", "month")),
    description="Finances v0 ShipmentEventList; a re-fetched PostedAfter/Before slice replaces its rows",
)
FBA_INVENTORY_TABLE = TableSpec(
    name="fba_inventory_summaries",
    schema=FBA_INVENTORY_SUMMARIES,
    key_columns=("seller_sku",),
    replace="snapshot",
    partition_by=_PART,
    description="FBA Inventory getInventorySummaries: the current snapshot per marketplace",
)
FBA_INVENTORY_HISTORY_TABLE = TableSpec(
    name="fba_inventory_summaries_history",
    schema=FBA_INVENTORY_SUMMARIES,
    key_columns=("seller_sku", "fetched_at"),
    replace="key",  # key includes fetched_at: every fetch is kept
    partition_by=(*_PART, ("fetched_at", "month")),
    description="FBA Inventory getInventorySummaries, every fetch",
)
FINANCIAL_TRANSACTIONS_TABLE = TableSpec(
    name="financial_transactions",
    schema=FINANCIAL_TRANSACTIONS,
    key_columns=("transaction_id",),
    replace="key",
    partition_by=(*_PART, ("posted_date", "month")),
    description="Finances 2024-06-19 listTransactions (postedAfter cursor): latest state of each transaction",
)
FINANCIAL_EVENT_GROUPS_TABLE = TableSpec(
    name="financial_event_groups",
    schema=FINANCIAL_EVENT_GROUPS,
    key_columns=("financial_event_group_id",),
    replace="key",
    partition_by=(("account_id", "identity"),),
    description="Finances v0 listFinancialEventGroups: settlement groups, latest state (Open → Closed)",
)
