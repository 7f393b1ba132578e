"""Land fetched items: raw zone (NDJSON.gz with provenance) then the curated latest + history tables."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from splake.items.context import ItemsContext
from splake.items.convert import to_table
from splake.items.rows import catalog_row, listing_row
from splake.items.schemas import CATALOG_ITEMS, LISTINGS_ITEMS
from splake.items.tables import (
    CATALOG_ITEMS_HISTORY,
    CATALOG_ITEMS_LATEST,
    LISTINGS_ITEMS_HISTORY,
    LISTINGS_ITEMS_LATEST,
)
from splake.lake.tables import Provenance, TableSpec


@dataclass(frozen=True)
class FetchedListing:
    seller_id: str
    sku: str
    body: dict[str, Any] | None  # None: 404 (listing gone)
    request_id: str | None = None


@dataclass(frozen=True)
class Landed:
    raw_key: str
    rows: int


def _source_id(prefix: str, marketplace_id: str, fetched_at: datetime) -> str:
    return f"{prefix}-{marketplace_id}-{fetched_at.strftime('%Y%m%dT%H%M%S%fZ')}"


def _write(ctx: ItemsContext, specs: Sequence[TableSpec], table: Any, prov: Provenance) -> None:
    for spec in specs:
        ctx.lake.write(spec, table, prov)


def land_catalog(
    ctx: ItemsContext, account_id: str, marketplace_id: str, items: list[dict[str, Any]], fetched_at: datetime
) -> Landed:
    """Store catalog items of one account + marketplace fetch (blocking: run in a worker thread)."""
    source_id = _source_id("catalog", marketplace_id, fetched_at)
    ref = ctx.raw.put_records(
        account_id,
        "api",
        source_id,
        ({"marketplace_id": marketplace_id, "fetched_at": fetched_at.isoformat(), "item": i} for i in items),
        {
            "type": "catalogItems_2022-04-01",
            "operation": "searchCatalogItems",
            "marketplaces": [marketplace_id],
            "fetched_at": fetched_at.isoformat(),
        },
        day=fetched_at.date(),
    )
    rows = [catalog_row(i, marketplace_id, fetched_at) for i in items]
    prov = Provenance(
        account_id=account_id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=fetched_at,
        data_start=fetched_at,
        data_end=fetched_at,
        marketplace_id=marketplace_id,
    )
    if rows:
        _write(ctx, (CATALOG_ITEMS_LATEST, CATALOG_ITEMS_HISTORY), to_table(rows, CATALOG_ITEMS), prov)
    return Landed(ref.key, len(rows))


def land_listings(
    ctx: ItemsContext,
    account_id: str,
    marketplace_id: str,
    listings: list[FetchedListing],
    fetched_at: datetime,
) -> Landed:
    """Store listings of one account + marketplace fetch (blocking: run in a worker thread)."""
    source_id = _source_id("listings", marketplace_id, fetched_at)
    ref = ctx.raw.put_records(
        account_id,
        "api",
        source_id,
        (
            {
                "marketplace_id": marketplace_id,
                "fetched_at": fetched_at.isoformat(),
                "seller_id": f.seller_id,
                "sku": f.sku,
                "status": 200 if f.body is not None else 404,
                "request_id": f.request_id,
                "item": f.body,
            }
            for f in listings
        ),
        {
            "type": "listingsItems_2021-08-01",
            "operation": "searchListingsItems",  # getListingsItem for SKUs holding a comma
            "marketplaces": [marketplace_id],
            "fetched_at": fetched_at.isoformat(),
        },
        day=fetched_at.date(),
    )
    rows = [listing_row(f.seller_id, f.sku, marketplace_id, f.body, fetched_at) for f in listings]
    prov = Provenance(
        account_id=account_id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=fetched_at,
        data_start=fetched_at,
        data_end=fetched_at,
        marketplace_id=marketplace_id,
    )
    if rows:
        _write(ctx, (LISTINGS_ITEMS_LATEST, LISTINGS_ITEMS_HISTORY), to_table(rows, LISTINGS_ITEMS), prov)
    return Landed(ref.key, len(rows))
