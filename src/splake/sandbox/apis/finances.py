"""Sandbox Finances API v0: listFinancialEvents (shipment events of the world's shipped orders).

The NextToken expiry is undocumented ("25/3 minutes" in reports from the field): FINANCES_TOKEN_TTL
modelled seconds here (multiplied by time_scale).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.apis.common import PagingTokens, b64, parse_dt, seller_account, ts, unb64
from splake.sandbox.apis.orders_v0 import OrderBook, order_item_id
from splake.sandbox.orders import VAT, Order
from splake.sandbox.render_settlements import SETTLEMENT_PERIOD, SettlementPeriod, settlement_periods
from splake.sandbox.responses import bad_request, sp_error, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState
from splake.spapi.marketplaces import marketplace

FINANCES_TOKEN_TTL = 180.0


def shipment_event(o: Order, store: str) -> dict[str, Any]:
    assert o.ship_at is not None
    items = []
    for n, i in enumerate(o.items):
        gross = i.unit_price * i.quantity
        items.append(
            {
                "SellerSKU": i.product.sku,
                "OrderItemId": order_item_id(o, n),
                "QuantityShipped": i.quantity,
                "ItemChargeList": [
                    {
                        "ChargeType": "Principal",
                        "ChargeAmount": {"CurrencyCode": o.currency, "CurrencyAmount": round(gross, 2)},
                    },
                    {
                        "ChargeType": "Tax",
                        "ChargeAmount": {
                            "CurrencyCode": o.currency,
                            "CurrencyAmount": round(gross * VAT.get(o.currency, 0.0), 2),
                        },
                    },
                ],
                "ItemFeeList": [
                    {
                        "FeeType": "Commission",
                        "FeeAmount": {"CurrencyCode": o.currency, "CurrencyAmount": -round(gross * 0.15, 2)},
                    },
                    *(
                        [
                            {
                                "FeeType": "FBAPerUnitFulfillmentFee",
                                "FeeAmount": {
                                    "CurrencyCode": o.currency,
                                    "CurrencyAmount": -round(3.22 * i.quantity, 2),
                                },
                            }
                        ]
                        if o.fulfillment == "Amazon"
                        else []
                    ),
                ],
            }
        )
    return {
        "AmazonOrderId": o.order_id,
        "MarketplaceName": marketplace(o.marketplace_id).domain.removeprefix("www.").capitalize(),
        "StoreName": store,
        "PostedDate": ts(o.ship_at),
        "ShipmentItemList": items,
    }


def event_total(event: dict[str, Any]) -> float:
    """Net amount of a shipment event (charges + fees, fees are negative)."""
    total = 0.0
    for item in event["ShipmentItemList"]:
        total += sum(c["ChargeAmount"]["CurrencyAmount"] for c in item["ItemChargeList"])
        total += sum(f["FeeAmount"]["CurrencyAmount"] for f in item["ItemFeeList"])
    return total


def event_group(p: SettlementPeriod, orders: list[Order], store: str, now: datetime) -> dict[str, Any]:
    """A settlement period as a FinancialEventGroup: Closed (with its fund transfer) once it has ended,
    Open (current balance) before; totals are the net of the period's shipment events."""
    currency = marketplace(p.marketplace_id).currency
    total = sum(
        event_total(shipment_event(o, store))
        for o in orders
        if o.marketplace_id == p.marketplace_id and o.ship_at is not None and p.start <= o.ship_at < p.end
    )
    amount = {"CurrencyCode": currency, "CurrencyAmount": round(total, 2)}
    group: dict[str, Any] = {
        "FinancialEventGroupId": p.settlement_id,
        "ProcessingStatus": "Closed" if p.end <= now else "Open",
        "OriginalTotal": amount,
        "ConvertedTotal": amount,
        "BeginningBalance": {"CurrencyCode": currency, "CurrencyAmount": 0.0},
        "FinancialEventGroupStart": ts(p.start),
    }
    if p.end <= now:
        group["FinancialEventGroupEnd"] = ts(p.end)
        group["FundTransferStatus"] = "Succeeded" if p.deposit <= now else "Processing"
        group["FundTransferDate"] = ts(p.deposit)
        group["TraceId"] = f"TR{p.settlement_id}"
        group["AccountTail"] = f"{int(p.settlement_id) % 1000:03d}"
    return group


def routes(state: SandboxState, book: OrderBook, tokens: PagingTokens) -> list[Route]:
    async def list_financial_event_groups(request: Request, caller: Caller) -> Response:
        acct = seller_account(caller)
        if acct is None:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        qp = request.query_params
        now = state.now()
        token = qp.get("NextToken")
        if token:
            spec = unb64(token)
            if spec is None or spec.get("op") != "groups":
                return bad_request("Invalid NextToken.")
            if tokens.expired(spec, FINANCES_TOKEN_TTL, "listFinancialEventGroups"):
                return bad_request(
                    "The NextToken has expired. Please restart the request without a NextToken.",
                    code="InvalidInput",
                )
        else:
            limit = now - timedelta(minutes=2)
            after = parse_dt(qp.get("FinancialEventGroupStartedAfter")) or now - timedelta(days=90)
            before = parse_dt(qp.get("FinancialEventGroupStartedBefore")) or limit
            if after > limit or before > limit:
                return bad_request("Dates must be at least 2 minutes before the request time.")
            if after >= before:
                return bad_request("FinancialEventGroupStartedAfter must be before StartedBefore.")
            try:
                size = int(qp.get("MaxResultsPerPage", "10"))
            except ValueError:
                return bad_request("Invalid MaxResultsPerPage.")
            if not 1 <= size <= 100:
                return bad_request("MaxResultsPerPage must be between 1 and 100.")
            spec = {"op": "groups", "after": ts(after), "before": ts(before), "size": size, "off": 0}
        after_dt, before_dt = parse_dt(spec["after"]), parse_dt(spec["before"])
        assert after_dt is not None and before_dt is not None
        periods = [
            p
            for p in settlement_periods(
                state.world.seed, acct, after_dt - SETTLEMENT_PERIOD, now + SETTLEMENT_PERIOD * 2
            )
            if after_dt <= p.start < before_dt and p.start <= now
        ]
        periods.sort(key=lambda p: (p.start, p.marketplace_id))
        off, size = int(spec["off"]), int(spec["size"])
        page = periods[off : off + size]
        orders: list[Order] = []
        if page:
            lo = min(p.start for p in page)
            hi = min(max(p.end for p in page), now)
            orders = await asyncio.to_thread(book.scan, acct, list(acct.marketplace_ids), hi, lo)
        payload: dict[str, Any] = {
            "FinancialEventGroupList": [event_group(p, orders, acct.store_name, now) for p in page]
        }
        if off + size < len(periods):
            payload["NextToken"] = b64(
                {**spec, "off": off + size, "t": state.monotonic(), "id": uuid.uuid4().hex}
            )
        return sp_json({"payload": payload})

    async def list_financial_events(request: Request, caller: Caller) -> Response:
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
            if tokens.expired(spec, FINANCES_TOKEN_TTL, "listFinancialEvents"):
                return bad_request(
                    "The NextToken has expired. Please restart the request without a NextToken.",
                    code="InvalidInput",
                )
        else:
            after = parse_dt(qp.get("PostedAfter"))
            before = parse_dt(qp.get("PostedBefore")) or now - timedelta(minutes=2)
            if after is None:
                return bad_request("PostedAfter is required.")
            if before > now - timedelta(minutes=2) or after >= before:
                return bad_request(
                    "PostedBefore must be after PostedAfter and at least 2 minutes before now."
                )
            if before - after > timedelta(days=180):
                return sp_json({"payload": {"FinancialEvents": {"ShipmentEventList": []}}})
            try:
                size = int(qp.get("MaxResultsPerPage", "100"))
            except ValueError:
                return bad_request("Invalid MaxResultsPerPage.")
            if not 1 <= size <= 100:
                return bad_request("MaxResultsPerPage must be between 1 and 100.")
            spec = {"after": ts(after), "before": ts(before), "size": size, "off": 0}
        after_dt, before_dt = parse_dt(spec["after"]), parse_dt(spec["before"])
        assert after_dt is not None and before_dt is not None
        orders = await asyncio.to_thread(book.scan, acct, list(acct.marketplace_ids), before_dt, after_dt)
        events = sorted(
            (o for o in orders if o.ship_at is not None and after_dt <= o.ship_at < before_dt),
            key=lambda o: (o.ship_at, o.order_id),
        )
        off, size = int(spec["off"]), int(spec["size"])
        payload: dict[str, Any] = {
            "FinancialEvents": {
                "ShipmentEventList": [shipment_event(o, acct.store_name) for o in events[off : off + size]]
            }
        }
        if off + size < len(events):
            payload["NextToken"] = b64(
                {**spec, "off": off + size, "t": state.monotonic(), "id": uuid.uuid4().hex}
            )
        return sp_json({"payload": payload})

    return [
        sp_route(state, "GET", "/finances/v0/financialEvents", "listFinancialEvents", list_financial_events),
        sp_route(
            state,
            "GET",
            "/finances/v0/financialEventGroups",
            "listFinancialEventGroups",
            list_financial_event_groups,
        ),
    ]
