"""FBA Inventory v1: ``getInventorySummaries`` per marketplace, then land (raw NDJSON.gz + the snapshot and
its history).

The nextToken expires after 30 s, so an expired token restarts the listing. Each complete listing replaces
the marketplace's snapshot.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from splake.config import AccountSettings
from splake.errors import ApiError
from splake.items.api import SpApi, body_of
from splake.items.context import ItemsContext
from splake.items.convert import to_table
from splake.items.next_token import MAX_PAGES, MAX_RESTARTS, TokenExpiredError, is_token_expired
from splake.items.schemas import FBA_INVENTORY_SUMMARIES
from splake.items.snake import shape_row, snake_keys
from splake.items.tables import FBA_INVENTORY_HISTORY_TABLE, FBA_INVENTORY_TABLE
from splake.lake.tables import Provenance
from splake.logs import get_logger, log_event

log = get_logger(__name__)


async def fetch_inventory(
    api: SpApi, account: AccountSettings, marketplace_id: str, on_restart: Callable[[], None] | None = None
) -> list[dict[str, Any]]:
    base = {
        "details": "true",
        "granularityType": "Marketplace",
        "granularityId": marketplace_id,
        "marketplaceIds": marketplace_id,
    }
    for _attempt in range(MAX_RESTARTS + 1):
        summaries: list[dict[str, Any]] = []
        params: dict[str, Any] = base
        try:
            for _ in range(MAX_PAGES):
                body = body_of(await api.call(account, "getInventorySummaries", params=params))
                summaries.extend((body.get("payload") or {}).get("inventorySummaries") or [])
                token = (body.get("pagination") or {}).get("nextToken")
                if not token:
                    return summaries
                params = {**base, "nextToken": token}
        except ApiError as exc:
            if not is_token_expired(exc):
                raise
            log_event(
                log, "inventory_next_token_expired", account_id=account.id, marketplace_id=marketplace_id
            )
            if on_restart:
                on_restart()
    raise TokenExpiredError(
        f"getInventorySummaries nextToken kept expiring for {marketplace_id} (it lives 30 s)",
        hint="the client is too slow between pages; check the rate limiter and concurrency settings",
    )


def inventory_row(summary: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    raw = snake_keys(summary)
    raw["fulfillable_quantity"] = (summary.get("inventoryDetails") or {}).get("fulfillableQuantity")
    raw["fetched_at"] = fetched_at
    return shape_row(raw, FBA_INVENTORY_SUMMARIES)


@dataclass
class InventoryResult:
    marketplaces: int = 0
    summaries: int = 0
    restarts: int = 0


async def sync_inventory(ctx: ItemsContext, account: AccountSettings, *, now: datetime) -> InventoryResult:
    result = InventoryResult()

    def restarted() -> None:
        result.restarts += 1

    for mp in account.marketplaces:
        summaries = await fetch_inventory(ctx.client, account, mp, restarted)
        await asyncio.to_thread(_land_inventory, ctx, account, mp, summaries, now)
        result.marketplaces += 1
        result.summaries += len(summaries)
    log_event(log, "inventory_synced", account_id=account.id, **result.__dict__)
    return result


def _land_inventory(
    ctx: ItemsContext, account: AccountSettings, mp: str, summaries: list[dict[str, Any]], now: datetime
) -> None:
    source_id = f"fba-inventory-{mp}-{now.strftime('%Y%m%dT%H%M%S%fZ')}"
    ref = ctx.raw.put_records(
        account.id,
        "api",
        source_id,
        summaries,
        {"type": "fbaInventory", "operation": "getInventorySummaries", "marketplaces": [mp]},
        day=now.date(),
    )
    prov = Provenance(
        account_id=account.id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=now,
        data_start=now,
        data_end=now,
        marketplace_id=mp,
    )
    table = to_table([inventory_row(s, now) for s in summaries], FBA_INVENTORY_SUMMARIES)
    ctx.lake.write(FBA_INVENTORY_TABLE, table, prov)
    if table.num_rows:
        ctx.lake.write(FBA_INVENTORY_HISTORY_TABLE, table, prov)
