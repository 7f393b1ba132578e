"""Listings Items 2021-08-01: searchListingsItems for up to 20 SKUs per call (``identifiers`` +
``identifiersType=SKU``), getListingsItem per SKU for the rest (summaries, attributes, issues, offers,
stock). Both return the same Item body; a SKU the search does not return has no listing in that
marketplace (as getListingsItem's 404)."""

from __future__ import annotations

from typing import Any

from splake.config import AccountSettings
from splake.items.api import SpApi, body_of, csv_param, is_not_found
from splake.items.plan import LISTINGS_INCLUDED_DATA


async def get_listing(
    api: SpApi,
    account: AccountSettings,
    sku: str,
    marketplace_id: str,
    included_data: tuple[str, ...] = LISTINGS_INCLUDED_DATA,
    seller_id: str | None = None,
) -> dict[str, Any] | None:
    """The listing body, or ``None`` when the SKU has no listing in that marketplace (404)."""
    try:
        resp = await api.call(
            account,
            "getListingsItem",
            path={"sellerId": seller_id or account.selling_partner_id, "sku": sku},
            params={"marketplaceIds": marketplace_id, "includedData": csv_param(included_data)},
        )
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    return body_of(resp)


SEARCH_BATCH = 20  # searchListingsItems: identifiers ≤ 20, pageSize ≤ 20


def searchable(sku: str) -> bool:
    """``identifiers`` is comma-delimited: a SKU holding a comma can only be fetched one by one."""
    return "," not in sku and sku.strip() == sku and bool(sku)


def sku_batches(skus: list[str], size: int = SEARCH_BATCH) -> tuple[list[list[str]], list[str]]:
    """(batches for searchListingsItems, SKUs to fetch one by one with getListingsItem)."""
    if not 1 <= size <= SEARCH_BATCH:
        raise ValueError(f"batch size must be 1..{SEARCH_BATCH}")
    ok = sorted({s for s in skus if searchable(s)})
    single = sorted({s for s in skus if not searchable(s)})
    return [ok[i : i + size] for i in range(0, len(ok), size)], single


async def search_listings(
    api: SpApi,
    account: AccountSettings,
    skus: list[str],
    marketplace_id: str,
    included_data: tuple[str, ...] = LISTINGS_INCLUDED_DATA,
    seller_id: str | None = None,
) -> dict[str, dict[str, Any] | None]:
    """Listing bodies of up to 20 SKUs in one searchListingsItems call; ``None`` for SKUs not listed."""
    if not 1 <= len(skus) <= SEARCH_BATCH or not all(searchable(s) for s in skus):
        raise ValueError("1..20 SKUs without commas per searchListingsItems call")
    params: dict[str, Any] = {
        "marketplaceIds": marketplace_id,
        "identifiers": csv_param(skus),
        "identifiersType": "SKU",
        "includedData": csv_param(included_data),
        "pageSize": SEARCH_BATCH,
    }
    found: dict[str, dict[str, Any] | None] = dict.fromkeys(skus)
    for _ in range(len(skus) + 1):  # ≤ 20 results fit one page; follow a token defensively
        body = body_of(
            await api.call(
                account,
                "searchListingsItems",
                path={"sellerId": seller_id or account.selling_partner_id},
                params=params,
            )
        )
        for item in body.get("items") or []:
            if item.get("sku") in found:
                found[item["sku"]] = item
        token = (body.get("pagination") or {}).get("nextToken")
        if not token:
            break
        params = {**params, "pageToken": token}
    return found
