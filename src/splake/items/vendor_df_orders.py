"""Vendor Direct Fulfillment Orders 2021-12-28 (``vendorDirectFulfillmentOrders_2021-12-28.getOrders``):
the orders Amazon customers placed that the vendor ships itself, landed into ``vendor_df_orders`` (one
row per order, latest status) and ``vendor_df_order_items`` (one row per line).

The API filters by creation time only (createdAfter and createdBefore are both required), so each run
reads from the cursor — pulled back to the last ``[sync].lookback_days`` so status changes (NEW →
ACCEPTED → SHIPPED) are seen again — to now (cursor: namespace ``"cursors"``, sort key
``api#vendor_df_orders``). ``shipToParty`` is the customer's address: only its city, state, postal code and
country land, unless the account sets ``pii = true`` (then name and street land in ``pii_ship_to``);
the raw zone never holds them. Rows land under the account's first configured marketplace.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from splake.config import AccountSettings
from splake.items.api import body_of
from splake.items.context import ItemsContext
from splake.items.convert import parse_time, to_table
from splake.items.schemas import TS, S, _struct
from splake.items.values import amount, api_time
from splake.lake.tables import Provenance, TableSpec
from splake.logs import get_logger, log_event

log = get_logger(__name__)
OP = "vendorDirectFulfillmentOrders_2021-12-28.getOrders"
CURSOR = "api#vendor_df_orders"
MAX_PAGES = 10_000
NON_PII = ("city", "stateOrRegion", "postalCode", "countryCode")
ADDRESS = _struct(city=S, state_or_region=S, postal_code=S, country_code=S)
PII_ADDRESS = _struct(name=S, attention=S, address_line1=S, address_line2=S, address_line3=S, phone=S)

DF_ORDER_SCHEMA = pa.schema(
    [
        pa.field("purchase_order_number", S, nullable=False),
        pa.field("marketplace_id", S),
        pa.field("customer_order_number", S),
        pa.field("order_date", TS),
        pa.field("order_status", S),
        pa.field("ship_method", S),
        pa.field("required_ship_date", TS),
        pa.field("promised_delivery_date", TS),
        pa.field("is_priority_shipment", pa.bool_()),
        pa.field("is_gift", pa.bool_()),
        pa.field("selling_party_id", S),
        pa.field("ship_from_party_id", S),
        pa.field("ship_to", ADDRESS),
        pa.field("pii_ship_to", PII_ADDRESS),  # only with [accounts].pii = true
        pa.field("item_count", pa.int64()),
        pa.field("fetched_at", TS, nullable=False),
    ]
)
DF_ITEM_SCHEMA = pa.schema(
    [
        pa.field("purchase_order_number", S, nullable=False),
        pa.field("item_sequence_number", S, nullable=False),
        pa.field("marketplace_id", S),
        pa.field("asin", S),
        pa.field("vendor_product_identifier", S),
        pa.field("title", S),
        pa.field("ordered_quantity", pa.int64()),
        pa.field("currency", S),
        pa.field("net_price", pa.float64()),
        pa.field("total_price", pa.float64()),
        pa.field("fetched_at", TS, nullable=False),
    ]
)
_PART = (("account_id", "identity"), ("marketplace_id", "identity"))
DF_ORDERS_TABLE = TableSpec(
    name="vendor_df_orders",
    schema=DF_ORDER_SCHEMA,
    key_columns=("purchase_order_number",),
    replace="key",
    partition_by=_PART,
    description="Vendor Direct Fulfillment orders (2021-12-28): latest status of each order",
)
DF_ITEMS_TABLE = TableSpec(
    name="vendor_df_order_items",
    schema=DF_ITEM_SCHEMA,
    key_columns=("purchase_order_number", "item_sequence_number"),
    replace="key",
    partition_by=_PART,
    description="Vendor Direct Fulfillment order lines",
)


def without_pii(order: dict[str, Any]) -> dict[str, Any]:
    """The order as returned, less the customer's name, street and phone (what the raw zone keeps)."""
    details = order.get("orderDetails")
    if not isinstance(details, dict) or not isinstance(details.get("shipToParty"), dict):
        return order
    ship_to = {k: v for k, v in details["shipToParty"].items() if k in NON_PII}
    return {**order, "orderDetails": {**details, "shipToParty": ship_to}}


def rows(
    order: dict[str, Any], mp: str, pii: bool, fetched_at: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    d = order.get("orderDetails") or {}
    ship = d.get("shipmentDetails") or {}
    dates = ship.get("shipmentDates") or {}
    to = d.get("shipToParty") or {}
    items = d.get("items") or []
    head = {
        "purchase_order_number": order["purchaseOrderNumber"],
        "marketplace_id": mp,
        "customer_order_number": d.get("customerOrderNumber"),
        "order_date": parse_time(d.get("orderDate")),
        "order_status": d.get("orderStatus"),
        "ship_method": ship.get("shipMethod"),
        "required_ship_date": parse_time(dates.get("requiredShipDate")),
        "promised_delivery_date": parse_time(dates.get("promisedDeliveryDate")),
        "is_priority_shipment": ship.get("isPriorityShipment"),
        "is_gift": ship.get("isGift"),
        "selling_party_id": (d.get("sellingParty") or {}).get("partyId"),
        "ship_from_party_id": (d.get("shipFromParty") or {}).get("partyId"),
        "ship_to": {
            "city": to.get("city"),
            "state_or_region": to.get("stateOrRegion"),
            "postal_code": to.get("postalCode"),
            "country_code": to.get("countryCode"),
        }
        if to
        else None,
        "pii_ship_to": {
            "name": to.get("name"),
            "attention": to.get("attention"),
            "address_line1": to.get("addressLine1"),
            "address_line2": to.get("addressLine2"),
            "address_line3": to.get("addressLine3"),
            "phone": to.get("phone"),
        }
        if pii and to
        else None,
        "item_count": len(items),
        "fetched_at": fetched_at,
    }
    lines = [
        {
            "purchase_order_number": order["purchaseOrderNumber"],
            "item_sequence_number": str(i.get("itemSequenceNumber")),
            "marketplace_id": mp,
            "asin": i.get("buyerProductIdentifier"),
            "vendor_product_identifier": i.get("vendorProductIdentifier"),
            "title": i.get("title"),
            "ordered_quantity": (i.get("orderedQuantity") or {}).get("amount"),
            "currency": (i.get("netPrice") or {}).get("currencyCode"),
            "net_price": amount(i.get("netPrice")),
            "total_price": amount(i.get("totalPrice")),
            "fetched_at": fetched_at,
        }
        for i in items
    ]
    return head, lines


@dataclass
class DfOrdersResult:
    orders: int = 0
    items: int = 0
    after: datetime | None = None
    before: datetime | None = None


async def sync_vendor_df_orders(
    ctx: ItemsContext, account: AccountSettings, *, now: datetime
) -> DfOrdersResult:
    cursor = await asyncio.to_thread(ctx.state.get, "cursors", account.id, CURSOR)
    lookback = now - timedelta(days=max(1, ctx.settings.sync.lookback_days))
    stored = parse_time((cursor or {}).get("before"))
    after = min(stored, lookback) if stored else lookback
    result = DfOrdersResult(after=after, before=now)
    params: dict[str, Any] = {
        "createdAfter": api_time(after),
        "createdBefore": api_time(now),
        "includeDetails": "true",
        "limit": 100,
        "sortOrder": "ASC",
    }
    found: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        body = body_of(await ctx.client.call(account, OP, params=params))
        found.extend(body.get("orders") or [])
        token = (body.get("pagination") or {}).get("nextToken")
        if not token:
            break
        params = {"nextToken": token}
    await asyncio.to_thread(_land, ctx, account, found, after, now, result)
    await asyncio.to_thread(
        ctx.state.put,
        "cursors",
        account.id,
        CURSOR,
        {"before": now.isoformat()},
        expect_version=(cursor or {}).get("_version", 0),
    )
    log_event(log, "vendor_df_orders_synced", account_id=account.id, orders=result.orders, items=result.items)
    return result


def _land(
    ctx: ItemsContext,
    account: AccountSettings,
    found: list[dict[str, Any]],
    after: datetime,
    now: datetime,
    result: DfOrdersResult,
) -> None:
    mp = account.marketplaces[0]
    source_id = f"vendor-df-orders-{after.strftime('%Y%m%dT%H%M%SZ')}-{now.strftime('%Y%m%dT%H%M%SZ')}"
    ref = ctx.raw.put_records(
        account.id,
        "api",
        source_id,
        (without_pii(o) for o in found),
        {
            "type": "vendorDirectFulfillmentOrders_2021-12-28",
            "operation": "getOrders",
            "created_after": after.isoformat(),
            "created_before": now.isoformat(),
        },
        day=now.date(),
    )
    if not found:
        return
    heads, lines = [], []
    for o in found:
        h, ls = rows(o, mp, account.pii, now)
        heads.append(h)
        lines += ls
    prov = Provenance(
        account_id=account.id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=now,
        data_start=after,
        data_end=now,
        marketplace_id=mp,
    )
    ctx.lake.write(DF_ORDERS_TABLE, to_table(heads, DF_ORDER_SCHEMA), prov)
    if lines:
        ctx.lake.write(DF_ITEMS_TABLE, to_table(lines, DF_ITEM_SCHEMA), prov)
    result.orders, result.items = len(heads), len(lines)
