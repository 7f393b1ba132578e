"""Vendor Orders v1: purchase orders (``getPurchaseOrders`` by a ``changedAfter`` cursor, details
included) and their status (``getPurchaseOrdersStatus`` by ``updatedAfter``), landed into
``vendor_purchase_orders`` (one row per PO, latest state), ``vendor_purchase_order_items`` (one row per
PO line) and ``vendor_purchase_order_status`` (one row per PO line: confirmation, accepted/rejected and
received quantities). Cursor: namespace ``"cursors"``, sort keys ``api#vendor_orders`` /
``api#vendor_order_status`` (value ``before``), moved only after the rows are committed. POs carry no
marketplace id: rows land under the vendor account's first configured marketplace.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from splake.config import AccountSettings
from splake.items.api import SpApi, body_of
from splake.items.context import ItemsContext
from splake.items.convert import parse_time, to_table
from splake.items.schemas import TS, S, _struct
from splake.items.values import amount, api_time
from splake.lake.tables import Provenance, TableSpec
from splake.logs import get_logger, log_event

log = get_logger(__name__)
CURSORS = "cursors"
MAX_PAGES = 10_000
I = pa.int64()  # noqa: E741
F = pa.float64()
QTY = _struct(amount=I, unit_of_measure=S, unit_size=I)

PO_SCHEMA = pa.schema(
    [
        pa.field("purchase_order_number", S, nullable=False),
        pa.field("marketplace_id", S),
        pa.field("purchase_order_state", S),
        pa.field("purchase_order_date", TS),
        pa.field("purchase_order_changed_date", TS),
        pa.field("purchase_order_state_changed_date", TS),
        pa.field("purchase_order_type", S),
        pa.field("payment_method", S),
        pa.field("deal_code", S),
        pa.field("buying_party_id", S),
        pa.field("selling_party_id", S),
        pa.field("ship_to_party_id", S),
        pa.field("bill_to_party_id", S),
        pa.field("ship_window", S),
        pa.field("delivery_window", S),
        pa.field("item_count", I),
        pa.field("fetched_at", TS, nullable=False),
    ]
)
PO_ITEM_SCHEMA = pa.schema(
    [
        pa.field("purchase_order_number", S, nullable=False),
        pa.field("item_sequence_number", S, nullable=False),
        pa.field("marketplace_id", S),
        pa.field("asin", S),
        pa.field("vendor_product_identifier", S),
        pa.field("ordered_quantity", QTY),
        pa.field("is_back_order_allowed", pa.bool_()),
        pa.field("currency", S),
        pa.field("net_cost", F),
        pa.field("list_price", F),
        pa.field("fetched_at", TS, nullable=False),
    ]
)
PO_STATUS_SCHEMA = pa.schema(
    [
        pa.field("purchase_order_number", S, nullable=False),
        pa.field("item_sequence_number", S, nullable=False),
        pa.field("marketplace_id", S),
        pa.field("purchase_order_status", S),
        pa.field("purchase_order_date", TS),
        pa.field("last_updated_date", TS),
        pa.field("asin", S),
        pa.field("vendor_product_identifier", S),
        pa.field("ordered_quantity", I),
        pa.field("confirmation_status", S),
        pa.field("accepted_quantity", I),
        pa.field("rejected_quantity", I),
        pa.field("receive_status", S),
        pa.field("received_quantity", I),
        pa.field("last_receive_date", TS),
        pa.field("fetched_at", TS, nullable=False),
    ]
)
_PART = (("account_id", "identity"), ("marketplace_id", "identity"))
VENDOR_PO_TABLE = TableSpec(
    name="vendor_purchase_orders",
    schema=PO_SCHEMA,
    key_columns=("purchase_order_number",),
    replace="key",
    partition_by=_PART,
    description="Vendor Orders getPurchaseOrders (changedAfter cursor): latest state of each purchase order",
)
VENDOR_PO_ITEMS_TABLE = TableSpec(
    name="vendor_purchase_order_items",
    schema=PO_ITEM_SCHEMA,
    key_columns=("purchase_order_number", "item_sequence_number"),
    replace="key",
    partition_by=_PART,
    description="Vendor Orders purchase order lines (latest)",
)
VENDOR_PO_STATUS_TABLE = TableSpec(
    name="vendor_purchase_order_status",
    schema=PO_STATUS_SCHEMA,
    key_columns=("purchase_order_number", "item_sequence_number"),
    replace="key",
    partition_by=_PART,
    description="Vendor Orders getPurchaseOrdersStatus (updatedAfter cursor): latest status per PO line",
)


def _qty(q: Any) -> dict[str, Any] | None:
    if not isinstance(q, dict):
        return None
    return {
        "amount": q.get("amount"),
        "unit_of_measure": q.get("unitOfMeasure"),
        "unit_size": q.get("unitSize"),
    }


def po_rows(po: dict[str, Any], mp: str, fetched_at: datetime) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    d = po.get("orderDetails") or {}
    items = d.get("items") or []
    head = {
        "purchase_order_number": po["purchaseOrderNumber"],
        "marketplace_id": mp,
        "purchase_order_state": po.get("purchaseOrderState"),
        "purchase_order_date": parse_time(d.get("purchaseOrderDate")),
        "purchase_order_changed_date": parse_time(d.get("purchaseOrderChangedDate")),
        "purchase_order_state_changed_date": parse_time(d.get("purchaseOrderStateChangedDate")),
        "purchase_order_type": d.get("purchaseOrderType"),
        "payment_method": d.get("paymentMethod"),
        "deal_code": d.get("dealCode"),
        "buying_party_id": (d.get("buyingParty") or {}).get("partyId"),
        "selling_party_id": (d.get("sellingParty") or {}).get("partyId"),
        "ship_to_party_id": (d.get("shipToParty") or {}).get("partyId"),
        "bill_to_party_id": (d.get("billToParty") or {}).get("partyId"),
        "ship_window": d.get("shipWindow"),
        "delivery_window": d.get("deliveryWindow"),
        "item_count": len(items),
        "fetched_at": fetched_at,
    }
    lines = [
        {
            "purchase_order_number": po["purchaseOrderNumber"],
            "item_sequence_number": str(i.get("itemSequenceNumber")),
            "marketplace_id": mp,
            "asin": i.get("amazonProductIdentifier"),
            "vendor_product_identifier": i.get("vendorProductIdentifier"),
            "ordered_quantity": _qty(i.get("orderedQuantity")),
            "is_back_order_allowed": i.get("isBackOrderAllowed"),
            "currency": (i.get("netCost") or i.get("listPrice") or {}).get("currencyCode"),
            "net_cost": amount(i.get("netCost")),
            "list_price": amount(i.get("listPrice")),
            "fetched_at": fetched_at,
        }
        for i in items
    ]
    return head, lines


def status_rows(st: dict[str, Any], mp: str, fetched_at: datetime) -> list[dict[str, Any]]:
    out = []
    for i in st.get("itemStatus") or []:
        ack = i.get("acknowledgementStatus") or {}
        rec = i.get("receivingStatus") or {}
        out.append(
            {
                "purchase_order_number": st["purchaseOrderNumber"],
                "item_sequence_number": str(i.get("itemSequenceNumber")),
                "marketplace_id": mp,
                "purchase_order_status": st.get("purchaseOrderStatus"),
                "purchase_order_date": parse_time(st.get("purchaseOrderDate")),
                "last_updated_date": parse_time(st.get("lastUpdatedDate")),
                "asin": i.get("buyerProductIdentifier"),
                "vendor_product_identifier": i.get("vendorProductIdentifier"),
                "ordered_quantity": ((i.get("orderedQuantity") or {}).get("orderedQuantity") or {}).get(
                    "amount"
                ),
                "confirmation_status": ack.get("confirmationStatus"),
                "accepted_quantity": (ack.get("acceptedQuantity") or {}).get("amount"),
                "rejected_quantity": (ack.get("rejectedQuantity") or {}).get("amount"),
                "receive_status": rec.get("receiveStatus"),
                "received_quantity": (rec.get("receivedQuantity") or {}).get("amount"),
                "last_receive_date": parse_time(rec.get("lastReceiveDate")),
                "fetched_at": fetched_at,
            }
        )
    return out


async def _pages(
    api: SpApi, account: AccountSettings, op: str, params: dict[str, Any], key: str
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        payload = body_of(await api.call(account, op, params=params)).get("payload") or {}
        out.extend(payload.get(key) or [])
        token = (payload.get("pagination") or {}).get("nextToken")
        if not token:
            return out
        params = {"nextToken": token}
    return out


@dataclass
class VendorOrdersResult:
    purchase_orders: int = 0
    items: int = 0
    status_lines: int = 0
    after: datetime | None = None
    before: datetime | None = None


async def sync_vendor_orders(
    ctx: ItemsContext, account: AccountSettings, *, now: datetime
) -> VendorOrdersResult:
    """POs changed since the cursor (or the lookback), then the status of POs updated since its cursor."""
    mp = account.marketplaces[0]
    result = VendorOrdersResult(before=now)
    default_after = now - timedelta(days=max(1, ctx.settings.sync.lookback_days))
    for sk, op, key, after_name, before_name, extra in (
        (
            "api#vendor_orders",
            "getPurchaseOrders",
            "orders",
            "changedAfter",
            "changedBefore",
            {"includeDetails": "true"},
        ),
        (
            "api#vendor_order_status",
            "getPurchaseOrdersStatus",
            "ordersStatus",
            "updatedAfter",
            "updatedBefore",
            {},
        ),
    ):
        cursor = await asyncio.to_thread(ctx.state.get, CURSORS, account.id, sk)
        after = parse_time((cursor or {}).get("before")) or default_after
        result.after = after
        params = {
            after_name: api_time(after),
            before_name: api_time(now),
            "limit": 100,
            "sortOrder": "ASC",
            **extra,
        }
        found = await _pages(ctx.client, account, op, params, key)
        await asyncio.to_thread(_land, ctx, account, mp, op, found, after, now, result)
        await asyncio.to_thread(
            ctx.state.put,
            CURSORS,
            account.id,
            sk,
            {"before": now.isoformat()},
            expect_version=(cursor or {}).get("_version", 0),
        )
    log_event(
        log,
        "vendor_orders_synced",
        account_id=account.id,
        purchase_orders=result.purchase_orders,
        status_lines=result.status_lines,
    )
    return result


def _land(
    ctx: ItemsContext,
    account: AccountSettings,
    mp: str,
    op: str,
    found: list[dict[str, Any]],
    after: datetime,
    now: datetime,
    result: VendorOrdersResult,
) -> None:
    source_id = f"{op}-{after.strftime('%Y%m%dT%H%M%SZ')}-{now.strftime('%Y%m%dT%H%M%SZ')}"
    ref = ctx.raw.put_records(
        account.id,
        "api",
        source_id,
        found,
        {"type": "vendorOrders", "operation": op, "after": after.isoformat(), "before": now.isoformat()},
        day=now.date(),
    )
    if not found:
        return
    prov = Provenance(
        account_id=account.id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=now,
        data_start=after,
        data_end=now,
        marketplace_id=mp,
    )
    if op == "getPurchaseOrders":
        heads, lines = [], []
        for po in found:
            h, ls = po_rows(po, mp, now)
            heads.append(h)
            lines += ls
        ctx.lake.write(VENDOR_PO_TABLE, to_table(heads, PO_SCHEMA), prov)
        if lines:
            ctx.lake.write(VENDOR_PO_ITEMS_TABLE, to_table(lines, PO_ITEM_SCHEMA), prov)
        result.purchase_orders += len(heads)
        result.items += len(lines)
    else:
        rows = [r for st in found for r in status_rows(st, mp, now)]
        if rows:
            ctx.lake.write(VENDOR_PO_STATUS_TABLE, to_table(rows, PO_STATUS_SCHEMA), prov)
        result.status_lines += len(rows)
