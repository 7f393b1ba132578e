"""Sandbox routes: Catalog Items 2022-04-01, Listings Items 2021-08-01, Notifications v1, listing admin hook.

Every SP-API route goes through :func:`splake.sandbox.routing.sp_route`, so auth, the official usage plans
(getCatalogItem/searchCatalogItems 2 r/s burst 2, getListingsItem 5 r/s burst 10, notifications 1 r/s
burst 5), faults and rate headers apply as for every other operation.

Data is deterministic from the world's seed: each seller account lists the products of
``splake.sandbox.catalog.products_for`` (the same SKUs/ASINs/titles as the listings report), wrapped in
:class:`ItemsWorld`; catalog details (brand, sales ranks, images, dimensions) are derived from a hash.
Listing status can be changed with the admin hook
``POST /_sandbox/listings/{sellerId}/{sku}/status`` (JSON ``{"status": [...], "marketplaceId": …,
"severities": [...], "enforcementActions": [...]}``), which publishes LISTINGS_ITEM_STATUS_CHANGE (and
LISTINGS_ITEM_ISSUES_CHANGE when severities are given, payload version 2023-12-13) to subscribed
destinations.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.catalog import Product, language_of, products_for
from splake.sandbox.notify import Destination, Subscription, iso_now, pascal
from splake.sandbox.orders import VAT, Order, iter_orders
from splake.sandbox.responses import bad_request, not_found, sp_error, sp_json
from splake.sandbox.routing import Caller, sp_route
from splake.sandbox.state import SandboxState
from splake.sandbox.world import World
from splake.spapi.marketplaces import marketplace

CATALOG_DATA_SETS = frozenset(
    {
        "attributes",
        "classifications",
        "dimensions",
        "identifiers",
        "images",
        "productTypes",
        "relationships",
        "salesRanks",
        "summaries",
        "vendorDetails",
    }
)
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
IDENTIFIER_TYPES = frozenset({"ASIN", "EAN", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC"})

# (product type, display group, display group title, classification id, classification title, brand words)
CATEGORIES: tuple[tuple[str, str, str, str, str], ...] = (
    (
        "OUTDOOR_LIVING",
        "lawn_and_garden_display_on_website",
        "Patio, Lawn & Garden",
        "3238155011",
        "Camping Stoves",
    ),
    ("HOME", "home_display_on_website", "Home & Kitchen", "289913", "Coffee Mugs"),
    ("SPORTING_GOODS", "sporting_goods_display_on_website", "Sports & Outdoors", "3400371", "Water Bottles"),
    ("TOY_FIGURE", "toy_display_on_website", "Toys & Games", "166099011", "Puzzles"),
    ("KITCHEN", "kitchen_display_on_website", "Kitchen & Dining", "289851", "Chef's Knives"),
)
NOUNS = (
    "Stove",
    "Mug",
    "Bottle",
    "Puzzle",
    "Knife",
    "Lantern",
    "Tent Stake",
    "Kettle",
    "Thermos",
    "Cutting Board",
)
ADJECTIVES = ("Compact", "Insulated", "Rugged", "Classic", "Ultralight", "Premium", "Folding", "Stainless")


def _h(*parts: object) -> int:
    return int(hashlib.sha256("|".join(str(p) for p in parts).encode()).hexdigest()[:15], 16)


@dataclass
class Listing:
    """A seller's listing of one product (the product itself comes from ``splake.sandbox.catalog``)."""

    seller_id: str
    sku: str
    asin: str
    product: Product
    marketplace_ids: tuple[str, ...]
    quantity: int
    created: datetime
    category: int
    status: dict[str, list[str]] = field(default_factory=dict)  # marketplace → status list
    issues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    updated: datetime | None = None

    def title(self, mp: str) -> str:
        return self.product.title(language_of(mp))

    def price(self, mp: str) -> float:
        return self.product.price(marketplace(mp).currency)


class ItemsWorld:
    """Listings and catalog items derived from the world (built lazily, mutated by the admin hook)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.lock = threading.RLock()
        self._listings: dict[str, dict[str, Listing]] = {}
        self._by_asin: dict[str, Listing] = {}

    def listings(self, seller_id: str) -> dict[str, Listing]:
        with self.lock:
            if seller_id not in self._listings:
                self._listings[seller_id] = self._build(seller_id)
                for lst in self._listings[seller_id].values():
                    self._by_asin.setdefault(lst.asin, lst)
            return self._listings[seller_id]

    def _build(self, seller_id: str) -> dict[str, Listing]:
        acct = self.world.account_by_selling_partner_id(seller_id)
        if acct is None or acct.type != "seller":
            return {}
        seed = self.world.seed
        out: dict[str, Listing] = {}
        for p in products_for(seed, acct, self.world.scale):
            h = _h(seed, seller_id, p.sku)
            # About 1 in 12 listings is not buyable (discoverable only) and carries an ERROR issue.
            broken = h % 12 == 0
            status = ["DISCOVERABLE"] if broken else ["BUYABLE", "DISCOVERABLE"]
            issue = {
                "code": "90220",
                "message": "'item_name' is required but not supplied.",
                "severity": "ERROR",
                "attributeNames": ["item_name"],
                "categories": ["MISSING_ATTRIBUTE"],
            }
            out[p.sku] = Listing(
                seller_id=seller_id,
                sku=p.sku,
                asin=p.asin,
                product=p,
                marketplace_ids=acct.marketplace_ids,
                quantity=(h >> 20) % 250,
                created=p.open_date,
                category=h % len(CATEGORIES),
                status={m: list(status) for m in acct.marketplace_ids},
                issues={m: ([issue] if broken else []) for m in acct.marketplace_ids},
            )
        return out

    def by_asin(self, asin: str) -> Listing | None:
        with self.lock:
            for acct in self.world.accounts:
                if acct.type == "seller":
                    self.listings(acct.selling_partner_id)
            return self._by_asin.get(asin)


# --- response bodies ----------------------------------------------------------------------------


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def _money(amount: float, mp: str) -> str:
    return f"{amount:.0f}" if marketplace(mp).currency == "JPY" else f"{amount:.2f}"


def _language(mp: str) -> str:
    return marketplace(mp).language


def _rank(seed: int, asin: str, mp: str, salt: str) -> int:
    return 1 + _h(seed, asin, mp, salt) % 250_000


def catalog_item(world: World, lst: Listing, mp: str, included: set[str]) -> dict[str, Any]:
    seed = world.seed
    pt, group, group_title, class_id, class_title = CATEGORIES[lst.category]
    brand = f"Cascade {CATEGORIES[lst.category][0].split('_')[0].title()}"
    h = _h(seed, lst.asin)
    item: dict[str, Any] = {"asin": lst.asin}
    if "attributes" in included:
        item["attributes"] = {
            "item_name": [{"value": lst.title(mp), "language_tag": _language(mp), "marketplace_id": mp}],
            "brand": [{"value": brand, "language_tag": _language(mp), "marketplace_id": mp}],
            "list_price": [
                {
                    "currency": marketplace(mp).currency,
                    "value": round(lst.price(mp) * 1.2, 2),
                    "marketplace_id": mp,
                }
            ],
            "item_weight": [
                {"unit": "pounds", "value": round(0.2 + (h % 500) / 100, 2), "marketplace_id": mp}
            ],
        }
    if "dimensions" in included:
        dims = {
            "height": {"unit": "inches", "value": round(1 + (h % 90) / 10, 2)},
            "length": {"unit": "inches", "value": round(2 + (h >> 7) % 120 / 10, 2)},
            "weight": {"unit": "pounds", "value": round(0.2 + (h % 500) / 100, 2)},
            "width": {"unit": "inches", "value": round(1 + (h >> 14) % 80 / 10, 2)},
        }
        item["dimensions"] = [{"marketplaceId": mp, "item": dims, "package": dims}]
    if "identifiers" in included:
        ean = f"{40 + h % 50:02d}{h % 10**11:011d}"
        item["identifiers"] = [
            {
                "marketplaceId": mp,
                "identifiers": [
                    {"identifierType": "EAN", "identifier": ean},
                    {"identifierType": "UPC", "identifier": lst.product.upc},
                ],
            }
        ]
    if "images" in included:
        item["images"] = [
            {
                "marketplaceId": mp,
                "images": [
                    {
                        "variant": v,
                        "link": f"https://m.media-amazon.com/images/I/{lst.asin}{v}.jpg",
                        "height": 1000,
                        "width": 1000,
                    }
                    for v in ("MAIN", "PT01")
                ],
            }
        ]
    if "productTypes" in included:
        item["productTypes"] = [{"marketplaceId": mp, "productType": pt}]
    if "relationships" in included:
        item["relationships"] = [
            {
                "marketplaceId": mp,
                "relationships": [
                    {
                        "type": "VARIATION",
                        "parentAsins": [lst.product.parent_asin],
                        "variationTheme": {"attributes": ["color", "size"], "theme": "COLOR/SIZE"},
                    }
                ],
            }
        ]
    if "salesRanks" in included:
        item["salesRanks"] = [
            {
                "marketplaceId": mp,
                "classificationRanks": [
                    {
                        "classificationId": class_id,
                        "title": class_title,
                        "link": f"https://{marketplace(mp).domain}/gp/bestsellers/{class_id}",
                        "rank": _rank(seed, lst.asin, mp, "class") // 50 + 1,
                    }
                ],
                "displayGroupRanks": [
                    {
                        "websiteDisplayGroup": group,
                        "title": group_title,
                        "link": f"https://{marketplace(mp).domain}/gp/bestsellers/{group}",
                        "rank": _rank(seed, lst.asin, mp, "group"),
                    }
                ],
            }
        ]
    if "summaries" in included:
        item["summaries"] = [
            {
                "marketplaceId": mp,
                "brand": brand,
                "browseClassification": {"displayName": class_title, "classificationId": class_id},
                "itemClassification": "BASE_PRODUCT",
                "itemName": lst.title(mp),
                "manufacturer": brand + " Co.",
                "modelNumber": f"M{h % 100000:05d}",
                "packageQuantity": 1,
                "websiteDisplayGroup": group,
                "websiteDisplayGroupName": group_title,
            }
        ]
    if "classifications" in included:
        item["classifications"] = [
            {
                "marketplaceId": mp,
                "classifications": [{"displayName": class_title, "classificationId": class_id}],
            }
        ]
    if "vendorDetails" in included:
        item["vendorDetails"] = []
    return item


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
                "createdDate": _ts(lst.created),
                "lastUpdatedDate": _ts(lst.updated or lst.created + timedelta(days=30)),
                "mainImage": {
                    "link": f"https://m.media-amazon.com/images/I/{lst.asin}MAIN.jpg",
                    "height": 1000,
                    "width": 1000,
                },
            }
        ]
    if "attributes" in included:
        body["attributes"] = {
            "item_name": [{"value": lst.title(mp), "language_tag": _language(mp), "marketplace_id": mp}],
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
                "price": {"currencyCode": marketplace(mp).currency, "amount": _money(lst.price(mp), mp)},
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


# --- request helpers ----------------------------------------------------------------------------


def _csv(request: Request, name: str) -> list[str]:
    values: list[str] = []
    for raw in request.query_params.getlist(name):
        values.extend(v for v in raw.split(",") if v)
    return values


def _included(request: Request, allowed: frozenset[str]) -> set[str] | Response:
    values = _csv(request, "includedData") or ["summaries"]
    bad = [v for v in values if v not in allowed]
    if bad:
        return bad_request(f"Invalid includedData value(s): {', '.join(bad)}.", code="InvalidInput")
    return set(values)


def _one_marketplace(request: Request, caller: Caller) -> str | Response:
    mps = _csv(request, "marketplaceIds")
    if not mps:
        return bad_request("Missing required 'marketplaceIds'.")
    if len(mps) > 1:
        return bad_request("Only one marketplaceId is supported per request.")
    mp = mps[0]
    try:
        marketplace(mp)
    except Exception:
        return bad_request(f"Invalid marketplaceId '{mp}'.")
    return mp


# --- notifications ------------------------------------------------------------------------------


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
            "CreatedDate": _ts(lst.created),
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


def routes(state: SandboxState) -> list[Route]:
    items = ItemsWorld(state.world)

    # --- Catalog Items ---------------------------------------------------------------------------
    async def search_catalog_items(request: Request, caller: Caller) -> Response:
        mp = _one_marketplace(request, caller)
        if isinstance(mp, Response):
            return mp
        included = _included(request, CATALOG_DATA_SETS)
        if isinstance(included, Response):
            return included
        identifiers = _csv(request, "identifiers")
        keywords = _csv(request, "keywords")
        if identifiers and keywords:
            return bad_request("Cannot specify both 'identifiers' and 'keywords'.")
        if not identifiers and not keywords:
            return bad_request("Either 'identifiers' or 'keywords' must be specified.")
        if len(identifiers) > 20 or len(keywords) > 20:
            return bad_request("A maximum of 20 identifiers or keywords may be specified.")
        try:
            page_size = int(request.query_params.get("pageSize", "10"))
        except ValueError:
            return bad_request("Invalid 'pageSize'.")
        if not 1 <= page_size <= 20:
            return bad_request("'pageSize' must be between 1 and 20.")
        matches: list[Listing] = []
        if identifiers:
            id_type = request.query_params.get("identifiersType", "")
            if id_type not in IDENTIFIER_TYPES:
                return bad_request("'identifiersType' is required with 'identifiers'.")
            if id_type == "SKU":
                seller = request.query_params.get("sellerId")
                if not seller:
                    return bad_request("'sellerId' is required when 'identifiersType' is SKU.")
                by_sku = items.listings(seller)
                found = [by_sku.get(i) for i in identifiers]
            elif id_type == "ASIN":
                found = [items.by_asin(i) for i in identifiers]
            else:
                found = []
            seen: set[str] = set()
            for lst in found:
                if lst is not None and mp in lst.marketplace_ids and lst.asin not in seen:
                    seen.add(lst.asin)
                    matches.append(lst)
        else:
            words = [k.lower() for k in keywords]
            for acct in state.world.accounts:
                if acct.type != "seller":
                    continue
                for lst in items.listings(acct.selling_partner_id).values():
                    if mp in lst.marketplace_ids and any(w in lst.title(mp).lower() for w in words):
                        matches.append(lst)
                        if len(matches) >= 1000:
                            break
        start = 0
        token = request.query_params.get("pageToken")
        if token:
            try:
                start = int(token.removeprefix("page-"))
            except ValueError:
                return bad_request("Invalid 'pageToken'.")
        page = matches[start : start + page_size]
        body: dict[str, Any] = {
            "numberOfResults": len(matches),
            "items": [catalog_item(state.world, lst, mp, included) for lst in page],
        }
        pagination: dict[str, str] = {}
        if start + page_size < len(matches):
            pagination["nextToken"] = f"page-{start + page_size}"
        if start > 0:
            pagination["previousToken"] = f"page-{max(0, start - page_size)}"
        if pagination:
            body["pagination"] = pagination
        if keywords:
            body["refinements"] = {"brands": [], "classifications": []}
        return sp_json(body)

    async def get_catalog_item(request: Request, caller: Caller) -> Response:
        mp = _one_marketplace(request, caller)
        if isinstance(mp, Response):
            return mp
        included = _included(request, CATALOG_DATA_SETS)
        if isinstance(included, Response):
            return included
        asin = request.path_params["asin"]
        lst = items.by_asin(asin)
        if lst is None or mp not in lst.marketplace_ids:
            return not_found(f"Requested item '{asin}' not found in marketplace '{mp}'.")
        return sp_json(catalog_item(state.world, lst, mp, included))

    # --- Listings Items --------------------------------------------------------------------------
    async def get_listings_item(request: Request, caller: Caller) -> Response:
        seller = request.path_params["sellerId"]
        sku = request.path_params["sku"]
        if caller.selling_partner_id != seller:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        mps = _csv(request, "marketplaceIds")
        if not mps:
            return bad_request("Missing required 'marketplaceIds'.")
        included = _included(request, LISTING_DATA_SETS)
        if isinstance(included, Response):
            return included
        lst = items.listings(seller).get(sku)
        mp = mps[0]
        if lst is None or mp not in lst.marketplace_ids:
            return not_found(f"SKU '{sku}' not found in marketplace {mp}.")
        with items.lock:
            return sp_json(listing_body(lst, mp, included))

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

    # --- Notifications API -----------------------------------------------------------------------
    async def create_destination(request: Request, caller: Caller) -> Response:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return bad_request("Request body must be JSON.")
        name = body.get("name") if isinstance(body, dict) else None
        spec = body.get("resourceSpecification") if isinstance(body, dict) else None
        if not name or not isinstance(spec, dict) or len(spec) != 1:
            return bad_request("'name' and exactly one resource in 'resourceSpecification' are required.")
        with state.lock:
            if "sqs" in spec:
                arn = (spec["sqs"] or {}).get("arn", "")
                if not isinstance(arn, str) or not arn.startswith("arn:aws:sqs:") or arn.count(":") < 5:
                    return bad_request("Invalid SQS arn.")
                for d in state.destinations.values():
                    if d.kind == "sqs" and d.sqs_arn == arn:
                        return sp_error(
                            409,
                            "Conflict",
                            "A destination with that resource already exists.",
                            d.destination_id,
                        )
                dest = Destination(str(uuid.uuid4()), name, "sqs", sqs_arn=arn)
            elif "eventBridge" in spec:
                eb = spec["eventBridge"] or {}
                if not eb.get("region") or not eb.get("accountId"):
                    return bad_request("'region' and 'accountId' are required for eventBridge.")
                for d in state.destinations.values():
                    if (
                        d.kind == "eventBridge"
                        and d.account_id == eb["accountId"]
                        and d.region == eb["region"]
                    ):
                        return sp_error(
                            409,
                            "Conflict",
                            "A destination with that resource already exists.",
                            d.destination_id,
                        )
                dest = Destination(
                    str(uuid.uuid4()), name, "eventBridge", region=eb["region"], account_id=eb["accountId"]
                )
            else:
                return bad_request("Unknown resource type in 'resourceSpecification'.")
            state.destinations[dest.destination_id] = dest
        return sp_json({"payload": _destination_json(state, dest)})

    async def get_destinations(request: Request, caller: Caller) -> Response:
        with state.lock:
            dests = list(state.destinations.values())
        return sp_json({"payload": [_destination_json(state, d) for d in dests]})

    async def get_destination(request: Request, caller: Caller) -> Response:
        dest = state.destinations.get(request.path_params["destinationId"])
        if dest is None:
            return not_found("Destination not found.")
        return sp_json({"payload": _destination_json(state, dest)})

    async def delete_destination(request: Request, caller: Caller) -> Response:
        with state.lock:
            dest = state.destinations.pop(request.path_params["destinationId"], None)
        if dest is None:
            return not_found("Destination not found.")
        return sp_json({})

    async def create_subscription(request: Request, caller: Caller) -> Response:
        ntype = request.path_params["notificationType"]
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return bad_request("Request body must be JSON.")
        if not isinstance(body, dict) or not body.get("payloadVersion") or not body.get("destinationId"):
            return bad_request("'payloadVersion' and 'destinationId' are required.")
        seller = caller.selling_partner_id or ""
        with state.lock:
            dest = state.destinations.get(body["destinationId"])
            if dest is None:
                return not_found("Destination not found.")
            if ntype.startswith("LISTINGS_ITEM_") and dest.kind != "eventBridge":
                return bad_request(
                    f"{ntype} notifications can only be delivered to an EventBridge destination."
                )
            for sub in state.subscriptions_for(ntype, seller):
                return sp_error(409, "Conflict", "Subscription already exists.", sub.subscription_id)
            sub = Subscription(
                str(uuid.uuid4()),
                ntype,
                seller,
                dest.destination_id,
                str(body["payloadVersion"]),
                body.get("processingDirective"),
            )
            state.subscriptions[sub.subscription_id] = sub
        return sp_json({"payload": _subscription_json(sub)})

    async def get_subscription(request: Request, caller: Caller) -> Response:
        ntype = request.path_params["notificationType"]
        subs = state.subscriptions_for(ntype, caller.selling_partner_id or "")
        if not subs:
            return not_found(f"No subscription for {ntype}.")
        return sp_json({"payload": _subscription_json(subs[0])})

    async def get_subscription_by_id(request: Request, caller: Caller) -> Response:
        sub = state.subscriptions.get(request.path_params["subscriptionId"])
        if sub is None or sub.notification_type != request.path_params["notificationType"]:
            return not_found("Subscription not found.")
        return sp_json({"payload": _subscription_json(sub)})

    async def delete_subscription_by_id(request: Request, caller: Caller) -> Response:
        with state.lock:
            sub = state.subscriptions.get(request.path_params["subscriptionId"])
            if sub is None or sub.notification_type != request.path_params["notificationType"]:
                return not_found("Subscription not found.")
            del state.subscriptions[sub.subscription_id]
        return sp_json({})

    n = "/notifications/v1"
    return [
        *money_routes(state),
        sp_route(state, "GET", "/catalog/2022-04-01/items", "searchCatalogItems", search_catalog_items),
        sp_route(state, "GET", "/catalog/2022-04-01/items/{asin}", "getCatalogItem", get_catalog_item),
        sp_route(
            state, "GET", "/listings/2021-08-01/items/{sellerId}/{sku}", "getListingsItem", get_listings_item
        ),
        Route("/_sandbox/listings/{sellerId}/{sku}/status", set_listing_status, methods=["POST"]),
        sp_route(state, "GET", f"{n}/destinations", "getDestinations", get_destinations),
        sp_route(state, "POST", f"{n}/destinations", "createDestination", create_destination),
        sp_route(state, "GET", f"{n}/destinations/{{destinationId}}", "getDestination", get_destination),
        sp_route(
            state, "DELETE", f"{n}/destinations/{{destinationId}}", "deleteDestination", delete_destination
        ),
        sp_route(
            state, "GET", f"{n}/subscriptions/{{notificationType}}", "getSubscription", get_subscription
        ),
        sp_route(
            state,
            "POST",
            f"{n}/subscriptions/{{notificationType}}",
            "createSubscription",
            create_subscription,
        ),
        sp_route(
            state,
            "GET",
            f"{n}/subscriptions/{{notificationType}}/{{subscriptionId}}",
            "getSubscriptionById",
            get_subscription_by_id,
        ),
        sp_route(
            state,
            "DELETE",
            f"{n}/subscriptions/{{notificationType}}/{{subscriptionId}}",
            "deleteSubscriptionById",
            delete_subscription_by_id,
        ),
    ]


def _destination_json(state: SandboxState, dest: Destination) -> dict[str, Any]:
    resource = dest.resource()
    if dest.kind == "eventBridge":
        # The partner event source Amazon creates in the customer's account.
        source = f"aws.partner/sellingpartnerapi.amazon.com/{dest.account_id}/{state.world.application_id}"
        resource = {"eventBridge": {"name": source, "region": dest.region, "accountId": dest.account_id}}
    return {"name": dest.name, "destinationId": dest.destination_id, "resource": resource}


def _subscription_json(sub: Subscription) -> dict[str, Any]:
    out: dict[str, Any] = {
        "subscriptionId": sub.subscription_id,
        "payloadVersion": sub.payload_version,
        "destinationId": sub.destination_id,
    }
    if sub.processing_directive:
        out["processingDirective"] = sub.processing_directive
    return out


# --- Orders v0, Finances v0, FBA Inventory v1 -------------------------------------------------------

# How long a paging token stays valid (modelled seconds, multiplied by time_scale). FBA inventory's
# nextToken expires 30 s after creation (official); the Finances NextToken expiry is undocumented
# ("25/3 minutes" in reports from the field): 180 s modelled here.
INVENTORY_TOKEN_TTL = 30.0
FINANCES_TOKEN_TTL = 180.0
ORDER_SCAN_DAYS = 45  # how far back getOrders looks for orders updated in the window


def _b64(obj: dict[str, Any]) -> str:
    import base64

    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def _unb64(token: str) -> dict[str, Any] | None:
    import base64

    try:
        out = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, json.JSONDecodeError):
        return None
    return out if isinstance(out, dict) else None


def _parse_dt(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


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
        "PurchaseDate": _ts(o.purchase),
        "LastUpdateDate": _ts(last),
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


def buyer_info(o: Order) -> dict[str, str]:
    tag = abs(_h(o.order_id, "email")) % 10**8
    return {"BuyerEmail": f"{tag:08d}@marketplace.amazon.com", "BuyerName": f"Buyer {tag % 10000:04d}"}


def full_address(o: Order) -> dict[str, str]:
    return {
        "Name": f"Buyer {abs(_h(o.order_id, 'name')) % 10000:04d}",
        "AddressLine1": f"{abs(_h(o.order_id, 'street')) % 9000 + 100} Main St",
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
            "OrderItemId": f"{abs(_h(o.order_id, n)) % 10**14:014d}",
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


def shipment_event(o: Order, store: str) -> dict[str, Any]:
    assert o.ship_at is not None
    items = []
    for n, i in enumerate(o.items):
        gross = i.unit_price * i.quantity
        items.append(
            {
                "SellerSKU": i.product.sku,
                "OrderItemId": f"{abs(_h(o.order_id, n)) % 10**14:014d}",
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
        "PostedDate": _ts(o.ship_at),
        "ShipmentItemList": items,
    }


def inventory_summary(p: Product, seed: int, now: datetime, lang: str) -> dict[str, Any]:
    h = _h(seed, "fba", p.sku)
    fulfillable = h % 300
    reserved = (h >> 9) % 12
    unfulfillable = (h >> 14) % 4
    inbound = (h >> 18) % 40
    return {
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
        "lastUpdatedTime": _ts(now.replace(microsecond=0)),
        "productName": p.title(lang),
        "totalQuantity": fulfillable + reserved + unfulfillable + inbound,
    }


def money_routes(state: SandboxState) -> list[Route]:
    """Orders v0 (getOrders, getOrderItems, restricted getOrderAddress/getOrderBuyerInfo), Finances v0
    listFinancialEvents and FBA Inventory getInventorySummaries. Paging tokens of finances and inventory
    expire (see the TTLs above); ``SandboxConfig.extra["expire_first_token"] = True`` makes the first paging
    token used per operation fail once as expired, to exercise clients' restart logic deterministically."""
    index: dict[str, Order] = {}
    used_tokens: set[str] = set()
    lock = threading.Lock()

    def seller_account(caller: Caller) -> Any:
        acct = caller.account
        return acct if acct is not None and acct.type == "seller" else None

    def scan_orders(acct: Any, mps: list[str], as_of: datetime, since: datetime) -> list[Order]:
        start = (since - timedelta(days=ORDER_SCAN_DAYS)).date()
        out: list[Order] = []
        for mp in mps:
            out.extend(iter_orders(state.world.seed, acct, mp, start, as_of.date(), state.world.scale))
        with lock:
            for o in out:
                index[o.order_id] = o
        return out

    def token_expired(tok: dict[str, Any], ttl: float, operation: str) -> bool:
        issued = float(tok.get("t", 0))
        if state.monotonic() - issued > state.scaled(ttl):
            return True
        if state.config.extra.get("expire_first_token"):
            # Deterministic trap for tests: the first paging token of each operation has "expired".
            with lock:
                if operation not in used_tokens:
                    used_tokens.add(operation)
                    return True
        return False

    async def get_orders(request: Request, caller: Caller) -> Response:
        acct = seller_account(caller)
        if acct is None:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        qp = request.query_params
        now = state.now()
        token = qp.get("NextToken")
        if token:
            spec = _unb64(token)
            if spec is None:
                return bad_request("Invalid NextToken.")
        else:
            mps = _csv(request, "MarketplaceIds")
            if not mps:
                return bad_request("MarketplaceIds is required.")
            bad = [m for m in mps if m not in acct.marketplace_ids]
            if bad:
                return bad_request(f"Invalid MarketplaceIds: {', '.join(bad)}.")
            after = _parse_dt(qp.get("LastUpdatedAfter"))
            created_after = _parse_dt(qp.get("CreatedAfter"))
            if (after is None) == (created_after is None):
                return bad_request("Exactly one of CreatedAfter or LastUpdatedAfter is required.")
            limit = now - timedelta(minutes=2)
            before = _parse_dt(qp.get("LastUpdatedBefore") or qp.get("CreatedBefore")) or limit
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
                "after": _ts(after or created_after),  # type: ignore[arg-type]
                "before": _ts(before),
                "size": size,
                "off": 0,
            }
        # A Restricted Data Token for this path with dataElements adds buyer info / the full address.
        granted = caller.token.covers("GET", "/orders/v0/orders") if caller.token.kind == "rdt" else None
        elements = set(granted.data_elements) if granted else set()
        after_dt = _parse_dt(spec["after"])
        before_dt = _parse_dt(spec["before"])
        assert after_dt is not None and before_dt is not None
        rows = []
        for o in await asyncio.to_thread(scan_orders, acct, spec["mps"], before_dt, after_dt):
            js = order_json(o, before_dt)
            if js is None:
                continue
            t = _parse_dt(js["LastUpdateDate"] if spec["by"] == "updated" else js["PurchaseDate"])
            if t is not None and after_dt <= t < before_dt:
                rows.append((t, o.order_id, with_pii(o, js, elements)))
        rows.sort(key=lambda r: (r[0], r[1]))
        off, size = int(spec["off"]), int(spec["size"])
        payload: dict[str, Any] = {"Orders": [r[2] for r in rows[off : off + size]]}
        if off + size < len(rows):
            payload["NextToken"] = _b64({**spec, "off": off + size})
        payload["LastUpdatedBefore" if spec["by"] == "updated" else "CreatedBefore"] = spec["before"]
        return sp_json({"payload": payload})

    def find_order(caller: Caller, order_id: str) -> Order | None:
        with lock:
            o = index.get(order_id)
        acct = seller_account(caller)
        if o is None or acct is None or o.marketplace_id not in acct.marketplace_ids:
            return None
        return o

    async def get_order_items(request: Request, caller: Caller) -> Response:
        o = find_order(caller, request.path_params["orderId"])
        if o is None:
            return not_found("Order not found.")
        items = order_items_json(o, state.now())
        return sp_json({"payload": {"AmazonOrderId": o.order_id, "OrderItems": items}})

    async def get_order_address(request: Request, caller: Caller) -> Response:
        o = find_order(caller, request.path_params["orderId"])
        if o is None:
            return not_found("Order not found.")
        return sp_json({"payload": {"AmazonOrderId": o.order_id, "ShippingAddress": full_address(o)}})

    async def get_order_buyer_info(request: Request, caller: Caller) -> Response:
        o = find_order(caller, request.path_params["orderId"])
        if o is None:
            return not_found("Order not found.")
        return sp_json({"payload": {"AmazonOrderId": o.order_id, **buyer_info(o)}})

    async def list_financial_events(request: Request, caller: Caller) -> Response:
        acct = seller_account(caller)
        if acct is None:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        qp = request.query_params
        now = state.now()
        token = qp.get("NextToken")
        if token:
            spec = _unb64(token)
            if spec is None:
                return bad_request("Invalid NextToken.")
            if token_expired(spec, FINANCES_TOKEN_TTL, "listFinancialEvents"):
                return bad_request(
                    "The NextToken has expired. Please restart the request without a NextToken.",
                    code="InvalidInput",
                )
        else:
            after = _parse_dt(qp.get("PostedAfter"))
            before = _parse_dt(qp.get("PostedBefore")) or now - timedelta(minutes=2)
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
            spec = {"after": _ts(after), "before": _ts(before), "size": size, "off": 0}
        after_dt, before_dt = _parse_dt(spec["after"]), _parse_dt(spec["before"])
        assert after_dt is not None and before_dt is not None
        orders = await asyncio.to_thread(scan_orders, acct, list(acct.marketplace_ids), before_dt, after_dt)
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
            payload["NextToken"] = _b64(
                {**spec, "off": off + size, "t": state.monotonic(), "id": uuid.uuid4().hex}
            )
        return sp_json({"payload": payload})

    async def get_inventory_summaries(request: Request, caller: Caller) -> Response:
        acct = seller_account(caller)
        if acct is None:
            return sp_error(403, "Unauthorized", "Access to requested resource is denied.", "")
        qp = request.query_params
        if qp.get("granularityType") != "Marketplace" or not qp.get("granularityId"):
            return bad_request("granularityType=Marketplace and granularityId are required.")
        mps = _csv(request, "marketplaceIds")
        mp = qp["granularityId"]
        if mps != [mp] or mp not in acct.marketplace_ids:
            return bad_request(
                "marketplaceIds must hold exactly the granularityId marketplace of this seller."
            )
        off = 0
        token = qp.get("nextToken")
        if token:
            spec = _unb64(token)
            if spec is None or spec.get("mp") != mp:
                return bad_request("Invalid nextToken.")
            if token_expired(spec, INVENTORY_TOKEN_TTL, "getInventorySummaries"):
                return bad_request("The nextToken has expired.", code="InvalidInput")
            off = int(spec["off"])
        skus = set(_csv(request, "sellerSkus"))
        if len(skus) > 50:
            return bad_request("A maximum of 50 sellerSkus may be specified.")
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
                "inventorySummaries": [inventory_summary(p, state.world.seed, now, lang) for p in page],
            }
        }
        if off + 50 < len(products):
            body["pagination"] = {
                "nextToken": _b64({"mp": mp, "off": off + 50, "t": state.monotonic(), "id": uuid.uuid4().hex})
            }
        return sp_json(body)

    o = "/orders/v0/orders"
    return [
        sp_route(state, "GET", o, "getOrders", get_orders),
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
        sp_route(state, "GET", "/finances/v0/financialEvents", "listFinancialEvents", list_financial_events),
        sp_route(
            state, "GET", "/fba/inventory/v1/summaries", "getInventorySummaries", get_inventory_summaries
        ),
    ]
