"""Sandbox Orders API v0: getOrders, getOrderItems and the restricted getOrderAddress/getOrderBuyerInfo.

A Restricted Data Token for ``/orders/v0/orders`` with ``dataElements`` adds buyer info / the full address
to getOrders; the restricted per-order operations need an RDT for their own path.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.apis.common import b64, csv_param, digest, parse_dt, seller_account, ts, unb64
from splake.sandbox.catalog import language_of
from splake.sandbox.orders import VAT, Order, iter_orders
from splake.sandbox.responses import bad_request, not_found, sp_error, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState
from splake.spapi.marketplaces import marketplace

ORDER_SCAN_DAYS = 45  # how far back getOrders looks for orders updated in the window
LOOKUP_DAYS = 45  # getOrder of an order no search returned yet: purchased within ORDER_SCAN_DAYS + this


class OrderBook:
    """Orders the sandbox has handed out (by id), so per-order operations and events can find them."""

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._index: dict[str, Order] = {}
        self._lock = threading.Lock()

    def scan(self, acct: SandboxAccount, mps: list[str], as_of: datetime, since: datetime) -> list[Order]:
        start = (since - timedelta(days=ORDER_SCAN_DAYS)).date()
        world = self.state.world
        out: list[Order] = []
        for mp in mps:
            out.extend(iter_orders(world.seed, acct, mp, start, as_of.date(), world.scale))
        with self._lock:
            for o in out:
                self._index[o.order_id] = o
        return out

    def find(self, caller: Caller, order_id: str) -> Order | None:
        with self._lock:
            o = self._index.get(order_id)
        acct = seller_account(caller)
        if o is None or acct is None or o.marketplace_id not in acct.marketplace_ids:
            return None
        return o

    def lookup(self, caller: Caller, order_id: str) -> Order | None:
        """An order by id even if no search has handed it out yet (scans the seller's recent orders)."""
        o = self.find(caller, order_id)
        acct = seller_account(caller)
        if o is None and acct is not None:
            now = self.state.now()
            self.scan(acct, list(acct.marketplace_ids), now, now - timedelta(days=LOOKUP_DAYS))
            o = self.find(caller, order_id)
        return o


def _money_v0(amount: float, currency: str) -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": f"{amount:.0f}" if currency == "JPY" else f"{amount:.2f}"}


def _status_v0(status: str) -> str:
    return "Canceled" if status == "Cancelled" else status


def order_json(o: Order, as_of: datetime) -> dict[str, Any] | None:
    st = o.status_at(as_of)
    if st is None:
        return None
    status, _item_status, last = st
    total = sum(i.unit_price * i.quantity + i.shipping_price - i.promotion_discount for i in o.items)
    shipped = sum(i.quantity for i in o.items) if status == "Shipped" else 0
    return {
        "AmazonOrderId": o.order_id,
        "PurchaseDate": ts(o.purchase),
        "LastUpdateDate": ts(last),
        "OrderStatus": _status_v0(status),
        "FulfillmentChannel": "AFN" if o.fulfillment == "Amazon" else "MFN",
        "SalesChannel": "Amazon." + marketplace(o.marketplace_id).domain.split("amazon.")[-1],
        "ShipServiceLevel": o.ship_service_level,
        "OrderTotal": _money_v0(total, o.currency),
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": 0
        if status in ("Shipped", "Cancelled")
        else sum(i.quantity for i in o.items),
        "PaymentMethod": "Other",
        "MarketplaceId": o.marketplace_id,
        "ShipmentServiceLevelCategory": o.ship_service_level,
        "OrderType": "StandardOrder",
        "IsBusinessOrder": o.is_business,
        "IsPrime": o.fulfillment == "Amazon",
        "IsPremiumOrder": False,
        "IsGlobalExpressEnabled": False,
        "IsReplacementOrder": False,
        "IsSoldByAB": False,
        "ShippingAddress": {
            "City": o.city,
            "StateOrRegion": o.state,
            "PostalCode": o.postal_code,
            "CountryCode": o.country,
        },
    }


def order_item_id(o: Order, n: int) -> str:
    """The n-th item's OrderItemId (the same in every Orders version and in finances events)."""
    return f"{abs(digest(o.order_id, n)) % 10**14:014d}"


def buyer_info(o: Order) -> dict[str, str]:
    tag = abs(digest(o.order_id, "email")) % 10**8
    return {"BuyerEmail": f"{tag:08d}@marketplace.amazon.com", "BuyerName": f"Buyer {tag % 10000:04d}"}


def full_address(o: Order) -> dict[str, str]:
    return {
        "Name": f"Buyer {abs(digest(o.order_id, 'name')) % 10000:04d}",
        "AddressLine1": f"{abs(digest(o.order_id, 'street')) % 9000 + 100} Main St",
        "City": o.city,
        "StateOrRegion": o.state,
        "PostalCode": o.postal_code,
        "CountryCode": o.country,
    }


def with_pii(o: Order, js: dict[str, Any], elements: set[str]) -> dict[str, Any]:
    if "buyerInfo" in elements:
        js = {**js, "BuyerInfo": buyer_info(o)}
    if "shippingAddress" in elements:
        js = {**js, "ShippingAddress": full_address(o)}
    return js


def order_items_json(o: Order, as_of: datetime) -> list[dict[str, Any]]:
    st = o.status_at(as_of)
    shipped = st is not None and st[0] == "Shipped"
    lang = language_of(o.marketplace_id)
    out = []
    for n, i in enumerate(o.items):
        item: dict[str, Any] = {
            "ASIN": i.product.asin,
            "SellerSKU": i.product.sku,
            "OrderItemId": order_item_id(o, n),
            "Title": i.product.title(lang),
            "QuantityOrdered": i.quantity,
            "QuantityShipped": i.quantity if shipped else 0,
            "ItemPrice": _money_v0(i.unit_price * i.quantity, o.currency),
            "ShippingPrice": _money_v0(i.shipping_price, o.currency),
            "ItemTax": _money_v0(i.unit_price * i.quantity * VAT.get(o.currency, 0.0), o.currency),
            "PromotionDiscount": _money_v0(i.promotion_discount, o.currency),
            "IsGift": "false",  # Orders v0 models IsGift as a string ("true"/"false")
            "ConditionId": "New",
            "ConditionSubtypeId": "New",
        }
        if i.promotion_id:
            item["PromotionIds"] = [i.promotion_id]
        out.append(item)
    return out


def routes(state: SandboxState, book: OrderBook) -> list[Route]:
    async def get_orders(request: Request, caller: Caller) -> Response:
        acct = seller_account(caller)
        if acct is None:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        qp = request.query_params
        now = state.now()
        token = qp.get("NextToken")
        if token:
            spec = unb64(token)
            if spec is None:
                return bad_request("Invalid NextToken.")
        else:
            mps = csv_param(request, "MarketplaceIds")
            if not mps:
                return bad_request("MarketplaceIds is required.")
            bad = [m for m in mps if m not in acct.marketplace_ids]
            if bad:
                return bad_request(f"Invalid MarketplaceIds: {', '.join(bad)}.")
            after = parse_dt(qp.get("LastUpdatedAfter"))
            created_after = parse_dt(qp.get("CreatedAfter"))
            if (after is None) == (created_after is None):
                return bad_request("Exactly one of CreatedAfter or LastUpdatedAfter is required.")
            limit = now - timedelta(minutes=2)
            before = parse_dt(qp.get("LastUpdatedBefore") or qp.get("CreatedBefore")) or limit
            if before > limit:
                return bad_request(
                    "LastUpdatedBefore/CreatedBefore must be at least 2 minutes before the request time."
                )
            try:
                size = int(qp.get("MaxResultsPerPage", "100"))
            except ValueError:
                return bad_request("Invalid MaxResultsPerPage.")
            if not 1 <= size <= 100:
                return bad_request("MaxResultsPerPage must be between 1 and 100.")
            spec = {
                "mps": mps,
                "by": "updated" if after else "created",
                "after": ts(after or created_after),  # type: ignore[arg-type]
                "before": ts(before),
                "size": size,
                "off": 0,
            }
        # A Restricted Data Token for this path with dataElements adds buyer info / the full address.
        granted = caller.token.covers("GET", "/orders/v0/orders") if caller.token.kind == "rdt" else None
        elements = set(granted.data_elements) if granted else set()
        after_dt = parse_dt(spec["after"])
        before_dt = parse_dt(spec["before"])
        assert after_dt is not None and before_dt is not None
        rows = []
        for o in await asyncio.to_thread(book.scan, acct, spec["mps"], before_dt, after_dt):
            js = order_json(o, before_dt)
            if js is None:
                continue
            t = parse_dt(js["LastUpdateDate"] if spec["by"] == "updated" else js["PurchaseDate"])
            if t is not None and after_dt <= t < before_dt:
                rows.append((t, o.order_id, with_pii(o, js, elements)))
        rows.sort(key=lambda r: (r[0], r[1]))
        off, size = int(spec["off"]), int(spec["size"])
        payload: dict[str, Any] = {"Orders": [r[2] for r in rows[off : off + size]]}
        if off + size < len(rows):
            payload["NextToken"] = b64({**spec, "off": off + size})
        payload["LastUpdatedBefore" if spec["by"] == "updated" else "CreatedBefore"] = spec["before"]
        return sp_json({"payload": payload})

    async def get_order(request: Request, caller: Caller) -> Response:
        o = await asyncio.to_thread(book.lookup, caller, request.path_params["orderId"])
        js = order_json(o, state.now()) if o is not None else None
        if o is None or js is None:
            return not_found("Order not found.")
        return sp_json({"payload": js})

    async def get_order_items(request: Request, caller: Caller) -> Response:
        o = await asyncio.to_thread(book.lookup, caller, request.path_params["orderId"])
        if o is None:
            return not_found("Order not found.")
        items = order_items_json(o, state.now())
        return sp_json({"payload": {"AmazonOrderId": o.order_id, "OrderItems": items}})

    async def get_order_address(request: Request, caller: Caller) -> Response:
        o = book.find(caller, request.path_params["orderId"])
        if o is None:
            return not_found("Order not found.")
        return sp_json({"payload": {"AmazonOrderId": o.order_id, "ShippingAddress": full_address(o)}})

    async def get_order_buyer_info(request: Request, caller: Caller) -> Response:
        o = book.find(caller, request.path_params["orderId"])
        if o is None:
            return not_found("Order not found.")
        return sp_json({"payload": {"AmazonOrderId": o.order_id, **buyer_info(o)}})

    o = "/orders/v0/orders"
    return [
        sp_route(state, "GET", o, "getOrders", get_orders),
        sp_route(state, "GET", f"{o}/{{orderId}}", "getOrder", get_order),
        sp_route(state, "GET", f"{o}/{{orderId}}/orderItems", "getOrderItems", get_order_items),
        sp_route(
            state, "GET", f"{o}/{{orderId}}/address", "getOrderAddress", get_order_address, restricted=True
        ),
        sp_route(
            state,
            "GET",
            f"{o}/{{orderId}}/buyerInfo",
            "getOrderBuyerInfo",
            get_order_buyer_info,
            restricted=True,
        ),
    ]
