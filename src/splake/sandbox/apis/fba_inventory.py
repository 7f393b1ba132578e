"""Sandbox FBA Inventory API v1: getInventorySummaries (nextToken expires 30 s after creation, official)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.apis.common import PagingTokens, b64, csv_param, digest, seller_account, ts, unb64
from splake.sandbox.catalog import Product, language_of, products_for
from splake.sandbox.responses import bad_request, sp_error, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState

INVENTORY_TOKEN_TTL = 30.0


def inventory_summary(p: Product, seed: int, now: datetime, lang: str, details: bool) -> dict[str, Any]:
    h = digest(seed, "fba", p.sku)
    fulfillable = h % 300
    reserved = (h >> 9) % 12
    unfulfillable = (h >> 14) % 4
    inbound = (h >> 18) % 40
    out: dict[str, Any] = {
        "asin": p.asin,
        "fnSku": p.fnsku,
        "sellerSku": p.sku,
        "condition": "NewItem",
        "inventoryDetails": {
            "fulfillableQuantity": fulfillable,
            "inboundWorkingQuantity": 0,
            "inboundShippedQuantity": inbound,
            "inboundReceivingQuantity": 0,
            "reservedQuantity": {
                "totalReservedQuantity": reserved,
                "pendingCustomerOrderQuantity": reserved,
                "pendingTransshipmentQuantity": 0,
                "fcProcessingQuantity": 0,
            },
            "unfulfillableQuantity": {
                "totalUnfulfillableQuantity": unfulfillable,
                "customerDamagedQuantity": unfulfillable,
            },
        },
        "lastUpdatedTime": ts(now.replace(microsecond=0)),
        "productName": p.title(lang),
        "totalQuantity": fulfillable + reserved + unfulfillable + inbound,
    }
    if not details:
        del out["inventoryDetails"]  # only with details=true (the model's default is false)
    return out


def routes(state: SandboxState, tokens: PagingTokens) -> list[Route]:
    async def get_inventory_summaries(request: Request, caller: Caller) -> Response:
        acct = seller_account(caller)
        if acct is None:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        qp = request.query_params
        if qp.get("granularityType") != "Marketplace" or not qp.get("granularityId"):
            return bad_request("granularityType=Marketplace and granularityId are required.")
        mps = csv_param(request, "marketplaceIds")
        mp = qp["granularityId"]
        if mps != [mp] or mp not in acct.marketplace_ids:
            return bad_request(
                "marketplaceIds must hold exactly the granularityId marketplace of this seller."
            )
        off = 0
        token = qp.get("nextToken")
        if token:
            spec = unb64(token)
            if spec is None or spec.get("mp") != mp:
                return bad_request("Invalid nextToken.")
            if tokens.expired(spec, INVENTORY_TOKEN_TTL, "getInventorySummaries"):
                return bad_request("The nextToken has expired.", code="InvalidInput")
            off = int(spec["off"])
        details_flag = qp.get("details", "false").lower()
        if details_flag not in {"true", "false"}:
            return bad_request("details must be true or false.")
        skus = set(csv_param(request, "sellerSkus"))
        if len(skus) > 50:
            return bad_request("A maximum of 50 sellerSkus may be specified.")
        if qp.get("sellerSku"):
            skus.add(qp["sellerSku"])
        products = [
            p for p in products_for(state.world.seed, acct, state.world.scale) if p.fulfillment == "AFN"
        ]
        if skus:
            products = [p for p in products if p.sku in skus]
        now, lang = state.now(), language_of(mp)
        page = products[off : off + 50]
        body: dict[str, Any] = {
            "payload": {
                "granularity": {"granularityType": "Marketplace", "granularityId": mp},
                "inventorySummaries": [
                    inventory_summary(p, state.world.seed, now, lang, details_flag == "true") for p in page
                ],
            }
        }
        if off + 50 < len(products):
            body["pagination"] = {
                "nextToken": b64({"mp": mp, "off": off + 50, "t": state.monotonic(), "id": uuid.uuid4().hex})
            }
        return sp_json(body)

    return [
        sp_route(
            state, "GET", "/fba/inventory/v1/summaries", "getInventorySummaries", get_inventory_summaries
        ),
    ]
