"""Sync tracked items: catalog (searchCatalogItems, 20 identifiers per call) and listings
(searchListingsItems, 20 SKUs per call; getListingsItem only for SKUs holding a comma) for every account
and marketplace, fetched concurrently, then landed (raw + curated).

The catalog and listings fetches run side by side, so the wall time is about the slower of the two
(searchCatalogItems at 2 r/s is the critical path: N/20 calls at 2 r/s against N/20 at 5 r/s), not their
sum. The client's rate limiter keeps each operation at its usage plan.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from splake.config import AccountSettings
from splake.errors import FatalError, SplakeError
from splake.items.catalog import search_batch
from splake.items.chunks import chunk_of
from splake.items.context import ItemsContext
from splake.items.land import FetchedListing, land_catalog, land_listings
from splake.items.listings import get_listing, search_listings, sku_batches
from splake.items.plan import CatalogBatch, catalog_batches
from splake.items.registry import Registry, TrackedItem
from splake.logs import get_logger, log_event

log = get_logger(__name__)
T = TypeVar("T")


@dataclass
class ItemsSyncSummary:
    catalog_calls: int = 0
    catalog_items: int = 0
    listings_calls: int = 0
    listings_found: int = 0
    listings_missing: int = 0
    registry_updates: int = 0
    failures: list[str] = field(default_factory=list)  # calls that failed after the client's retries
    fatal: list[str] = field(default_factory=list)  # those of them that cannot succeed on a retry (auth…)
    fetch_seconds: float = 0.0
    land_seconds: float = 0.0
    raw_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "catalog_calls": self.catalog_calls,
            "catalog_items": self.catalog_items,
            "listings_calls": self.listings_calls,
            "listings_found": self.listings_found,
            "listings_missing": self.listings_missing,
            "registry_updates": self.registry_updates,
            "failures": len(self.failures),
            "fetch_seconds": round(self.fetch_seconds, 3),
            "land_seconds": round(self.land_seconds, 3),
        }


@dataclass(frozen=True)
class _Work:
    account: AccountSettings
    marketplace_id: str
    catalog: tuple[CatalogBatch, ...]
    skus: tuple[str, ...]


def plan_work(
    registry: Registry, accounts: Iterable[AccountSettings], marketplace_ids: Iterable[str] | None = None
) -> list[_Work]:
    """What to fetch per account + marketplace: ASIN batches, SKU batches (SKUs with no known ASIN are
    looked up by SKU) and the SKUs whose listing to fetch (sellers only)."""
    only = set(marketplace_ids) if marketplace_ids is not None else None
    out: list[_Work] = []
    for account in accounts:
        for mp in account.marketplaces:
            if only is not None and mp not in only:
                continue
            asins = registry.asins(account.id, mp)
            sku_items = registry.items(account.id, "sku", mp)
            unresolved = [i.value for i in sku_items if not i.asin]
            batches = catalog_batches(mp, asins, "ASIN")
            if account.type == "seller":
                batches += catalog_batches(mp, unresolved, "SKU")
            skus = tuple(sorted(i.value for i in sku_items)) if account.type == "seller" else ()
            if batches or skus:
                out.append(_Work(account, mp, tuple(batches), skus))
    return out


async def _bounded(
    limit: int,
    jobs: list[tuple[str, Callable[[], Awaitable[T]]]],
    failures: list[str],
    fatal: list[str] | None = None,
) -> list[T]:
    """Run labelled jobs with bounded concurrency; a job that fails (after the client's own retries) is
    recorded in ``failures`` (and, a :class:`~splake.errors.FatalError`, in ``fatal``) and skipped, so one
    bad SKU never sinks the other 1,999."""
    sem = asyncio.Semaphore(limit)

    async def run(label: str, job: Callable[[], Awaitable[T]]) -> T | None:
        async with sem:
            try:
                return await job()
            except SplakeError as exc:
                failures.append(f"{label}: {exc.message}")
                if fatal is not None and isinstance(exc, FatalError):
                    fatal.append(failures[-1])
                log_event(log, "items_fetch_failed", what=label, error=exc.message)
                return None

    results = await asyncio.gather(*(run(label, j) for label, j in jobs))
    return [r for r in results if r is not None]


async def _fetch_catalog(
    ctx: ItemsContext, work: list[_Work], concurrency: int, failures: list[str], fatal: list[str]
) -> dict[tuple[str, str], list[Any]]:
    jobs: list[tuple[str, Callable[[], Awaitable[tuple[str, str, list[dict[str, Any]]]]]]] = []
    for w in work:
        for batch in w.catalog:

            async def job(w: _Work = w, batch: CatalogBatch = batch) -> tuple[str, str, list[dict[str, Any]]]:
                return w.account.id, w.marketplace_id, await search_batch(ctx.client, w.account, batch)

            label = f"searchCatalogItems {w.account.id}/{w.marketplace_id} {batch.identifiers[0]}…"
            jobs.append((label, job))
    out: dict[tuple[str, str], list[Any]] = {}
    for account_id, mp, items in await _bounded(concurrency, jobs, failures, fatal):
        bucket = out.setdefault((account_id, mp), [])
        seen = {i["asin"] for i in bucket}
        bucket.extend(i for i in items if i["asin"] not in seen)
    return out


async def _fetch_listings(
    ctx: ItemsContext, work: list[_Work], concurrency: int, failures: list[str], fatal: list[str]
) -> dict[tuple[str, str], list[FetchedListing]]:
    Got = tuple[str, str, list[FetchedListing]]
    jobs: list[tuple[str, Callable[[], Awaitable[Got]]]] = []
    for w in work:
        batches, singles = sku_batches(list(w.skus))
        for batch in batches:

            async def search(w: _Work = w, batch: list[str] = batch) -> Got:
                found = await search_listings(ctx.client, w.account, batch, w.marketplace_id)
                spid = w.account.selling_partner_id
                return w.account.id, w.marketplace_id, [FetchedListing(spid, s, b) for s, b in found.items()]

            jobs.append((f"searchListingsItems {w.account.id}/{w.marketplace_id} {batch[0]}…", search))
        for sku in singles:

            async def job(w: _Work = w, sku: str = sku) -> Got:
                body = await get_listing(ctx.client, w.account, sku, w.marketplace_id)
                spid = w.account.selling_partner_id
                return w.account.id, w.marketplace_id, [FetchedListing(spid, sku, body)]

            jobs.append((f"getListingsItem {w.account.id}/{w.marketplace_id} {sku}", job))
    out: dict[tuple[str, str], list[FetchedListing]] = {}
    for account_id, mp, fetched in await _bounded(concurrency, jobs, failures, fatal):
        out.setdefault((account_id, mp), []).extend(fetched)
    return out


def _registry_updates(fetched: dict[tuple[str, str], list[FetchedListing]]) -> list[TrackedItem]:
    """ASINs learned from listings, to remember in the registry."""
    updates: list[TrackedItem] = []
    for (account_id, mp), listings in fetched.items():
        for f in listings:
            if f.body is None:
                continue
            for s in f.body.get("summaries") or []:
                if s.get("marketplaceId") == mp and s.get("asin"):
                    updates.append(TrackedItem(account_id, mp, "sku", f.sku, s["asin"], ()))
    return updates


async def sync_items(
    ctx: ItemsContext,
    *,
    account_ids: Iterable[str] | None = None,
    marketplace_ids: Iterable[str] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    concurrency: int | None = None,
    chunk: tuple[int, int] | None = None,
) -> ItemsSyncSummary:
    """Fetch and land catalog + listings data for every tracked item of the given (default: all) accounts
    and marketplaces. Calls that still fail after the client's retries are listed in ``failures``; the
    rest is landed. ``chunk=(index, size)``: only that chunk of each (account, marketplace)
    (:mod:`splake.items.chunks`)."""
    settings = ctx.settings
    wanted = set(account_ids) if account_ids is not None else None
    accounts = [a for a in settings.accounts if wanted is None or a.id in wanted]
    registry = Registry(ctx.state)
    work = await asyncio.to_thread(plan_work, registry, accounts, marketplace_ids)
    if chunk is not None:
        work = [chunk_of(w, *chunk) for w in work]
    limit = concurrency or settings.spapi.concurrency
    summary = ItemsSyncSummary()
    summary.catalog_calls = sum(len(w.catalog) for w in work)
    summary.listings_calls = sum(
        len(batches) + len(singles) for batches, singles in (sku_batches(list(w.skus)) for w in work)
    )
    started = time.monotonic()
    fetched_at = clock()
    catalog, listings = await asyncio.gather(
        _fetch_catalog(ctx, work, limit, summary.failures, summary.fatal),
        _fetch_listings(ctx, work, max(limit, 16), summary.failures, summary.fatal),
    )
    summary.fetch_seconds = time.monotonic() - started
    landed_at = time.monotonic()
    for (account_id, mp), items in sorted(catalog.items()):
        landed = await asyncio.to_thread(land_catalog, ctx, account_id, mp, items, fetched_at)
        summary.catalog_items += landed.rows
        summary.raw_keys.append(landed.raw_key)
    for (account_id, mp), fetched in sorted(listings.items()):
        landed = await asyncio.to_thread(land_listings, ctx, account_id, mp, fetched, fetched_at)
        summary.listings_found += sum(1 for f in fetched if f.body is not None)
        summary.listings_missing += sum(1 for f in fetched if f.body is None)
        summary.raw_keys.append(landed.raw_key)
    summary.registry_updates = await asyncio.to_thread(registry.add, _registry_updates(listings), fetched_at)
    summary.land_seconds = time.monotonic() - landed_at
    log_event(log, "items_synced", **summary.as_dict())
    return summary
