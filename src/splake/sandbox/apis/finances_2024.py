"""Sandbox Finances API 2024-06-19: listTransactions (0.5 r/s, burst 10).

One ``Shipment`` transaction per shipped world order, posted at its ship time (the same orders, amounts and
item ids as Finances v0's ShipmentEvents), related to its order and to the financial event group
(settlement period) it falls in. Pages of 100; the nextToken carries the query and expires like v0's
(FINANCES_TOKEN_TTL modelled seconds; ``extra["expire_first_token"]`` makes the first one used fail once).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.accounts import SandboxAccount
from splake.sandbox.apis.common import PagingTokens, b64, digest, parse_dt, seller_account, ts, unb64
from splake.sandbox.apis.finances import FINANCES_TOKEN_TTL
from splake.sandbox.apis.orders_v0 import OrderBook, order_item_id
from splake.sandbox.orders import VAT, Order
from splake.sandbox.render_settlements import SETTLEMENT_EPOCH, SETTLEMENT_PERIOD
from splake.sandbox.responses import bad_request, sp_error, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState
from splake.spapi.marketplaces import marketplace

PAGE_SIZE = 100
FBA_FEE_PER_UNIT = 3.22
COMMISSION = 0.15


def transaction_id(o: Order) -> str:
    return f"T{digest(o.order_id, 'transaction') % 10**16:016d}"


def group_id(seed: int, acct: SandboxAccount, mp: str, when: datetime) -> str:
    """The settlement period (financial event group) id a posting at ``when`` belongs to."""
    import hashlib

    k = int((when - SETTLEMENT_EPOCH) / SETTLEMENT_PERIOD)
    raw = hashlib.sha256(f"{seed}|settle|{acct.account_id}|{mp}|{k}".encode()).hexdigest()
    return str(int(raw, 16) % 10**11)


def _amount(value: float, currency: str) -> dict[str, Any]:
    return {"currencyCode": currency, "currencyAmount": round(value, 2)}


def transaction(o: Order, acct: SandboxAccount, seed: int) -> dict[str, Any]:
    assert o.ship_at is not None
    cur = o.currency
    items, principal, tax, commission, fba = [], 0.0, 0.0, 0.0, 0.0
    for n, i in enumerate(o.items):
        # Per item in cents, as Finances v0's ShipmentEvent items (the same amounts in both APIs).
        raw_gross = i.unit_price * i.quantity
        gross = round(raw_gross, 2)
        it_tax = round(raw_gross * VAT.get(cur, 0.0), 2)
        it_comm = -round(raw_gross * COMMISSION, 2)
        it_fba = -round(FBA_FEE_PER_UNIT * i.quantity, 2) if o.fulfillment == "Amazon" else 0.0
        principal, tax, commission, fba = principal + gross, tax + it_tax, commission + it_comm, fba + it_fba
        items.append(
            {
                "description": i.product.title("en"),
                "relatedIdentifiers": [
                    {
                        "itemRelatedIdentifierName": "TRANSACTION_ID",
                        "itemRelatedIdentifierValue": order_item_id(o, n),
                    }
                ],
                "totalAmount": _amount(gross + it_tax + it_comm + it_fba, cur),
                "contexts": [
                    {
                        "contextType": "ProductContext",
                        "asin": i.product.asin,
                        "sku": i.product.sku,
                        "quantityShipped": i.quantity,
                        "fulfillmentNetwork": "AFN" if o.fulfillment == "Amazon" else "MFN",
                    }
                ],
            }
        )
    charges = [("Principal", principal), ("Tax", tax)]
    fees = [("Commission", commission)] + ([("FBAPerUnitFulfillmentFee", fba)] if fba else [])
    total = sum(round(v, 2) for _, v in charges + fees)
    mp = marketplace(o.marketplace_id)
    return {
        "sellingPartnerMetadata": {
            "sellingPartnerId": acct.selling_partner_id,
            "accountType": "Standard Orders",
            "marketplaceId": o.marketplace_id,
        },
        "relatedIdentifiers": [
            {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": o.order_id},
            {
                "relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID",
                "relatedIdentifierValue": group_id(seed, acct, o.marketplace_id, o.ship_at),
            },
        ],
        "transactionType": "Shipment",
        "transactionId": transaction_id(o),
        "transactionStatus": "RELEASED",
        "description": "Order Payment",
        "postedDate": ts(o.ship_at),
        "totalAmount": _amount(total, cur),
        "marketplaceDetails": {
            "marketplaceId": o.marketplace_id,
            "marketplaceName": "Amazon." + mp.domain.split("amazon.")[-1],
        },
        "items": items,
        "breakdowns": [
            {
                "breakdownType": "ProductCharges",
                "breakdownAmount": _amount(sum(round(v, 2) for _, v in charges), cur),
                "breakdowns": [{"breakdownType": t, "breakdownAmount": _amount(v, cur)} for t, v in charges],
            },
            {
                "breakdownType": "AmazonFees",
                "breakdownAmount": _amount(sum(round(v, 2) for _, v in fees), cur),
                "breakdowns": [{"breakdownType": t, "breakdownAmount": _amount(v, cur)} for t, v in fees],
            },
        ],
    }


def routes(state: SandboxState, book: OrderBook, tokens: PagingTokens) -> list[Route]:
    async def list_transactions(request: Request, caller: Caller) -> Response:
        acct = seller_account(caller)
        if acct is None:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        qp = request.query_params
        now = state.now()
        token = qp.get("nextToken")
        if token:
            spec = unb64(token)
            if spec is None or spec.get("op") != "transactions":
                return bad_request("Invalid nextToken.")
            if tokens.expired(spec, FINANCES_TOKEN_TTL, "listTransactions"):
                return bad_request(
                    "The nextToken has expired. Please restart the request without a nextToken.",
                    code="InvalidInput",
                )
        else:
            limit = now - timedelta(minutes=2)
            rel_name, rel_value = qp.get("relatedIdentifierName"), qp.get("relatedIdentifierValue")
            if rel_name and rel_name not in ("ORDER_ID", "FINANCIAL_EVENT_GROUP_ID"):
                return bad_request("relatedIdentifierName must be ORDER_ID or FINANCIAL_EVENT_GROUP_ID.")
            if bool(rel_name) != bool(rel_value):
                return bad_request("relatedIdentifierName and relatedIdentifierValue go together.")
            after = parse_dt(qp.get("postedAfter"))
            if after is None and not rel_name:
                return bad_request("postedAfter is required without a related identifier.")
            before = parse_dt(qp.get("postedBefore")) or limit
            after = after or before - timedelta(days=180)
            if after > limit or before > limit or after >= before:
                return bad_request(
                    "postedBefore must be later than postedAfter and both more than two minutes ago."
                )
            mp = qp.get("marketplaceId")
            if mp and mp not in acct.marketplace_ids:
                return bad_request(f"Invalid marketplaceId {mp}.")
            status = qp.get("transactionStatus")
            spec = {
                "op": "transactions",
                "after": ts(after),
                "before": ts(before),
                "mp": mp,
                "status": status,
                "rel": [rel_name, rel_value] if rel_name else None,
                "off": 0,
            }
        after_dt, before_dt = parse_dt(spec["after"]), parse_dt(spec["before"])
        assert after_dt is not None and before_dt is not None
        out: list[dict[str, Any]] = []
        if before_dt - after_dt <= timedelta(days=180):  # Amazon: more than 180 days apart → empty
            mps = [spec["mp"]] if spec["mp"] else list(acct.marketplace_ids)
            orders = await asyncio.to_thread(book.scan, acct, mps, before_dt, after_dt)
            posted = sorted(
                (o for o in orders if o.ship_at is not None and after_dt <= o.ship_at < before_dt),
                key=lambda o: (o.ship_at, o.order_id),
            )
            for o in posted:
                tx = transaction(o, acct, state.world.seed)
                if spec["status"] and tx["transactionStatus"] != spec["status"]:
                    continue
                if spec["rel"] and [spec["rel"][0], spec["rel"][1]] not in [
                    [r["relatedIdentifierName"], r["relatedIdentifierValue"]]
                    for r in tx["relatedIdentifiers"]
                ]:
                    continue
                out.append(tx)
        off = int(spec["off"])
        payload: dict[str, Any] = {"transactions": out[off : off + PAGE_SIZE]}
        if off + PAGE_SIZE < len(out):
            payload["nextToken"] = b64(
                {**spec, "off": off + PAGE_SIZE, "t": state.monotonic(), "id": uuid.uuid4().hex}
            )
        return sp_json({"payload": payload})

    return [
        sp_route(state, "GET", "/finances/2024-06-19/transactions", "listTransactions", list_transactions)
    ]
