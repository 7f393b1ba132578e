"""Orders (2026-01-01, v0 fallback): fetch by a last-updated cursor, then land (raw NDJSON.gz + curated
tables).

By a last-updated cursor (state namespace ``"cursors"``, sort key ``api#orders``), before = now - 2 min
(Amazon's rule). Orders 2026-01-01 ``searchOrders`` first (items and, with ``pii = true``, buyer/recipient
inline; see ``items/orders_2026.py``, which maps them to the v0 shape so row keys and columns do not
change); where the application has no access to it (403/404), Orders v0: ``getOrders`` (``NextToken`` sent
alone) + ``getOrderItems`` per order, PII through one Restricted Data Token for ``GET /orders/v0/orders``
with dataElements buyerInfo + shippingAddress. PII lands only in the curated ``pii_*`` columns, never in
the raw zone. The cursor advances only after the rows are committed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from splake.config import AccountSettings
from splake.errors import ApiError
from splake.items.api import SpApi, body_of, csv_param
from splake.items.context import ItemsContext
from splake.items.convert import parse_time, to_table
from splake.items.next_token import MAX_PAGES
from splake.items.orders_2026 import fetch_orders_2026
from splake.items.plan import clamp_before
from splake.items.schemas import ORDER_ITEMS_API, ORDERS_API
from splake.items.snake import shape_row, snake_keys
from splake.items.tables import ORDER_ITEMS_API_TABLE, ORDERS_API_TABLE
from splake.items.values import api_time
from splake.lake.tables import Provenance
from splake.logs import get_logger, log_event

log = get_logger(__name__)

CURSORS = "cursors"
ORDERS_CURSOR = "api#orders"

PII_ELEMENTS = ("buyerInfo", "shippingAddress")


async def fetch_orders(
    api: SpApi, account: AccountSettings, after: datetime, before: datetime, *, pii: bool = False
) -> list[dict[str, Any]]:
    """getOrders pages; with ``pii`` through an RDT covering buyer info and the full shipping address."""
    params: dict[str, Any] = {
        "MarketplaceIds": csv_param(account.marketplaces),
        "LastUpdatedAfter": api_time(after),
        "LastUpdatedBefore": api_time(before),
        "MaxResultsPerPage": 100,
    }
    orders: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        resp = await api.call(
            account, "getOrders", params=params, rdt_elements=list(PII_ELEMENTS) if pii else None
        )
        payload = body_of(resp).get("payload") or {}
        orders.extend(payload.get("Orders") or [])
        token = payload.get("NextToken")
        if not token:
            break
        params = {"NextToken": token}  # NextToken must be the only parameter
    return orders


async def fetch_order_items(api: SpApi, account: AccountSettings, order_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    params: dict[str, Any] = {}
    for _ in range(MAX_PAGES):
        resp = await api.call(account, "getOrderItems", path={"orderId": order_id}, params=params or None)
        payload = body_of(resp).get("payload") or {}
        items.extend(payload.get("OrderItems") or [])
        if not payload.get("NextToken"):
            break
        params = {"NextToken": payload["NextToken"]}
    return items


PII_ADDRESS_FIELDS = ("Name", "AddressLine1", "AddressLine2", "AddressLine3", "Phone", "CompanyName")


def split_pii(order: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(order without PII — what the raw zone keeps —, the PII columns)."""
    address = order.get("ShippingAddress") or {}
    clean = {k: v for k, v in order.items() if k != "BuyerInfo"}
    if address:
        clean["ShippingAddress"] = {k: v for k, v in address.items() if k not in PII_ADDRESS_FIELDS}
    pii: dict[str, Any] = {}
    if any(k in address for k in PII_ADDRESS_FIELDS):
        pii["pii_shipping_address"] = snake_keys(address)
    if order.get("BuyerInfo"):
        pii["pii_buyer_info"] = snake_keys(order["BuyerInfo"])
    return clean, pii


def order_row(order: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    """The curated row: PII (present only when fetched with an RDT) goes to the ``pii_*`` columns."""
    clean, pii = split_pii(order)
    raw = snake_keys(clean)
    raw.update(pii)
    raw["fetched_at"] = fetched_at
    return shape_row(raw, ORDERS_API)


def order_item_rows(
    order: dict[str, Any], items: list[dict[str, Any]], fetched_at: datetime
) -> list[dict[str, Any]]:
    out = []
    for item in items:
        raw = snake_keys(item)
        raw.update(
            {
                "amazon_order_id": order["AmazonOrderId"],
                "marketplace_id": order.get("MarketplaceId"),
                "seller_sku": item.get("SellerSKU"),
                "asin": item.get("ASIN"),
                "fetched_at": fetched_at,
            }
        )
        out.append(shape_row(raw, ORDER_ITEMS_API))
    return out


@dataclass
class OrdersResult:
    orders: int = 0
    order_items: int = 0
    after: datetime | None = None
    before: datetime | None = None
    raw_key: str | None = None
    api_version: str | None = None  # "2026-01-01", or "v0" where the new API is unavailable
    raw_2026: list[dict[str, Any]] | None = None  # searchOrders' orders as returned, less PII


async def sync_orders(
    ctx: ItemsContext, account: AccountSettings, *, now: datetime, concurrency: int = 8
) -> OrdersResult:
    """Fetch orders updated since the cursor (or the lookback) and land them; then advance the cursor."""
    cursor = await asyncio.to_thread(ctx.state.get, CURSORS, account.id, ORDERS_CURSOR)
    after = parse_time((cursor or {}).get("last_updated_before")) or now - timedelta(
        days=max(1, ctx.settings.sync.lookback_days)
    )
    before = clamp_before(now, now)
    result = OrdersResult(after=after, before=before)
    if before <= after:
        return result
    fetched = await fetch_orders_any(ctx, account, after, before, result, concurrency=concurrency)
    result.orders = len(fetched)
    result.order_items = sum(len(f[1]) for f in fetched)
    await asyncio.to_thread(_land_orders, ctx, account, fetched, now, after, before, result)
    # Durable first, then move the cursor.
    stored = cursor or {}
    await asyncio.to_thread(
        ctx.state.put,
        CURSORS,
        account.id,
        ORDERS_CURSOR,
        {"last_updated_before": before.isoformat(), "orders": result.orders},
        expect_version=stored.get("_version", 0),
    )
    log_event(log, "orders_synced", account_id=account.id, orders=result.orders, items=result.order_items)
    return result


async def fetch_orders_any(
    ctx: ItemsContext,
    account: AccountSettings,
    after: datetime,
    before: datetime,
    result: OrdersResult,
    *,
    concurrency: int = 8,
) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Orders 2026-01-01 ``searchOrders`` (items inline); Orders v0 ``getOrders`` + ``getOrderItems`` only
    where the new API is unavailable to the application (403/404). Both give v0-shaped (order, items)."""
    try:
        fetched, raw = await fetch_orders_2026(ctx.client, account, after, before, pii=account.pii)
        result.api_version = "2026-01-01"
        result.raw_2026 = raw
        return fetched
    except ApiError as exc:
        if exc.status not in (403, 404):
            raise
        log_event(log, "orders_v0_fallback", account_id=account.id, status=exc.status)
    orders = await fetch_orders(ctx.client, account, after, before, pii=account.pii)
    sem = asyncio.Semaphore(concurrency)

    async def details(order: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        async with sem:
            return order, await fetch_order_items(ctx.client, account, order["AmazonOrderId"])

    result.api_version = "v0"
    return list(await asyncio.gather(*(details(o) for o in orders)))


def _land_orders(
    ctx: ItemsContext,
    account: AccountSettings,
    fetched: list[tuple[dict[str, Any], list[dict[str, Any]]]],
    now: datetime,
    after: datetime,
    before: datetime,
    result: OrdersResult,
) -> None:
    source_id = f"orders-{after.strftime('%Y%m%dT%H%M%SZ')}-{before.strftime('%Y%m%dT%H%M%SZ')}"
    # PII never goes to the raw zone: the raw record holds the order and items as getOrders returns them.
    # The raw zone keeps what the API returned (less PII): searchOrders' orders, or v0 orders + items.
    records: Any = (
        ({"order": o} for o in result.raw_2026)
        if result.raw_2026 is not None
        else ({"order": split_pii(o)[0], "items": items} for o, items in fetched)
    )
    ref = ctx.raw.put_records(
        account.id,
        "api",
        source_id,
        records,
        {
            "type": "orders_2026-01-01" if result.raw_2026 is not None else "ordersV0",
            "operation": "searchOrders" if result.raw_2026 is not None else "getOrders+getOrderItems",
            "marketplaces": list(account.marketplaces),
            "last_updated_after": after.isoformat(),
            "last_updated_before": before.isoformat(),
        },
        day=now.date(),
    )
    result.raw_key = ref.key
    if not fetched:
        return
    prov = Provenance(
        account_id=account.id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=now,
        data_start=after,
        data_end=before,
        marketplace_ids=tuple(account.marketplaces),
    )
    ctx.lake.write(ORDERS_API_TABLE, to_table([order_row(o, now) for o, _items in fetched], ORDERS_API), prov)
    item_rows = [r for o, items in fetched for r in order_item_rows(o, items, now)]
    if item_rows:
        ctx.lake.write(ORDER_ITEMS_API_TABLE, to_table(item_rows, ORDER_ITEMS_API), prov)
