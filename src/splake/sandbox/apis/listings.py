"""Sandbox Listings Items API 2021-08-01 (getListingsItem, 5 r/s burst 10) and the listing admin hook.

Listing status can be changed with the admin hook ``POST /_sandbox/listings/{sellerId}/{sku}/status`` (JSON
``{"status": [...], "marketplaceId": …, "severities": [...], "enforcementActions": [...]}``), which
publishes LISTINGS_ITEM_STATUS_CHANGE (and LISTINGS_ITEM_ISSUES_CHANGE when severities are given, payload
version 2023-12-13) to subscribed destinations.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.apis.common import b64, csv_param, included_data, parse_dt, ts, unb64
from splake.sandbox.apis.listings_world import CATEGORIES, ItemsWorld, Listing, language, money
from splake.sandbox.notify import iso_now, pascal
from splake.sandbox.responses import bad_request, not_found, sp_error, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState
from splake.spapi.marketplaces import marketplace

LISTING_DATA_SETS = frozenset(
    {
        "summaries",
        "attributes",
        "issues",
        "offers",
        "fulfillmentAvailability",
        "procurement",
        "relationships",
        "productTypes",
    }
)


def listing_body(lst: Listing, mp: str, included: set[str]) -> dict[str, Any]:
    pt = CATEGORIES[lst.category][0]
    body: dict[str, Any] = {"sku": lst.sku}
    if "summaries" in included:
        body["summaries"] = [
            {
                "marketplaceId": mp,
                "asin": lst.asin,
                "productType": pt,
                "conditionType": "new_new",
                "status": list(lst.status.get(mp, [])),
                "itemName": lst.title(mp),
                "createdDate": ts(lst.created),
                "lastUpdatedDate": ts(lst.updated or lst.created + timedelta(days=30)),
                "mainImage": {
                    "link": f"https://m.media-amazon.com/images/I/{lst.asin}MAIN.jpg",
                    "height": 1000,
                    "width": 1000,
                },
            }
        ]
    if "attributes" in included:
        body["attributes"] = {
            "item_name": [{"value": lst.title(mp), "language_tag": language(mp), "marketplace_id": mp}],
            "condition_type": [{"value": "new_new", "marketplace_id": mp}],
            "purchasable_offer": [
                {
                    "currency": marketplace(mp).currency,
                    "our_price": [{"schedule": [{"value_with_tax": lst.price(mp)}]}],
                    "marketplace_id": mp,
                }
            ],
        }
    if "issues" in included:
        body["issues"] = [dict(i, marketplaceIds=[mp]) for i in lst.issues.get(mp, [])]
    if "offers" in included:
        body["offers"] = [
            {
                "marketplaceId": mp,
                "offerType": "B2C",
                "price": {"currencyCode": marketplace(mp).currency, "amount": money(lst.price(mp), mp)},
            }
        ]
    if "fulfillmentAvailability" in included:
        body["fulfillmentAvailability"] = [{"fulfillmentChannelCode": "DEFAULT", "quantity": lst.quantity}]
    if "productTypes" in included:
        body["productTypes"] = [{"marketplaceId": mp, "productType": pt}]
    if "relationships" in included:
        body["relationships"] = [{"marketplaceId": mp, "relationships": []}]
    if "procurement" in included:
        body["procurement"] = []
    return body


def listing_status_notification(lst: Listing, mp: str, meta: dict[str, str], now: datetime) -> dict[str, Any]:
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "LISTINGS_ITEM_STATUS_CHANGE",
        "PayloadVersion": "1.0",
        "EventTime": iso_now(now),
        "Payload": {
            "SellerId": lst.seller_id,
            "MarketplaceId": mp,
            "Asin": lst.asin,
            "Sku": lst.sku,
            "CreatedDate": ts(lst.created),
            "Status": list(lst.status.get(mp, [])),
        },
        "NotificationMetadata": pascal(meta),
    }


def listing_issues_notification(
    lst: Listing, mp: str, severities: list[str], actions: list[str], meta: dict[str, str], now: datetime
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "SellerId": lst.seller_id,
        "MarketplaceId": mp,
        "Asin": lst.asin,
        "Sku": lst.sku,
        "Severities": severities,
    }
    if actions:
        payload["EnforcementActions"] = actions
    return {
        "NotificationVersion": "1.0",
        "NotificationType": "LISTINGS_ITEM_ISSUES_CHANGE",
        "PayloadVersion": "2023-12-13",
        "EventTime": iso_now(now),
        "Payload": payload,
        "NotificationMetadata": pascal(meta),
    }


SEARCH_LIMIT = 1000  # "The maximum number of items (SKUs) that can be returned and paged through is 1000."
SEARCH_IDENTIFIER_TYPES = frozenset({"ASIN", "EAN", "FNSKU", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC"})
SORT_KEYS = {"sku", "createdDate", "lastUpdatedDate"}


def _updated(lst: Listing) -> datetime:
    return lst.updated or lst.created + timedelta(days=30)


def search_filter(request: Request, listings: dict[str, Listing], mp: str) -> list[Listing] | Response:
    """searchListingsItems filters and sort order, applied to one seller's listings in marketplace ``mp``."""
    qp = request.query_params
    identifiers = csv_param(request, "identifiers")
    id_type = qp.get("identifiersType")
    if len(identifiers) > 20:
        return bad_request("A maximum of 20 identifiers may be specified.")
    if bool(identifiers) != bool(id_type):
        return bad_request("'identifiers' and 'identifiersType' must be specified together.")
    if id_type and id_type not in SEARCH_IDENTIFIER_TYPES:
        return bad_request(f"Invalid 'identifiersType' {id_type}.")
    with_status = set(csv_param(request, "withStatus"))
    without_status = set(csv_param(request, "withoutStatus"))
    severities = set(csv_param(request, "withIssueSeverity"))
    bounds = {}
    for name in ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore"):
        if qp.get(name):
            parsed = parse_dt(qp[name])
            if parsed is None:
                return bad_request(f"Invalid '{name}'.")
            bounds[name] = parsed
    sort_by = qp.get("sortBy", "lastUpdatedDate")
    order = qp.get("sortOrder", "DESC")
    if sort_by not in SORT_KEYS or order not in {"ASC", "DESC"}:
        return bad_request("Invalid 'sortBy' or 'sortOrder'.")
    wanted = set(identifiers)
    out: list[Listing] = []
    for lst in listings.values():
        if mp not in lst.marketplace_ids:
            continue
        if id_type == "SKU" and lst.sku not in wanted:
            continue
        if id_type == "ASIN" and lst.asin not in wanted:
            continue
        if id_type not in (None, "SKU", "ASIN"):
            continue  # the sandbox world carries no other identifiers of a listing
        status = set(lst.status.get(mp, []))
        if with_status and not with_status & status:
            continue
        if without_status & status:
            continue
        if severities and not severities & {i["severity"] for i in lst.issues.get(mp, [])}:
            continue
        updated = _updated(lst)
        if "createdAfter" in bounds and lst.created < bounds["createdAfter"]:
            continue
        if "createdBefore" in bounds and lst.created > bounds["createdBefore"]:
            continue
        if "lastUpdatedAfter" in bounds and updated < bounds["lastUpdatedAfter"]:
            continue
        if "lastUpdatedBefore" in bounds and updated > bounds["lastUpdatedBefore"]:
            continue
        out.append(lst)

    def key(lst: Listing) -> tuple[Any, str]:
        if sort_by == "sku":
            return (lst.sku, lst.sku)
        return (lst.created if sort_by == "createdDate" else _updated(lst), lst.sku)

    out.sort(key=key, reverse=order == "DESC")
    return out


def routes(state: SandboxState, items: ItemsWorld) -> list[Route]:
    async def get_listings_item(request: Request, caller: Caller) -> Response:
        seller = request.path_params["sellerId"]
        sku = request.path_params["sku"]
        if caller.selling_partner_id != seller:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        mps = csv_param(request, "marketplaceIds")
        if not mps:
            return bad_request("Missing required 'marketplaceIds'.")
        included = included_data(request, LISTING_DATA_SETS)
        if isinstance(included, Response):
            return included
        lst = items.listings(seller).get(sku)
        mp = mps[0]
        if lst is None or mp not in lst.marketplace_ids:
            return not_found(f"SKU '{sku}' not found in marketplace {mp}.")
        with items.lock:
            return sp_json(listing_body(lst, mp, included))

    async def search_listings_items(request: Request, caller: Caller) -> Response:
        seller = request.path_params["sellerId"]
        if caller.selling_partner_id != seller:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        mps = csv_param(request, "marketplaceIds")
        if not mps:
            return bad_request("Missing required 'marketplaceIds'.")
        included = included_data(request, LISTING_DATA_SETS)
        if isinstance(included, Response):
            return included
        found = search_filter(request, items.listings(seller), mps[0])
        if isinstance(found, Response):
            return found
        qp = request.query_params
        try:
            size = int(qp.get("pageSize", "10"))
        except ValueError:
            return bad_request("Invalid 'pageSize'.")
        if not 1 <= size <= 20:
            return bad_request("'pageSize' must be between 1 and 20.")
        start = 0
        if qp.get("pageToken"):
            tok = unb64(qp["pageToken"])
            if tok is None or not isinstance(tok.get("off"), int):
                return bad_request("Invalid 'pageToken'.")
            start = tok["off"]
        pageable = found[:SEARCH_LIMIT]
        with items.lock:
            body: dict[str, Any] = {
                "numberOfResults": len(found),
                "items": [listing_body(lst, mps[0], included) for lst in pageable[start : start + size]],
            }
        pagination: dict[str, str] = {}
        if start + size < len(pageable):
            pagination["nextToken"] = b64({"off": start + size})
        if start > 0:
            pagination["previousToken"] = b64({"off": max(0, start - size)})
        if pagination:
            body["pagination"] = pagination
        return sp_json(body)

    # --- admin hook: change listing status and notify --------------------------------------------
    async def set_listing_status(request: Request) -> Response:
        seller = request.path_params["sellerId"]
        sku = request.path_params["sku"]
        lst = items.listings(seller).get(sku)
        if lst is None:
            return not_found(f"SKU '{sku}' not found for seller {seller}.")
        try:
            spec = await request.json()
        except json.JSONDecodeError:
            return bad_request("Body must be JSON.")
        mp = spec.get("marketplaceId") or lst.marketplace_ids[0]
        status = [str(s) for s in spec.get("status") or []]
        severities = [str(s) for s in spec.get("severities") or []]
        actions = [str(s) for s in spec.get("enforcementActions") or []]
        now = state.now()
        with items.lock:
            if status:
                lst.status[mp] = status
            if severities:
                lst.issues[mp] = [
                    {
                        "code": f"SANDBOX_{sev}",
                        "message": f"Sandbox issue of severity {sev}.",
                        "severity": sev,
                        "categories": ["INVALID_ATTRIBUTE"],
                        **(
                            {
                                "enforcements": {
                                    "actions": [{"action": a} for a in actions],
                                    "exemption": {"status": "NOT_EXEMPT"},
                                }
                            }
                            if actions
                            else {}
                        ),
                    }
                    for sev in severities
                    if sev in {"ERROR", "WARNING"}
                ]
            lst.updated = now
        sent = 0
        if status:
            sent += await asyncio.to_thread(
                state.publish_notification,
                "LISTINGS_ITEM_STATUS_CHANGE",
                seller,
                lambda meta: listing_status_notification(lst, mp, meta, now),
            )
        if severities:
            sent += await asyncio.to_thread(
                state.publish_notification,
                "LISTINGS_ITEM_ISSUES_CHANGE",
                seller,
                lambda meta: listing_issues_notification(lst, mp, severities, actions, meta, now),
            )
        return sp_json(
            {"sku": sku, "marketplaceId": mp, "status": lst.status.get(mp, []), "notificationsSent": sent}
        )

    return [
        sp_route(
            state, "GET", "/listings/2021-08-01/items/{sellerId}/{sku}", "getListingsItem", get_listings_item
        ),
        sp_route(
            state,
            "GET",
            "/listings/2021-08-01/items/{sellerId}",
            "searchListingsItems",
            search_listings_items,
        ),
        Route("/_sandbox/listings/{sellerId}/{sku}/status", set_listing_status, methods=["POST"]),
    ]
