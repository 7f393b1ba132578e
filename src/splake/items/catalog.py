"""Catalog Items 2022-04-01: searchCatalogItems in batches of ≤ 20 identifiers, getCatalogItem for one."""

from __future__ import annotations

from typing import Any

from splake.config import AccountSettings
from splake.errors import BadDataError
from splake.items.api import SpApi, body_of, csv_param, is_not_found
from splake.items.plan import CATALOG_BATCH, CATALOG_INCLUDED_DATA, CatalogBatch

MAX_PAGES = 50  # the API pages through at most 1,000 items (50 pages of 20)


async def search_batch(
    api: SpApi,
    account: AccountSettings,
    batch: CatalogBatch,
    included_data: tuple[str, ...] = CATALOG_INCLUDED_DATA,
) -> list[dict[str, Any]]:
    """All items searchCatalogItems returns for one batch (follows ``pagination.nextToken``)."""
    if len(batch.identifiers) > CATALOG_BATCH:
        raise BadDataError(
            f"searchCatalogItems takes at most {CATALOG_BATCH} identifiers, got {len(batch.identifiers)}"
        )
    params: dict[str, Any] = {
        "marketplaceIds": batch.marketplace_id,
        "identifiers": csv_param(batch.identifiers),
        "identifiersType": batch.identifiers_type,
        "includedData": csv_param(included_data),
        "pageSize": CATALOG_BATCH,
    }
    if batch.identifiers_type == "SKU":
        params["sellerId"] = account.selling_partner_id
    items: list[dict[str, Any]] = []
    token: str | None = None
    for _page in range(MAX_PAGES):
        page_params = dict(params, pageToken=token) if token else params
        body = body_of(await api.call(account, "searchCatalogItems", params=page_params))
        items.extend(i for i in body.get("items") or [] if isinstance(i, dict) and i.get("asin"))
        token = (body.get("pagination") or {}).get("nextToken")
        if not token:
            break
    return items


async def get_item(
    api: SpApi,
    account: AccountSettings,
    asin: str,
    marketplace_id: str,
    included_data: tuple[str, ...] = CATALOG_INCLUDED_DATA,
) -> dict[str, Any] | None:
    """getCatalogItem; ``None`` when the ASIN does not exist in the marketplace (404)."""
    try:
        resp = await api.call(
            account,
            "getCatalogItem",
            path={"asin": asin},
            params={"marketplaceIds": marketplace_id, "includedData": csv_param(included_data)},
        )
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise
    body = body_of(resp)
    return body if body.get("asin") else None
