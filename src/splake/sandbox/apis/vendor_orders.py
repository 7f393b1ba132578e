"""Sandbox Vendor Orders API v1: getPurchaseOrders, getPurchaseOrder, getPurchaseOrdersStatus (10 r/s).

Each vendor account receives 2-4 purchase orders a day per marketplace (deterministic from the seed) for
the same ASINs as its vendor reports, 1-5 items each. A PO is ``New`` for its first day,
``Acknowledged`` (items ACCEPTED, a few partly) until day 10 and ``Closed`` (received) after; its
``purchaseOrderStateChangedDate`` and the status ``lastUpdatedDate`` move with it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.apis.common import b64, digest, parse_dt, ts, unb64
from splake.sandbox.catalog import products_for
from splake.sandbox.render_vendor import VENDOR_ASINS
from splake.sandbox.responses import bad_request, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState
from splake.spapi.marketplaces import marketplace

BASE = "/vendor/orders/v1"
ACK_AFTER = timedelta(days=1)
CLOSE_AFTER = timedelta(days=10)
LOOKBACK_DAYS = 400
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class PoItem:
    seq: int
    asin: str
    vendor_sku: str
    quantity: int
    accepted: int
    net_cost: float
    list_price: float


@dataclass(frozen=True)
class PurchaseOrder:
    number: str
    marketplace_id: str
    currency: str
    created: datetime
    ship_to: str
    items: tuple[PoItem, ...]

    def state_at(self, as_of: datetime) -> tuple[str, datetime]:
        if as_of - self.created >= CLOSE_AFTER:
            return "Closed", self.created + CLOSE_AFTER
        if as_of - self.created >= ACK_AFTER:
            return "Acknowledged", self.created + ACK_AFTER
        return "New", self.created


def po_number(seed: int, acct: SandboxAccount, mp: str, day: date, k: int) -> str:
    h = digest(seed, "po", acct.account_id, mp, day.isoformat(), k)
    return "".join(_ALNUM[(h >> (5 * i)) % 36] for i in range(8))


def purchase_orders(seed: int, acct: SandboxAccount, mp: str, start: date, end: date) -> list[PurchaseOrder]:
    products = products_for(seed, acct, 1.0)[:VENDOR_ASINS]
    currency = marketplace(mp).currency
    out = []
    d = start
    while d <= end:
        for k in range(2 + digest(seed, "po-count", acct.account_id, mp, d.isoformat()) % 3):
            h = digest(seed, "po", acct.account_id, mp, d.isoformat(), k)
            items = []
            for n in range(1 + h % 5):
                p = products[(h >> (4 + 7 * n)) % len(products)]
                qty = 12 * (1 + (h >> (3 * n)) % 20)
                price = p.price(currency)
                accepted = qty if (h >> n) % 7 else qty // 2  # about 1 in 7 lines partly accepted
                items.append(
                    PoItem(n + 1, p.asin, p.sku, qty, accepted, round(price * 0.62, 2), round(price, 2))
                )
            created = datetime.combine(d, time(), UTC) + timedelta(minutes=(h >> 20) % 1440)
            fc = f"{marketplace(mp).code}{1 + (h >> 30) % 8}"
            out.append(
                PurchaseOrder(po_number(seed, acct, mp, d, k), mp, currency, created, fc, tuple(items))
            )
        d += timedelta(days=1)
    return out


def _money(v: float, cur: str) -> dict[str, str]:
    return {"currencyCode": cur, "amount": f"{v:.2f}"}


def _qty(n: int) -> dict[str, Any]:
    return {"amount": n, "unitOfMeasure": "Eaches", "unitSize": 1}


def order_json(po: PurchaseOrder, vendor_code: str, as_of: datetime, details: bool) -> dict[str, Any]:
    state, changed = po.state_at(as_of)
    out: dict[str, Any] = {"purchaseOrderNumber": po.number, "purchaseOrderState": state}
    if details:
        out["orderDetails"] = {
            "purchaseOrderDate": ts(po.created),
            "purchaseOrderStateChangedDate": ts(changed),
            "purchaseOrderType": "RegularOrder",
            "paymentMethod": "Invoice",
            "buyingParty": {"partyId": "AMAZON"},
            "sellingParty": {"partyId": vendor_code},
            "shipToParty": {"partyId": po.ship_to},
            "billToParty": {"partyId": "AMAZONBILL"},
            "shipWindow": f"{ts(po.created + timedelta(days=3))}--{ts(po.created + timedelta(days=6))}",
            "items": [
                {
                    "itemSequenceNumber": str(i.seq),
                    "amazonProductIdentifier": i.asin,
                    "vendorProductIdentifier": i.vendor_sku,
                    "orderedQuantity": _qty(i.quantity),
                    "isBackOrderAllowed": False,
                    "netCost": _money(i.net_cost, po.currency),
                    "listPrice": _money(i.list_price, po.currency),
                }
                for i in po.items
            ],
        }
    return out


def status_json(po: PurchaseOrder, vendor_code: str, as_of: datetime) -> dict[str, Any]:
    state, changed = po.state_at(as_of)
    items = []
    for i in po.items:
        item: dict[str, Any] = {
            "itemSequenceNumber": str(i.seq),
            "buyerProductIdentifier": i.asin,
            "vendorProductIdentifier": i.vendor_sku,
            "netCost": _money(i.net_cost, po.currency),
            "listPrice": _money(i.list_price, po.currency),
            "orderedQuantity": {"orderedQuantity": _qty(i.quantity)},
        }
        if state == "New":
            item["acknowledgementStatus"] = {"confirmationStatus": "UNCONFIRMED"}
        else:
            item["acknowledgementStatus"] = {
                "confirmationStatus": "ACCEPTED" if i.accepted == i.quantity else "PARTIALLY_ACCEPTED",
                "acceptedQuantity": _qty(i.accepted),
                "rejectedQuantity": _qty(i.quantity - i.accepted),
                "acknowledgementStatusDetails": [
                    {
                        "acknowledgementDate": ts(po.created + ACK_AFTER),
                        "acceptedQuantity": _qty(i.accepted),
                        "rejectedQuantity": _qty(i.quantity - i.accepted),
                    }
                ],
            }
        received = i.accepted if state == "Closed" else 0
        item["receivingStatus"] = {
            "receiveStatus": "RECEIVED" if state == "Closed" else "NOT_RECEIVED",
            "receivedQuantity": _qty(received),
            **({"lastReceiveDate": ts(changed)} if state == "Closed" else {}),
        }
        items.append(item)
    return {
        "purchaseOrderNumber": po.number,
        "purchaseOrderStatus": "CLOSED" if state == "Closed" else "OPEN",
        "purchaseOrderDate": ts(po.created),
        "lastUpdatedDate": ts(changed),
        "sellingParty": {"partyId": vendor_code},
        "shipToParty": {"partyId": po.ship_to},
        "itemStatus": items,
    }


def routes(state: SandboxState) -> list[Route]:
    def vendor(caller: Caller) -> SandboxAccount | None:
        acct = caller.account
        return acct if acct is not None and acct.type == "vendor" else None

    def code(acct: SandboxAccount) -> str:
        return f"V{digest(acct.account_id, 'vendor-code') % 10**5:05d}"

    def all_pos(acct: SandboxAccount, start: datetime, end: datetime) -> list[PurchaseOrder]:
        out: list[PurchaseOrder] = []
        for mp in acct.marketplace_ids:
            out += purchase_orders(state.world.seed, acct, mp, start.date(), end.date())
        return out

    def parse_window(request: Request, names: tuple[str, str, str, str]) -> dict[str, Any] | Response:
        qp = request.query_params
        now = state.now()
        c_after, c_before, u_after, u_before = (parse_dt(qp.get(n)) for n in names)
        for n in names:
            if qp.get(n) and parse_dt(qp.get(n)) is None:
                return bad_request(f"{n} must be an ISO-8601 date-time.")
        try:
            limit = int(qp.get("limit", "100"))
        except ValueError:
            return bad_request("limit must be an integer.")
        if not 1 <= limit <= 100:
            return bad_request("limit must be between 1 and 100.")
        order = qp.get("sortOrder", "DESC")
        if order not in ("ASC", "DESC"):
            return bad_request("sortOrder must be ASC or DESC.")
        return {
            "ca": ts(c_after) if c_after else None,
            "cb": ts(c_before or now),
            "ua": ts(u_after) if u_after else None,
            "ub": ts(u_before or now),
            "limit": limit,
            "order": order,
            "off": 0,
        }

    def select(acct: SandboxAccount, spec: dict[str, Any], now: datetime) -> list[PurchaseOrder]:
        ca, cb = parse_dt(spec["ca"]), parse_dt(spec["cb"])
        ua, ub = parse_dt(spec["ua"]), parse_dt(spec["ub"])
        assert cb is not None and ub is not None
        lo = ca or (ua - CLOSE_AFTER - timedelta(days=1) if ua else now - timedelta(days=LOOKBACK_DAYS))
        pos = [
            po
            for po in all_pos(acct, max(lo, now - timedelta(days=LOOKBACK_DAYS)), min(cb, now))
            if (ca is None or po.created >= ca) and po.created <= cb
        ]
        if ua is not None:
            pos = [po for po in pos if ua <= po.state_at(now)[1] <= ub]
        pos.sort(key=lambda po: (po.created, po.number), reverse=spec["order"] == "DESC")
        return pos

    async def get_purchase_orders(request: Request, caller: Caller) -> Response:
        acct = vendor(caller)
        if acct is None:
            return sp_json(
                {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]},
                403,
            )
        qp, now = request.query_params, state.now()
        if qp.get("nextToken"):
            spec = unb64(qp["nextToken"])
            if spec is None or spec.get("op") != "pos":
                return bad_request("Invalid nextToken.")
        else:
            parsed = parse_window(request, ("createdAfter", "createdBefore", "changedAfter", "changedBefore"))
            if isinstance(parsed, Response):
                return parsed
            if not parsed["ca"] and not parsed["ua"]:
                return bad_request("createdAfter or changedAfter is required.")
            details = qp.get("includeDetails", "true").lower()
            if details not in ("true", "false"):
                return bad_request("includeDetails must be true or false.")
            spec = {
                **parsed,
                "op": "pos",
                "details": details == "true",
                "state": qp.get("purchaseOrderState"),
            }
        pos = select(acct, spec, now)
        if spec.get("state"):
            pos = [po for po in pos if po.state_at(now)[0] == spec["state"]]
        off, limit = int(spec["off"]), int(spec["limit"])
        payload: dict[str, Any] = {
            "orders": [
                order_json(po, code(acct), now, bool(spec["details"])) for po in pos[off : off + limit]
            ]
        }
        if off + limit < len(pos):
            payload["pagination"] = {
                "nextToken": b64({**spec, "off": off + limit, "id": uuid.uuid4().hex[:8]})
            }
        return sp_json({"payload": payload})

    async def get_purchase_order(request: Request, caller: Caller) -> Response:
        acct = vendor(caller)
        number = request.path_params["purchaseOrderNumber"]
        if acct is None:
            return sp_json(
                {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]},
                403,
            )
        now = state.now()
        for po in all_pos(acct, now - timedelta(days=LOOKBACK_DAYS), now):
            if po.number == number and po.created <= now:
                return sp_json({"payload": order_json(po, code(acct), now, True)})
        return sp_json(
            {"errors": [{"code": "NotFound", "message": f"Purchase order {number} not found."}]}, 404
        )

    async def get_purchase_orders_status(request: Request, caller: Caller) -> Response:
        acct = vendor(caller)
        if acct is None:
            return sp_json(
                {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]},
                403,
            )
        qp, now = request.query_params, state.now()
        if qp.get("nextToken"):
            spec = unb64(qp["nextToken"])
            if spec is None or spec.get("op") != "status":
                return bad_request("Invalid nextToken.")
        else:
            parsed = parse_window(request, ("createdAfter", "createdBefore", "updatedAfter", "updatedBefore"))
            if isinstance(parsed, Response):
                return parsed
            if not parsed["ca"] and not parsed["ua"] and not qp.get("purchaseOrderNumber"):
                return bad_request("createdAfter, updatedAfter or purchaseOrderNumber is required.")
            if not parsed["ca"] and not parsed["ua"]:
                parsed["ca"] = ts(now - timedelta(days=LOOKBACK_DAYS))
            spec = {
                **parsed,
                "op": "status",
                "number": qp.get("purchaseOrderNumber"),
                "status": qp.get("purchaseOrderStatus"),
            }
        rows = [status_json(po, code(acct), now) for po in select(acct, spec, now)]
        if spec.get("number"):
            rows = [r for r in rows if r["purchaseOrderNumber"] == spec["number"]]
        if spec.get("status"):
            rows = [r for r in rows if r["purchaseOrderStatus"] == spec["status"]]
        off, limit = int(spec["off"]), int(spec["limit"])
        payload: dict[str, Any] = {"ordersStatus": rows[off : off + limit]}
        if off + limit < len(rows):
            payload["pagination"] = {
                "nextToken": b64({**spec, "off": off + limit, "id": uuid.uuid4().hex[:8]})
            }
        return sp_json({"payload": payload})

    return [
        sp_route(state, "GET", f"{BASE}/purchaseOrders", "getPurchaseOrders", get_purchase_orders),
        sp_route(
            state,
            "GET",
            f"{BASE}/purchaseOrders/{{purchaseOrderNumber}}",
            "getPurchaseOrder",
            get_purchase_order,
        ),
        sp_route(
            state,
            "GET",
            f"{BASE}/purchaseOrdersStatus",
            "getPurchaseOrdersStatus",
            get_purchase_orders_status,
        ),
    ]
