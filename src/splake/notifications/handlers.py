"""What the consumer does per notification (the side-effecting part; parsing is in ``messages``).

- ``REPORT_PROCESSING_FINISHED`` → the report ledger's shared completion transition (the same one polling
  uses), so the next sync downloads the document without a single getReport poll. Idempotent: stale or
  repeated notifications leave the entry unchanged.
- ``LISTINGS_ITEM_STATUS_CHANGE`` / ``LISTINGS_ITEM_ISSUES_CHANGE`` → refetch the listing (its current
  state, so out-of-order notifications converge), land it in the listings tables, and track the SKU in
  the registry.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from splake.config import AccountSettings, Settings
from splake.items.land import FetchedListing, land_listings
from splake.items.listings import get_listing
from splake.items.registry import Registry, TrackedItem
from splake.logs import get_logger, log_event
from splake.notifications.consumer import Outcome
from splake.notifications.messages import ListingChanged, ReportFinished

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


async def handle_listing(ctx: Any, n: ListingChanged) -> Outcome:
    account = account_for_seller(ctx.settings, n.seller_id)
    if account is None:
        log_event(log, "listing_notification_unknown_seller", seller_id=n.seller_id, sku=n.sku)
        return "ignored"
    marketplaces = (
        [n.marketplace_id] if n.marketplace_id in account.marketplaces else list(account.marketplaces)
    )
    now = datetime.now(UTC)
    registry = Registry(ctx.state)
    for mp in marketplaces:
        body = await get_listing(ctx.client, account, n.sku, mp, seller_id=n.seller_id)
        await asyncio.to_thread(
            land_listings, ctx, account.id, mp, [FetchedListing(n.seller_id, n.sku, body)], now
        )
        asin = n.asin
        if body is not None:
            for s in body.get("summaries") or []:
                if s.get("marketplaceId") == mp and s.get("asin"):
                    asin = s["asin"]
        await asyncio.to_thread(
            registry.add, [TrackedItem(account.id, mp, "sku", n.sku, asin, ("notification",))], now
        )
    return "done"
