"""Sandbox Orders API 2026-01-01: searchOrders (0.0056 r/s, burst 20) and getOrder.

The same world orders as Orders v0 (same order ids, order item ids, amounts), in the new shape: items
inline, datasets by ``includedData`` (BUYER, RECIPIENT, PROCEEDS, PROMOTION, FULFILLMENT, ...). Buyer and
recipient data need no Restricted Data Token in this version. An account whose application lacks the
API (set ``SandboxConfig.extra["unavailable_operations"] = ["searchOrders", ...]``) gets Amazon's 403,
which is how clients discover they must fall back to v0.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.apis.common import b64, csv_param, parse_dt, seller_account, ts, unb64
from splake.sandbox.apis.orders_v0 import OrderBook, buyer_info, full_address, order_item_id
from splake.sandbox.catalog import language_of
from splake.sandbox.orders import VAT, Order
from splake.sandbox.responses import bad_request, not_found, sp_error, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState
from splake.spapi.marketplaces import marketplace

BASE = "/orders/2026-01-01/orders"
DATASETS = frozenset(
    {
        "BUYER",
        "RECIPIENT",
        "PROCEEDS",
        "EXPENSE",
        "PROMOTION",
        "CANCELLATION",
        "FULFILLMENT",
        "PACKAGES",
        "TAX",
        "PAYMENT",
        "FULFILLMENT_ORDERS",
    }
)
STATUS = {"Pending": "PENDING", "Unshipped": "UNSHIPPED", "Shipped": "SHIPPED", "Cancelled": "CANCELLED"}
FULFILLMENT_STATUSES = frozenset(STATUS.values()) | {
    "PENDING_AVAILABILITY",
    "PARTIALLY_SHIPPED",
    "UNFULFILLABLE",
}


def money(amount: float, currency: str) -> dict[str, str]:
    return {"amount": f"{amount:.0f}" if currency == "JPY" else f"{amount:.2f}", "currencyCode": currency}


def order_2026(o: Order, as_of: datetime, included: set[str]) -> dict[str, Any] | None:
    st = o.status_at(as_of)
    if st is None:
        return None
    status, _item_status, last = st
    shipped = status == "Shipped"
    cur, lang = o.currency, language_of(o.marketplace_id)
    items = []
    for n, i in enumerate(o.items):
        gross = i.unit_price * i.quantity
        item: dict[str, Any] = {
            "orderItemId": order_item_id(o, n),
            "quantityOrdered": i.quantity,
            "product": {
                "asin": i.product.asin,
                "title": i.product.title(lang),
                "sellerSku": i.product.sku,
                "condition": {"conditionType": "New", "conditionSubtype": "New"},
                "price": {"unitPrice": money(i.unit_price, cur)},
            },
        }
        if "PROCEEDS" in included:
            parts = [
                ("ITEM", gross),
                ("SHIPPING", i.shipping_price),
                ("TAX", gross * VAT.get(cur, 0.0)),
                ("DISCOUNT", -i.promotion_discount),
            ]
            item["proceeds"] = {
                "proceedsTotal": money(sum(v for _, v in parts), cur),
                "breakdowns": [{"type": t, "subtotal": money(v, cur)} for t, v in parts],
            }
        if "PROMOTION" in included and i.promotion_id:
            item["promotion"] = {"breakdowns": [{"promotionId": i.promotion_id}]}
        if "FULFILLMENT" in included:
            item["fulfillment"] = {
                "quantityFulfilled": i.quantity if shipped else 0,
                "quantityUnfulfilled": 0 if shipped or status == "Cancelled" else i.quantity,
            }
        items.append(item)
    programs = (["PRIME"] if o.fulfillment == "Amazon" else []) + (
        ["AMAZON_BUSINESS"] if o.is_business else []
    )
    mp = marketplace(o.marketplace_id)
    out: dict[str, Any] = {
        "orderId": o.order_id,
        "createdTime": ts(o.purchase),
        "lastUpdatedTime": ts(last),
        "programs": programs,
        "salesChannel": {
            "channelName": "AMAZON",
            "marketplaceId": o.marketplace_id,
            "marketplaceName": "Amazon." + mp.domain.split("amazon.")[-1],
        },
        "orderItems": items,
    }
    if "BUYER" in included:
        b = buyer_info(o)
        out["buyer"] = {"buyerName": b["BuyerName"], "buyerEmail": b["BuyerEmail"]}
    if "RECIPIENT" in included:
        a = full_address(o)
        out["recipient"] = {
            "deliveryAddress": {
                "name": a["Name"],
                "addressLine1": a["AddressLine1"],
                "city": a["City"],
                "stateOrRegion": a["StateOrRegion"],
                "postalCode": a["PostalCode"],
                "countryCode": a["CountryCode"],
                "addressType": "RESIDENTIAL",
            }
        }
    if "PROCEEDS" in included:
        # The order's charge total: items + shipping - promotions (as Orders v0's OrderTotal in this world).
        total = sum(i.unit_price * i.quantity + i.shipping_price - i.promotion_discount for i in o.items)
        out["proceeds"] = {"grandTotal": money(total, cur)}
    if "FULFILLMENT" in included:
        out["fulfillment"] = {
            "fulfillmentStatus": STATUS.get(status, "PENDING"),
            "fulfilledBy": "AMAZON" if o.fulfillment == "Amazon" else "MERCHANT",
            "fulfillmentServiceLevel": o.ship_service_level.upper(),
        }
    return out


def _included(request: Request) -> set[str] | Response:
    values = set(csv_param(request, "includedData"))
    bad = sorted(values - DATASETS)
    if bad:
        return bad_request(f"Invalid includedData value(s): {', '.join(bad)}.")
    return values


def routes(state: SandboxState, book: OrderBook) -> list[Route]:
    def unavailable(op: str) -> bool:
        return op in (state.config.extra.get("unavailable_operations") or ())

    async def search_orders(request: Request, caller: Caller) -> Response:
        acct = seller_account(caller)
        if acct is None or unavailable("searchOrders"):
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        qp = request.query_params
        now = state.now()
        token = qp.get("paginationToken")
        if token:
            spec = unb64(token)
            if spec is None or "by" not in spec:
                return bad_request("Invalid paginationToken.")
        else:
            mps = csv_param(request, "marketplaceIds") or list(acct.marketplace_ids)
            bad = [m for m in mps if m not in acct.marketplace_ids]
            if bad:
                return bad_request(f"Invalid marketplaceIds: {', '.join(bad)}.")
            updated_after = parse_dt(qp.get("lastUpdatedAfter"))
            created_after = parse_dt(qp.get("createdAfter"))
            if (updated_after is None) == (created_after is None):
                return bad_request("Exactly one of createdAfter or lastUpdatedAfter is required.")
            if (updated_after and qp.get("createdBefore")) or (created_after and qp.get("lastUpdatedBefore")):
                return bad_request("created* and lastUpdated* filters cannot be combined.")
            limit = now - timedelta(minutes=2)
            before = parse_dt(qp.get("lastUpdatedBefore") or qp.get("createdBefore")) or limit
            after = updated_after or created_after
            assert after is not None
            if before > limit or before < after:
                return bad_request(
                    "The before date must be after the after date and at least 2 minutes before the request."
                )
            try:
                size = int(qp.get("maxResultsPerPage", "100"))
            except ValueError:
                return bad_request("Invalid maxResultsPerPage.")
            if not 1 <= size <= 100:
                return bad_request("maxResultsPerPage must be between 1 and 100.")
            statuses = csv_param(request, "fulfillmentStatuses")
            if set(statuses) - FULFILLMENT_STATUSES:
                return bad_request("Invalid fulfillmentStatuses.")
            by = csv_param(request, "fulfilledBy")
            if set(by) - {"AMAZON", "MERCHANT"}:
                return bad_request("Invalid fulfilledBy.")
            included = _included(request)
            if isinstance(included, Response):
                return included
            spec = {
                "mps": mps,
                "by": "updated" if updated_after else "created",
                "after": ts(after),
                "before": ts(before),
                "size": size,
                "off": 0,
                "statuses": statuses,
                "fulfilledBy": by,
                "included": sorted(included),
            }
        after_dt, before_dt = parse_dt(spec["after"]), parse_dt(spec["before"])
        assert after_dt is not None and before_dt is not None
        included_set = set(spec["included"]) | {"FULFILLMENT"}  # filters need the status; dropped below
        rows = []
        for o in await asyncio.to_thread(book.scan, acct, spec["mps"], before_dt, after_dt):
            js = order_2026(o, before_dt, included_set)
            if js is None:
                continue
            t = parse_dt(js["lastUpdatedTime"] if spec["by"] == "updated" else js["createdTime"])
            if t is None or not after_dt <= t <= before_dt:
                continue
            if spec["statuses"] and js["fulfillment"]["fulfillmentStatus"] not in spec["statuses"]:
                continue
            if spec["fulfilledBy"] and js["fulfillment"]["fulfilledBy"] not in spec["fulfilledBy"]:
                continue
            if "FULFILLMENT" not in spec["included"]:
                js.pop("fulfillment")
                for item in js["orderItems"]:
                    item.pop("fulfillment", None)
            rows.append((t, o.order_id, js))
        rows.sort(key=lambda r: (r[0], r[1]))
        off, size = int(spec["off"]), int(spec["size"])
        body: dict[str, Any] = {"orders": [r[2] for r in rows[off : off + size]]}
        if off + size < len(rows):
            body["pagination"] = {"nextToken": b64({**spec, "off": off + size})}
        body["lastUpdatedBefore" if spec["by"] == "updated" else "createdBefore"] = spec["before"]
        return sp_json(body)

    async def get_order(request: Request, caller: Caller) -> Response:
        if unavailable("getOrder"):
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        included = _included(request)
        if isinstance(included, Response):
            return included
        o = await asyncio.to_thread(book.lookup, caller, request.path_params["orderId"])
        js = order_2026(o, state.now(), included) if o is not None else None
        if js is None:
            return not_found("Order not found.")
        return sp_json({"order": js})

    return [
        sp_route(state, "GET", BASE, "searchOrders", search_orders),
        sp_route(state, "GET", f"{BASE}/{{orderId}}", "orders_2026-01-01.getOrder", get_order),
    ]
