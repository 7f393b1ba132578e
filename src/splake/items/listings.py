"""Listings Items 2021-08-01: getListingsItem per SKU (summaries, attributes, issues, offers, stock)."""

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
