"""Shape SP-API item responses into table rows (pure; the schemas are in :mod:`splake.items.schemas`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from splake.items.convert import to_arrow_value
from splake.items.schemas import CATALOG_ITEMS, LISTINGS_ITEMS


def _for_marketplace(entries: Any, marketplace_id: str) -> dict[str, Any] | None:
    """Catalog data sets are lists of per-marketplace objects; pick this marketplace's."""
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("marketplaceId") == marketplace_id:
            return entry
    return None


def _attributes_json(attrs: Any) -> str | None:
    if not isinstance(attrs, dict):
        return None
    return json.dumps(attrs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def best_display_rank(sales_ranks: dict[str, Any] | None) -> tuple[int | None, str | None]:
    """The smallest display-group rank (e.g. #12 in Toys), falling back to classification ranks."""
    if not sales_ranks:
        return None, None
    best: tuple[int, str] | None = None
    for key, group_key in (
        ("displayGroupRanks", "websiteDisplayGroup"),
        ("classificationRanks", "classificationId"),
    ):
        for r in sales_ranks.get(key) or []:
            rank = r.get("rank")
            if isinstance(rank, int) and (best is None or rank < best[0]):
                best = (rank, str(r.get(group_key) or r.get("title") or ""))
        if best is not None:
            break
    return best if best else (None, None)


def catalog_row(item: dict[str, Any], marketplace_id: str, fetched_at: datetime) -> dict[str, Any]:
    summary = _for_marketplace(item.get("summaries"), marketplace_id) or {}
    ranks = _for_marketplace(item.get("salesRanks"), marketplace_id)
    rank, rank_group = best_display_rank(ranks)
    product_type = _for_marketplace(item.get("productTypes"), marketplace_id) or {}
    identifiers = _for_marketplace(item.get("identifiers"), marketplace_id) or {}
    images = _for_marketplace(item.get("images"), marketplace_id) or {}
    relationships = _for_marketplace(item.get("relationships"), marketplace_id) or {}
    dimensions = _for_marketplace(item.get("dimensions"), marketplace_id)
    raw = {
        "asin": item["asin"],
        "fetched_at": fetched_at,
        "item_name": summary.get("itemName"),
        "brand": summary.get("brand"),
        "product_type": product_type.get("productType"),
        "sales_rank": rank,
        "sales_rank_group": rank_group,
        "summary": summary or None,
        "identifiers": identifiers.get("identifiers"),
        "images": images.get("images"),
        "sales_ranks": ranks,
        "relationships": relationships.get("relationships"),
        "dimensions": dimensions,
        "attributes_json": _attributes_json(item.get("attributes")),
    }
    return {f.name: to_arrow_value(raw.get(f.name), f.type) for f in CATALOG_ITEMS}


def listing_row(
    seller_id: str,
    sku: str,
    marketplace_id: str,
    body: dict[str, Any] | None,
    fetched_at: datetime,
) -> dict[str, Any]:
    """A listings row; ``body=None`` records that the listing is gone (getListingsItem returned 404)."""
    if body is None:
        raw: dict[str, Any] = {"seller_id": seller_id, "sku": sku, "fetched_at": fetched_at, "found": False}
        return {f.name: to_arrow_value(raw.get(f.name), f.type) for f in LISTINGS_ITEMS}
    summary = _for_marketplace(body.get("summaries"), marketplace_id) or {}
    issues = [
        i
        for i in body.get("issues") or []
        if isinstance(i, dict) and (not i.get("marketplaceIds") or marketplace_id in i["marketplaceIds"])
    ]
    offers = [
        o
        for o in body.get("offers") or []
        if isinstance(o, dict) and o.get("marketplaceId") == marketplace_id
    ]
    b2c = next((o for o in offers if o.get("offerType") == "B2C"), offers[0] if offers else None)
    fulfillment = body.get("fulfillmentAvailability") or []
    quantity = (
        sum(int(f.get("quantity") or 0) for f in fulfillment if isinstance(f, dict)) if fulfillment else None
    )
    status = [str(s) for s in summary.get("status") or []]
    raw = {
        "seller_id": seller_id,
        "sku": body.get("sku") or sku,
        "fetched_at": fetched_at,
        "found": True,
        "asin": summary.get("asin"),
        "item_name": summary.get("itemName"),
        "status": status,
        "buyable": "BUYABLE" in status,
        "issue_count": len(issues),
        "error_count": sum(1 for i in issues if i.get("severity") == "ERROR"),
        "price_amount": ((b2c or {}).get("price") or {}).get("amount"),
        "price_currency": ((b2c or {}).get("price") or {}).get("currencyCode"),
        "fulfillment_quantity": quantity,
        "summary": summary or None,
        "issues": issues,
        "offers": offers,
        "fulfillment_availability": fulfillment,
        "attributes_json": _attributes_json(body.get("attributes")),
    }
    return {f.name: to_arrow_value(raw.get(f.name), f.type) for f in LISTINGS_ITEMS}
