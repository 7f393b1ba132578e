"""Sandbox Vendor Direct Fulfillment Orders 2021-12-28: getOrders and getOrder (10 r/s, burst 10).

Each vendor account ships 3-6 direct-fulfillment orders a day to Amazon customers (deterministic from the
seed), 1-3 items of its vendor ASINs each. An order is NEW for 4 hours, ACCEPTED until day 2 and SHIPPED
after (about 1 in 25 is CANCELLED instead). ``shipToParty`` is the customer's address (PII).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.apis.common import b64, digest, parse_dt, ts, unb64
from splake.sandbox.catalog import language_of, products_for
from splake.sandbox.render_vendor import VENDOR_ASINS
from splake.sandbox.responses import bad_request, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState
from splake.spapi.marketplaces import marketplace

BASE = "/vendor/directFulfillment/orders/2021-12-28"
OP = "vendorDirectFulfillmentOrders_2021-12-28."
STATUSES = ("NEW", "SHIPPED", "ACCEPTED", "CANCELLED")
LOOKBACK_DAYS = 400


@dataclass(frozen=True)
class DfItem:
    seq: int
    asin: str
    vendor_sku: str
    title: str
    quantity: int
    net_price: float


@dataclass(frozen=True)
class DfOrder:
    number: str
    customer_order: str
    marketplace_id: str
    currency: str
    created: datetime
    cancelled: bool
    warehouse: str
    items: tuple[DfItem, ...]
    name: str
    line1: str
    city: str
    state: str
    postal: str
    country: str

    def status_at(self, as_of: datetime) -> str:
        age = as_of - self.created
        if age < timedelta(hours=4):
            return "NEW"
        if self.cancelled:
            return "CANCELLED"
        return "ACCEPTED" if age < timedelta(days=2) else "SHIPPED"


CITIES = (
    ("Seattle", "WA", "98101"),
    ("Austin", "TX", "73301"),
    ("Denver", "CO", "80202"),
    ("Miami", "FL", "33101"),
)


def df_orders(seed: int, acct: SandboxAccount, mp: str, start: date, end: date) -> list[DfOrder]:
    products = products_for(seed, acct, 1.0)[:VENDOR_ASINS]
    m = marketplace(mp)
    lang = language_of(mp)
    out = []
    d = start
    while d <= end:
        for k in range(3 + digest(seed, "df-count", acct.account_id, mp, d.isoformat()) % 4):
            h = digest(seed, "df", acct.account_id, mp, d.isoformat(), k)
            items = []
            for n in range(1 + h % 3):
                p = products[(h >> (3 + 9 * n)) % len(products)]
                items.append(
                    DfItem(
                        n + 1,
                        p.asin,
                        p.sku,
                        p.title(lang),
                        1 + (h >> (2 + n)) % 2,
                        round(p.price(m.currency), 2),
                    )
                )
            city, st, postal = CITIES[(h >> 33) % len(CITIES)]
            out.append(
                DfOrder(
                    number=f"D{h % 10**9:09d}",
                    customer_order=f"{h % 1000:03d}-{(h >> 10) % 10**7:07d}-{(h >> 34) % 10**7:07d}",
                    marketplace_id=mp,
                    currency=m.currency,
                    created=datetime.combine(d, time(), UTC) + timedelta(minutes=(h >> 20) % 1440),
                    cancelled=(h >> 40) % 25 == 0,
                    warehouse=f"WH{1 + (h >> 44) % 3}",
                    items=tuple(items),
                    name=f"Customer {(h >> 12) % 10000:04d}",
                    line1=f"{100 + (h >> 16) % 9000} Pine St",
                    city=city,
                    state=st,
                    postal=postal,
                    country=m.code if m.code != "UK" else "GB",
                )
            )
        d += timedelta(days=1)
    return out


def _money(v: float, cur: str) -> dict[str, str]:
    return {"currencyCode": cur, "amount": f"{v:.2f}"}


def order_json(o: DfOrder, vendor_code: str, as_of: datetime, details: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"purchaseOrderNumber": o.number}
    if not details:
        return out
    out["orderDetails"] = {
        "customerOrderNumber": o.customer_order,
        "orderDate": ts(o.created),
        "orderStatus": o.status_at(as_of),
        "shipmentDetails": {
            "isPriorityShipment": False,
            "isScheduledDeliveryShipment": False,
            "isPslipRequired": False,
            "isGift": False,
            "shipMethod": "UPS_GROUND",
            "shipmentDates": {
                "requiredShipDate": ts(o.created + timedelta(days=2)),
                "promisedDeliveryDate": ts(o.created + timedelta(days=5)),
            },
            "messageToCustomer": "Thank you for your order.",
        },
        "sellingParty": {"partyId": vendor_code},
        "shipFromParty": {"partyId": o.warehouse},
        "shipToParty": {
            "name": o.name,
            "addressLine1": o.line1,
            "city": o.city,
            "stateOrRegion": o.state,
            "postalCode": o.postal,
            "countryCode": o.country,
        },
        "billToParty": {"partyId": "AMAZONDF"},
        "items": [
            {
                "itemSequenceNumber": str(i.seq),
                "buyerProductIdentifier": i.asin,
                "vendorProductIdentifier": i.vendor_sku,
                "title": i.title,
                "orderedQuantity": {"amount": i.quantity, "unitOfMeasure": "Each"},
                "netPrice": _money(i.net_price, o.currency),
                "totalPrice": _money(i.net_price * i.quantity, o.currency),
            }
            for i in o.items
        ],
    }
    return out


def routes(state: SandboxState) -> list[Route]:
    def vendor(caller: Caller) -> SandboxAccount | None:
        acct = caller.account
        return acct if acct is not None and acct.type == "vendor" else None

    def code(acct: SandboxAccount) -> str:
        return f"V{digest(acct.account_id, 'vendor-code') % 10**5:05d}"

    def denied() -> Response:
        return sp_json(
            {"errors": [{"code": "Unauthorized", "message": "Access to requested resource is denied."}]}, 403
        )

    def window(acct: SandboxAccount, start: datetime, end: datetime, now: datetime) -> list[DfOrder]:
        lo = max(start, now - timedelta(days=LOOKBACK_DAYS))
        out: list[DfOrder] = []
        for mp in acct.marketplace_ids:
            out += [
                o
                for o in df_orders(state.world.seed, acct, mp, lo.date(), min(end, now).date())
                if start <= o.created <= end and o.created <= now
            ]
        return out

    async def get_orders(request: Request, caller: Caller) -> Response:
        acct = vendor(caller)
        if acct is None:
            return denied()
        qp, now = request.query_params, state.now()
        if qp.get("nextToken"):
            spec = unb64(qp["nextToken"])
            if spec is None or spec.get("op") != "df":
                return bad_request("Invalid nextToken.")
        else:
            after, before = parse_dt(qp.get("createdAfter")), parse_dt(qp.get("createdBefore"))
            if after is None or before is None:
                return bad_request("createdAfter and createdBefore are required (ISO-8601).")
            if after >= before:
                return bad_request("createdAfter must be before createdBefore.")
            status = qp.get("status")
            if status and status not in STATUSES:
                return bad_request(f"Invalid status {status}.")
            try:
                limit = int(qp.get("limit", "100"))
            except ValueError:
                return bad_request("limit must be an integer.")
            if not 1 <= limit <= 100:
                return bad_request("limit must be between 1 and 100.")
            order = qp.get("sortOrder", "ASC")
            if order not in ("ASC", "DESC"):
                return bad_request("sortOrder must be ASC or DESC.")
            spec = {
                "op": "df",
                "after": ts(after),
                "before": ts(before),
                "status": status,
                "warehouse": qp.get("shipFromPartyId"),
                "details": qp.get("includeDetails", "true").lower() != "false",
                "limit": limit,
                "order": order,
                "off": 0,
            }
        after_dt, before_dt = parse_dt(spec["after"]), parse_dt(spec["before"])
        assert after_dt is not None and before_dt is not None
        found = window(acct, after_dt, before_dt, now)
        if spec["status"]:
            found = [o for o in found if o.status_at(now) == spec["status"]]
        if spec["warehouse"]:
            found = [o for o in found if o.warehouse == spec["warehouse"]]
        found.sort(key=lambda o: (o.created, o.number), reverse=spec["order"] == "DESC")
        off, limit = int(spec["off"]), int(spec["limit"])
        body: dict[str, Any] = {
            "orders": [
                order_json(o, code(acct), now, bool(spec["details"])) for o in found[off : off + limit]
            ]
        }
        if off + limit < len(found):
            body["pagination"] = {"nextToken": b64({**spec, "off": off + limit})}
        return sp_json(body)

    async def get_order(request: Request, caller: Caller) -> Response:
        acct = vendor(caller)
        if acct is None:
            return denied()
        number, now = request.path_params["purchaseOrderNumber"], state.now()
        for o in window(acct, now - timedelta(days=LOOKBACK_DAYS), now, now):
            if o.number == number:
                return sp_json(order_json(o, code(acct), now, True))
        return sp_json({"errors": [{"code": "NotFound", "message": f"Order {number} not found."}]}, 404)

    return [
        sp_route(state, "GET", f"{BASE}/purchaseOrders", OP + "getOrders", get_orders),
        sp_route(state, "GET", f"{BASE}/purchaseOrders/{{purchaseOrderNumber}}", OP + "getOrder", get_order),
    ]
