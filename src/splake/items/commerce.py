"""All the commerce APIs of an account, per account: orders (``items/orders.py``), finances
(``items/finances.py``), transactions (``items/transactions.py``), FBA inventory (``items/fba_inventory.py``)
and Data Kiosk (``items/data_kiosk.py``) for sellers; purchase orders (``items/vendor_orders.py``) and
Direct Fulfillment orders (``items/vendor_df_orders.py``) for vendors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from splake.config import AccountSettings
from splake.errors import ApiError
from splake.items.context import ItemsContext
from splake.items.data_kiosk import sync_data_kiosk
from splake.items.fba_inventory import sync_inventory
from splake.items.finances import sync_finances
from splake.items.orders import sync_orders
from splake.items.transactions import sync_event_groups, sync_transactions
from splake.items.vendor_df_orders import sync_vendor_df_orders
from splake.items.vendor_orders import sync_vendor_orders
from splake.logs import get_logger, log_event

log = get_logger(__name__)

COMMERCE_KINDS = ("orders", "finances", "transactions", "inventory", "data_kiosk", "vendor_orders")


async def _df_orders(ctx: ItemsContext, account: AccountSettings, when: datetime) -> dict[str, Any]:
    """Direct Fulfillment orders where the vendor has them: a 403 (no Direct Fulfillment role) is noted,
    not a failure."""
    try:
        df = await sync_vendor_df_orders(ctx, account, now=when)
    except ApiError as exc:
        if exc.status != 403:
            raise
        log_event(log, "vendor_df_orders_not_authorized", account_id=account.id)
        return {"skipped": "no Direct Fulfillment access (403)"}
    return {"orders": df.orders, "items": df.items}


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
            t = await sync_transactions(ctx, account, now=when)
            groups = await sync_event_groups(ctx, account, now=when)
            res["transactions"] = {
                "slices": t.slices,
                "transactions": t.transactions,
                "restarts": t.restarts,
                "event_groups": groups,
            }
        if "data_kiosk" in kinds:
            dk = await sync_data_kiosk(ctx, account, now=when)
            res["data_kiosk"] = dict(dk.queries)
        if "inventory" in kinds:
            i = await sync_inventory(ctx, account, now=when)
            res["inventory"] = dict(i.__dict__)
        out[account.id] = res
    return out
