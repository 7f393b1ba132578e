"""Sandbox Catalog Items API 2022-04-01: searchCatalogItems, getCatalogItem (2 r/s burst 2)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from splake.sandbox.apis.common import csv_param, digest, included_data
from splake.sandbox.apis.listings_world import CATEGORIES, ItemsWorld, Listing, language
from splake.sandbox.responses import bad_request, not_found, sp_json
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
IDENTIFIER_TYPES = frozenset({"ASIN", "EAN", "GTIN", "ISBN", "JAN", "MINSAN", "SKU", "UPC"})


def _rank(seed: int, asin: str, mp: str, salt: str) -> int:
    return 1 + digest(seed, asin, mp, salt) % 250_000


def catalog_item(world: World, lst: Listing, mp: str, included: set[str]) -> dict[str, Any]:
    seed = world.seed
    pt, group, group_title, class_id, class_title = CATEGORIES[lst.category]
    brand = f"Cascade {CATEGORIES[lst.category][0].split('_')[0].title()}"
    h = digest(seed, lst.asin)
    item: dict[str, Any] = {"asin": lst.asin}
    if "attributes" in included:
        item["attributes"] = {
            "item_name": [{"value": lst.title(mp), "language_tag": language(mp), "marketplace_id": mp}],
            "brand": [{"value": brand, "language_tag": language(mp), "marketplace_id": mp}],
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


def marketplaces_param(request: Request) -> list[str] | Response:
    mps = list(dict.fromkeys(csv_param(request, "marketplaceIds")))
    if not mps:
        return bad_request("Missing required 'marketplaceIds'.")
    for mp in mps:
        try:
            marketplace(mp)
        except Exception:
            return bad_request(f"Invalid marketplaceId '{mp}'.")
    return mps


def one_marketplace(request: Request, caller: Caller) -> str | Response:
    """searchCatalogItems: the model allows exactly one marketplaceId (maxItems 1)."""
    mps = marketplaces_param(request)
    if isinstance(mps, Response):
        return mps
    if len(mps) > 1:
        return bad_request("Only one marketplaceId is supported per request.")
    return mps[0]


def merge_items(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One Item across several marketplaces: per-marketplace lists concatenate, attribute values (each
    tagged with its marketplace_id) join per attribute name."""
    out: dict[str, Any] = {"asin": parts[0]["asin"]}
    for part in parts:
        for key, value in part.items():
            if key == "asin":
                continue
            if key == "attributes":
                attrs = out.setdefault("attributes", {})
                for name, values in value.items():
                    attrs.setdefault(name, []).extend(values)
            else:
                out.setdefault(key, []).extend(value)
    return out


def routes(state: SandboxState, items: ItemsWorld) -> list[Route]:
    # --- Catalog Items ---------------------------------------------------------------------------
    async def search_catalog_items(request: Request, caller: Caller) -> Response:
        mp = one_marketplace(request, caller)
        if isinstance(mp, Response):
            return mp
        included = included_data(request, CATALOG_DATA_SETS)
        if isinstance(included, Response):
            return included
        identifiers = csv_param(request, "identifiers")
        keywords = csv_param(request, "keywords")
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
        mps = marketplaces_param(request)
        if isinstance(mps, Response):
            return mps
        included = included_data(request, CATALOG_DATA_SETS)
        if isinstance(included, Response):
            return included
        asin = request.path_params["asin"]
        lst = items.by_asin(asin)
        found = [mp for mp in mps if lst is not None and mp in lst.marketplace_ids]
        if lst is None or not found:
            return not_found(f"Requested item '{asin}' not found in marketplace(s) {', '.join(mps)}.")
        return sp_json(merge_items([catalog_item(state.world, lst, mp, included) for mp in found]))

    return [
        sp_route(state, "GET", "/catalog/2022-04-01/items", "searchCatalogItems", search_catalog_items),
        sp_route(state, "GET", "/catalog/2022-04-01/items/{asin}", "getCatalogItem", get_catalog_item),
    ]
