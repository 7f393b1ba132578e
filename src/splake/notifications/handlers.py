"""What the consumer does per notification (the side-effecting part; parsing is in ``messages``).

- ``REPORT_PROCESSING_FINISHED`` → the report ledger's shared completion transition (the same one polling
  uses), so the next sync downloads the document without a single getReport poll. Idempotent: stale or
  repeated notifications leave the entry unchanged.
- ``LISTINGS_ITEM_STATUS_CHANGE`` / ``LISTINGS_ITEM_ISSUES_CHANGE`` → refetch the listing (its current
  state, so out-of-order notifications converge), land it in the listings tables, track the SKU in the
  registry, and fetch catalog data for ASINs seen for the first time.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from splake.config import AccountSettings, Settings
from splake.errors import SplakeError
from splake.items.catalog import search_batch
from splake.items.land import FetchedListing, land_catalog, land_listings
from splake.items.listings import get_listing
from splake.items.plan import catalog_batches
from splake.items.registry import Registry, TrackedItem
from splake.logs import get_logger, log_event
from splake.notifications.messages import ListingChanged, ReportFinished
from splake.notifications.outcome import Outcome

log = get_logger(__name__)


def account_for_report(settings: Settings, n: ReportFinished) -> AccountSettings | None:
    """The configured account a report notification belongs to (by seller id, or vendor-group/merchant
    accountId ``amzn1.merchant.o.<sellerId>``)."""
    candidates = {n.account_id, n.seller_id or ""}
    if n.account_id.startswith("amzn1.merchant.o."):
        candidates.add(n.account_id.removeprefix("amzn1.merchant.o."))
    for account in settings.accounts:
        if account.selling_partner_id in candidates:
            return account
    return None


def account_for_seller(settings: Settings, seller_id: str) -> AccountSettings | None:
    for account in settings.accounts:
        if account.selling_partner_id == seller_id and account.type == "seller":
            return account
    return None


def _complete_report(ctx: Any, account: AccountSettings, n: ReportFinished, now: datetime) -> bool:
    """Apply the reports pipeline's shared completion transition; False when the report is not in the
    ledger (not requested by splake, or the ledger was reset)."""
    from splake.reports.pipeline import complete

    done = complete(
        ctx, n.report_id, n.processing_status, n.report_document_id, account_id=account.id, now=now
    )
    return done is not None


async def handle_report(ctx: Any, n: ReportFinished) -> Outcome:
    account = account_for_report(ctx.settings, n)
    if account is None:
        log_event(log, "report_notification_unknown_account", report_id=n.report_id, account=n.account_id)
        return "ignored"
    now = datetime.now(UTC)
    found = await asyncio.to_thread(_complete_report, ctx, account, n, now)
    if not found:
        # Not a report splake requested (or the ledger was reset): nothing to complete.
        log_event(log, "report_notification_not_in_ledger", report_id=n.report_id, account_id=account.id)
        return "ignored"
    log_event(
        log,
        "report_completed_by_notification",
        report_id=n.report_id,
        account_id=account.id,
        status=n.processing_status,
    )
    return "done"


async def handle_listings(ctx: Any, notes: list[ListingChanged]) -> dict[str, Outcome]:
    """Refetch every listing named by a batch of notifications (each SKU once, concurrently), land them
    with one commit per (account, marketplace), and track the SKUs in the registry."""
    outcomes: dict[str, Outcome] = {}
    targets: dict[tuple[str, str], dict[str, tuple[AccountSettings, str, str | None]]] = {}
    for n in notes:
        account = account_for_seller(ctx.settings, n.seller_id)
        if account is None:
            log_event(log, "listing_notification_unknown_seller", seller_id=n.seller_id, sku=n.sku)
            outcomes[n.notification_id] = "ignored"
            continue
        mps = [n.marketplace_id] if n.marketplace_id in account.marketplaces else list(account.marketplaces)
        for mp in mps:
            targets.setdefault((account.id, mp), {})[n.sku] = (account, n.seller_id, n.asin)
        outcomes[n.notification_id] = "done"
    if not targets:
        return outcomes
    now = datetime.now(UTC)

    async def fetch(mp: str, sku: str, account: AccountSettings, seller_id: str) -> FetchedListing:
        body = await get_listing(ctx.client, account, sku, mp, seller_id=seller_id)
        return FetchedListing(seller_id, sku, body)

    keys = [(key, sku, spec) for key, skus in targets.items() for sku, spec in skus.items()]
    fetched = await asyncio.gather(*(fetch(key[1], sku, spec[0], spec[1]) for key, sku, spec in keys))
    by_key: dict[tuple[str, str], list[FetchedListing]] = {}
    tracked: list[TrackedItem] = []
    for (key, sku, spec), f in zip(keys, fetched, strict=True):
        by_key.setdefault(key, []).append(f)
        asin = spec[2]
        for s in (f.body or {}).get("summaries") or []:
            if s.get("marketplaceId") == key[1] and s.get("asin"):
                asin = s["asin"]
        tracked.append(TrackedItem(key[0], key[1], "sku", sku, asin, ("notification",)))
    for (account_id, mp), listings in by_key.items():
        await asyncio.to_thread(land_listings, ctx, account_id, mp, listings, now)
    registry = Registry(ctx.state)
    new_asins: dict[tuple[str, str], set[str]] = {}
    for key in by_key:
        known = set(await asyncio.to_thread(registry.asins, key[0], key[1]))
        fresh = {t.asin for t in tracked if (t.account_id, t.marketplace_id) == key and t.asin} - known
        if fresh:
            new_asins[key] = fresh
    await asyncio.to_thread(registry.add, tracked, now)
    await _fetch_new_catalog_items(ctx, targets, new_asins, now)
    log_event(log, "listings_refetched", notifications=len(notes), listings=len(keys))
    return outcomes


async def _fetch_new_catalog_items(
    ctx: Any,
    targets: dict[tuple[str, str], dict[str, tuple[AccountSettings, str, str | None]]],
    new_asins: dict[tuple[str, str], set[str]],
    now: datetime,
) -> None:
    """Catalog data for ASINs seen for the first time (a new listing), so it is queryable at once. Best
    effort: a failure here leaves it to the next items sync (the listing itself is already landed)."""
    for (account_id, mp), asins in new_asins.items():
        account = next(iter(targets[(account_id, mp)].values()))[0]
        try:
            items: list[dict[str, Any]] = []
            for batch in catalog_batches(mp, asins):
                items += await search_batch(ctx.client, account, batch)
            if items:
                await asyncio.to_thread(land_catalog, ctx, account_id, mp, items, now)
        except SplakeError as exc:
            log_event(
                log, "catalog_fetch_deferred", account_id=account_id, marketplace_id=mp, error=exc.message
            )


async def handle_listing(ctx: Any, n: ListingChanged) -> Outcome:
    """One listings notification (see :func:`handle_listings`)."""
    return (await handle_listings(ctx, [n]))[n.notification_id]
