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
