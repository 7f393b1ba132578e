"""Orders (2026-01-01, v0 fallback), Finances v0 and FBA Inventory v1: fetch, then land (raw NDJSON.gz +
curated tables).

- **Orders**: by a last-updated cursor (state namespace ``"cursors"``, sort key ``api#orders``), before =
  now - 2 min (Amazon's rule). Orders 2026-01-01 ``searchOrders`` first (items and, with ``pii = true``,
  buyer/recipient inline; see ``items/orders_2026.py``, which maps them to the v0 shape so row keys and
  columns do not change); where the application has no access to it (403/404), Orders v0: ``getOrders``
  (``NextToken`` sent alone) + ``getOrderItems`` per order, PII through one Restricted Data Token for
  ``GET /orders/v0/orders`` with dataElements buyerInfo + shippingAddress. PII lands only in the curated
  ``pii_*`` columns, never in the raw zone. The cursor advances only after the rows are committed.
- **Finances**: ``listFinancialEvents`` in ``PostedAfter``/``PostedBefore`` slices. The NextToken expires
  (the trap): when a page request says the token expired, the whole slice is fetched again from its
  start (pages collected so far are dropped, so nothing is duplicated); a slice lands only when complete
  and replaces that window.
- **FBA inventory**: ``getInventorySummaries`` per marketplace; its nextToken expires after 30 s, so an
  expired token restarts the listing. Each complete listing replaces the marketplace's snapshot.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from splake.config import AccountSettings
from splake.errors import ApiError, RetryableError
from splake.items.api import SpApi, body_of, csv_param
from splake.items.context import ItemsContext
from splake.items.convert import parse_time, to_arrow_value, to_table
from splake.items.orders_2026 import fetch_orders_2026
from splake.items.plan import clamp_before, time_slices
from splake.items.schemas import (
    FBA_INVENTORY_SUMMARIES,
    FINANCIAL_SHIPMENT_EVENTS,
    ORDER_ITEMS_API,
    ORDERS_API,
)
from splake.items.tables import (
    FBA_INVENTORY_HISTORY_TABLE,
    FBA_INVENTORY_TABLE,
    FINANCIAL_SHIPMENT_EVENTS_TABLE,
    ORDER_ITEMS_API_TABLE,
    ORDERS_API_TABLE,
)
from splake.lake.tables import Provenance, ReplaceScope
from splake.logs import get_logger, log_event
from splake.spapi.marketplaces import MARKETPLACES

log = get_logger(__name__)

CURSORS = "cursors"
ORDERS_CURSOR = "api#orders"
MAX_PAGES = 10_000
MAX_RESTARTS = 3


class TokenExpiredError(RetryableError):
    code = "next_token_expired"


def is_token_expired(exc: BaseException) -> bool:
    return (
        isinstance(exc, ApiError)
        and exc.status == 400
        and "expired" in str(exc).lower()
        and "token" in str(exc).lower()
    )


def _shape(raw: dict[str, Any], schema: Any) -> dict[str, Any]:
    return {f.name: to_arrow_value(raw.get(f.name), f.type) for f in schema}


_WORD = re.compile(r"(.)([A-Z][a-z]+)")
_ACRONYM_END = re.compile(r"([a-z0-9])([A-Z])")


def snake(name: str) -> str:
    """``SellerSKU`` → ``seller_sku``, ``AddressLine1`` → ``address_line1``, ``ASIN`` → ``asin``."""
    return _ACRONYM_END.sub(r"\1_\2", _WORD.sub(r"\1_\2", name)).lower()


def _snake_keys(obj: Any) -> Any:
    """PascalCase (Orders/Finances v0) → snake_case, recursively."""
    if isinstance(obj, dict):
        return {snake(k): _snake_keys(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_snake_keys(v) for v in obj]
    return obj


# --- orders --------------------------------------------------------------------------------------------


PII_ELEMENTS = ("buyerInfo", "shippingAddress")


async def fetch_orders(
    api: SpApi, account: AccountSettings, after: datetime, before: datetime, *, pii: bool = False
) -> list[dict[str, Any]]:
    """getOrders pages; with ``pii`` through an RDT covering buyer info and the full shipping address."""
    params: dict[str, Any] = {
        "MarketplaceIds": csv_param(account.marketplaces),
        "LastUpdatedAfter": after.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "LastUpdatedBefore": before.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
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
        pii["pii_shipping_address"] = _snake_keys(address)
    if order.get("BuyerInfo"):
        pii["pii_buyer_info"] = _snake_keys(order["BuyerInfo"])
    return clean, pii


def order_row(order: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    """The curated row: PII (present only when fetched with an RDT) goes to the ``pii_*`` columns."""
    clean, pii = split_pii(order)
    raw = _snake_keys(clean)
    raw.update(pii)
    raw["fetched_at"] = fetched_at
    return _shape(raw, ORDERS_API)


def order_item_rows(
    order: dict[str, Any], items: list[dict[str, Any]], fetched_at: datetime
) -> list[dict[str, Any]]:
    out = []
    for item in items:
        raw = _snake_keys(item)
        raw.update(
            {
                "amazon_order_id": order["AmazonOrderId"],
                "marketplace_id": order.get("MarketplaceId"),
                "seller_sku": item.get("SellerSKU"),
                "asin": item.get("ASIN"),
                "fetched_at": fetched_at,
            }
        )
        out.append(_shape(raw, ORDER_ITEMS_API))
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


async def _df_orders(ctx: ItemsContext, account: AccountSettings, when: datetime) -> dict[str, Any]:
    """Direct Fulfillment orders where the vendor has them: a 403 (no Direct Fulfillment role) is noted,
    not a failure."""
    from splake.items.vendor_df_orders import sync_vendor_df_orders

    try:
        df = await sync_vendor_df_orders(ctx, account, now=when)
    except ApiError as exc:
        if exc.status != 403:
            raise
        log_event(log, "vendor_df_orders_not_authorized", account_id=account.id)
        return {"skipped": "no Direct Fulfillment access (403)"}
    return {"orders": df.orders, "items": df.items}


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


# --- finances ------------------------------------------------------------------------------------------


async def fetch_financial_slice(
    api: SpApi,
    account: AccountSettings,
    start: datetime,
    end: datetime,
    on_restart: Callable[[], None] | None = None,
    page_size: int = 100,
) -> list[dict[str, Any]]:
    """All ShipmentEvents posted in [start, end); restarts the slice when the NextToken expires."""
    first = {
        "PostedAfter": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "PostedBefore": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "MaxResultsPerPage": page_size,
    }
    for _attempt in range(MAX_RESTARTS + 1):
        events: list[dict[str, Any]] = []
        params: dict[str, Any] = first
        try:
            for _ in range(MAX_PAGES):
                payload = (
                    body_of(await api.call(account, "listFinancialEvents", params=params)).get("payload")
                    or {}
                )
                events.extend((payload.get("FinancialEvents") or {}).get("ShipmentEventList") or [])
                token = payload.get("NextToken")
                if not token:
                    return events
                params = {"NextToken": token}
        except ApiError as exc:
            if not is_token_expired(exc):
                raise
            log_event(
                log, "finances_next_token_expired", account_id=account.id, slice_start=first["PostedAfter"]
            )
            if on_restart:
                on_restart()
    raise TokenExpiredError(
        f"listFinancialEvents NextToken kept expiring for {first['PostedAfter']}..{first['PostedBefore']}",
        hint="use narrower slices (fewer pages per slice) or check that nothing stalls between pages",
    )


_MP_BY_NAME = {m.domain.removeprefix("www.").lower(): m.id for m in MARKETPLACES}


def shipment_event_row(event: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    raw = _snake_keys(event)
    items = event.get("ShipmentItemList") or []
    charges = [c for i in items for c in i.get("ItemChargeList") or []]
    fees = [f for i in items for f in i.get("ItemFeeList") or []]
    currency = next((c["ChargeAmount"].get("CurrencyCode") for c in charges if c.get("ChargeAmount")), None)
    raw.update(
        {
            "marketplace_id": _MP_BY_NAME.get(str(event.get("MarketplaceName") or "").lower()),
            "currency": currency,
            "principal": sum(
                float(c["ChargeAmount"].get("CurrencyAmount") or 0)
                for c in charges
                if c.get("ChargeType") == "Principal"
            ),
            "fees": sum(float((f.get("FeeAmount") or {}).get("CurrencyAmount") or 0) for f in fees),
            "shipment_items": _snake_keys(items),
            "fetched_at": fetched_at,
        }
    )
    return _shape(raw, FINANCIAL_SHIPMENT_EVENTS)


@dataclass
class FinancesResult:
    slices: int = 0
    events: int = 0
    restarts: int = 0


async def sync_finances(
    ctx: ItemsContext,
    account: AccountSettings,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    slice_width: timedelta = timedelta(days=1),
    page_size: int = 100,
) -> FinancesResult:
    result = FinancesResult()

    def restarted() -> None:
        result.restarts += 1

    for sl in time_slices(start, clamp_before(now, end), slice_width):
        events = await fetch_financial_slice(ctx.client, account, sl.start, sl.end, restarted, page_size)
        await asyncio.to_thread(_land_finances, ctx, account, events, sl.start, sl.end, now)
        result.slices += 1
        result.events += len(events)
    log_event(log, "finances_synced", account_id=account.id, **result.__dict__)
    return result


def _land_finances(
    ctx: ItemsContext,
    account: AccountSettings,
    events: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> None:
    source_id = f"financial-events-{start.strftime('%Y%m%dT%H%M%SZ')}-{end.strftime('%Y%m%dT%H%M%SZ')}"
    ref = ctx.raw.put_records(
        account.id,
        "api",
        source_id,
        events,
        {"type": "financesV0", "operation": "listFinancialEvents", "data_start": start, "data_end": end},
    )
    rows = [shipment_event_row(e, now) for e in events]
    prov = Provenance(
        account_id=account.id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=now,
        data_start=start,
        data_end=end,
        marketplace_ids=tuple(account.marketplaces),
    )
    ctx.lake.write(
        FINANCIAL_SHIPMENT_EVENTS_TABLE,
        to_table(rows, FINANCIAL_SHIPMENT_EVENTS),
        prov,
        ReplaceScope.window(start, end, account.marketplaces),
    )


# --- FBA inventory --------------------------------------------------------------------------------------


async def fetch_inventory(
    api: SpApi, account: AccountSettings, marketplace_id: str, on_restart: Callable[[], None] | None = None
) -> list[dict[str, Any]]:
    base = {
        "details": "true",
        "granularityType": "Marketplace",
        "granularityId": marketplace_id,
        "marketplaceIds": marketplace_id,
    }
    for _attempt in range(MAX_RESTARTS + 1):
        summaries: list[dict[str, Any]] = []
        params: dict[str, Any] = base
        try:
            for _ in range(MAX_PAGES):
                body = body_of(await api.call(account, "getInventorySummaries", params=params))
                summaries.extend((body.get("payload") or {}).get("inventorySummaries") or [])
                token = (body.get("pagination") or {}).get("nextToken")
                if not token:
                    return summaries
                params = {**base, "nextToken": token}
        except ApiError as exc:
            if not is_token_expired(exc):
                raise
            log_event(
                log, "inventory_next_token_expired", account_id=account.id, marketplace_id=marketplace_id
            )
            if on_restart:
                on_restart()
    raise TokenExpiredError(
        f"getInventorySummaries nextToken kept expiring for {marketplace_id} (it lives 30 s)",
        hint="the client is too slow between pages; check the rate limiter and concurrency settings",
    )


def inventory_row(summary: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    raw = _snake_keys(summary)
    raw["fulfillable_quantity"] = (summary.get("inventoryDetails") or {}).get("fulfillableQuantity")
    raw["fetched_at"] = fetched_at
    return _shape(raw, FBA_INVENTORY_SUMMARIES)


@dataclass
class InventoryResult:
    marketplaces: int = 0
    summaries: int = 0
    restarts: int = 0


async def sync_inventory(ctx: ItemsContext, account: AccountSettings, *, now: datetime) -> InventoryResult:
    result = InventoryResult()

    def restarted() -> None:
        result.restarts += 1

    for mp in account.marketplaces:
        summaries = await fetch_inventory(ctx.client, account, mp, restarted)
        await asyncio.to_thread(_land_inventory, ctx, account, mp, summaries, now)
        result.marketplaces += 1
        result.summaries += len(summaries)
    log_event(log, "inventory_synced", account_id=account.id, **result.__dict__)
    return result


def _land_inventory(
    ctx: ItemsContext, account: AccountSettings, mp: str, summaries: list[dict[str, Any]], now: datetime
) -> None:
    source_id = f"fba-inventory-{mp}-{now.strftime('%Y%m%dT%H%M%S%fZ')}"
    ref = ctx.raw.put_records(
        account.id,
        "api",
        source_id,
        summaries,
        {"type": "fbaInventory", "operation": "getInventorySummaries", "marketplaces": [mp]},
        day=now.date(),
    )
    prov = Provenance(
        account_id=account.id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=now,
        data_start=now,
        data_end=now,
        marketplace_id=mp,
    )
    table = to_table([inventory_row(s, now) for s in summaries], FBA_INVENTORY_SUMMARIES)
    ctx.lake.write(FBA_INVENTORY_TABLE, table, prov)
    if table.num_rows:
        ctx.lake.write(FBA_INVENTORY_HISTORY_TABLE, table, prov)


# --- all of it, per account ------------------------------------------------------------------------------

COMMERCE_KINDS = ("orders", "finances", "transactions", "inventory", "data_kiosk", "vendor_orders")


async def sync_commerce(
    ctx: ItemsContext,
    kinds: tuple[str, ...] = COMMERCE_KINDS,
    *,
    account_ids: tuple[str, ...] | None = None,
    now: datetime | None = None,
    finances_days: int | None = None,
) -> dict[str, dict[str, Any]]:
    """Orders / finances / transactions / FBA inventory / Data Kiosk for every seller account, vendor
    purchase orders for every vendor account. Finances cover the last ``finances_days`` (default: the sync
    lookback) in one-day slices."""
    when = now or datetime.now(UTC)
    out: dict[str, dict[str, Any]] = {}
    for account in ctx.settings.accounts:
        if account_ids and account.id not in account_ids:
            continue
        if account.type == "vendor":
            if "vendor_orders" in kinds:
                from splake.items.vendor_orders import sync_vendor_orders

                v = await sync_vendor_orders(ctx, account, now=when)
                vres: dict[str, Any] = {
                    "vendor_orders": {"purchase_orders": v.purchase_orders, "status_lines": v.status_lines}
                }
                vres["vendor_df_orders"] = await _df_orders(ctx, account, when)
                out[account.id] = vres
            continue
        res: dict[str, Any] = {}
        if "orders" in kinds:
            o = await sync_orders(ctx, account, now=when)
            res["orders"] = {"orders": o.orders, "order_items": o.order_items, "api_version": o.api_version}
        if "finances" in kinds:
            days = finances_days or max(1, ctx.settings.sync.lookback_days)
            start = (when - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
            f = await sync_finances(ctx, account, start, when, now=when)
            res["finances"] = dict(f.__dict__)
        if "transactions" in kinds:
            from splake.items.transactions import sync_event_groups, sync_transactions

            t = await sync_transactions(ctx, account, now=when)
            groups = await sync_event_groups(ctx, account, now=when)
            res["transactions"] = {
                "slices": t.slices,
                "transactions": t.transactions,
                "restarts": t.restarts,
                "event_groups": groups,
            }
        if "data_kiosk" in kinds:
            from splake.items.data_kiosk import sync_data_kiosk

            dk = await sync_data_kiosk(ctx, account, now=when)
            res["data_kiosk"] = dict(dk.queries)
        if "inventory" in kinds:
            i = await sync_inventory(ctx, account, now=when)
            res["inventory"] = dict(i.__dict__)
        out[account.id] = res
    return out
