"""Finances 2024-06-19 ``listTransactions`` and Finances v0 ``listFinancialEventGroups``: fetch, land.

- **Transactions** land incrementally by a ``postedAfter`` cursor (state namespace ``"cursors"``, sort key
  ``api#transactions``, value ``posted_before``): the window from the cursor — pulled back to cover the
  last ``[sync].lookback_days`` again, as reports re-pull late data, so a transaction whose status moved
  DEFERRED → RELEASED is seen again — to now - 2 min (Amazon's rule) is fetched in one-day slices; each
  slice lands (upsert by ``transaction_id``: one row per transaction, latest status) and only then moves
  the cursor, so a crash resumes at the first slice not landed. The nextToken expires (undocumented
  lifetime): a page request that says so restarts its slice from the first page, dropping what was
  collected (nothing is landed twice), at most ``MAX_RESTARTS`` times.
- **Event groups** (settlement periods): groups started in the last ``GROUP_DAYS`` days are fetched every
  run and upserted by ``financial_event_group_id`` (an Open group's balance changes until it closes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from splake.config import AccountSettings
from splake.errors import ApiError, RetryableError
from splake.items.api import SpApi, body_of
from splake.items.context import ItemsContext
from splake.items.convert import parse_time, to_arrow_value, to_table
from splake.items.plan import clamp_before, time_slices
from splake.items.schemas import FINANCIAL_EVENT_GROUPS, FINANCIAL_TRANSACTIONS
from splake.items.tables import FINANCIAL_EVENT_GROUPS_TABLE, FINANCIAL_TRANSACTIONS_TABLE
from splake.items.values import api_time
from splake.lake.tables import Provenance
from splake.logs import get_logger, log_event

log = get_logger(__name__)

CURSORS = "cursors"
TRANSACTIONS_CURSOR = "api#transactions"
MAX_PAGES = 10_000
MAX_RESTARTS = 3
GROUP_DAYS = 90


class TransactionsTokenExpiredError(RetryableError):
    code = "next_token_expired"


def _token_expired(exc: BaseException) -> bool:
    text = str(exc).lower()
    return isinstance(exc, ApiError) and exc.status == 400 and "expired" in text and "token" in text


async def fetch_transactions(
    api: SpApi,
    account: AccountSettings,
    start: datetime,
    end: datetime,
    on_restart: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Every transaction posted in [start, end); restarts the window when the nextToken expires."""
    first = {"postedAfter": api_time(start), "postedBefore": api_time(end)}
    for _attempt in range(MAX_RESTARTS + 1):
        out: list[dict[str, Any]] = []
        params: dict[str, Any] = first
        try:
            for _ in range(MAX_PAGES):
                payload = (
                    body_of(await api.call(account, "listTransactions", params=params)).get("payload") or {}
                )
                out.extend(payload.get("transactions") or [])
                token = payload.get("nextToken")
                if not token:
                    return out
                params = {**first, "nextToken": token}  # "include the same arguments as the call"
        except ApiError as exc:
            if not _token_expired(exc):
                raise
            log_event(
                log,
                "transactions_next_token_expired",
                account_id=account.id,
                slice_start=first["postedAfter"],
            )
            if on_restart:
                on_restart()
    raise TransactionsTokenExpiredError(
        f"listTransactions nextToken kept expiring for {first['postedAfter']}..{first['postedBefore']}",
        hint="check that nothing stalls between pages (rate limiter, concurrency) and run the sync again",
    )


def _money(m: dict[str, Any] | None) -> dict[str, Any] | None:
    if not m:
        return None
    return {"currency_code": m.get("currencyCode"), "amount": m.get("currencyAmount")}


def _flatten(breakdowns: list[dict[str, Any]], prefix: str = "") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for b in breakdowns or []:
        path = f"{prefix}/{b.get('breakdownType')}" if prefix else str(b.get("breakdownType"))
        out.append(
            {
                "path": path,
                "breakdown_type": b.get("breakdownType"),
                "amount": _money(b.get("breakdownAmount")),
            }
        )
        out.extend(_flatten(b.get("breakdowns") or [], path))
    return out


def transaction_row(tx: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    related = {
        r.get("relatedIdentifierName"): r.get("relatedIdentifierValue")
        for r in tx.get("relatedIdentifiers") or []
    }
    meta = tx.get("sellingPartnerMetadata") or {}
    items = []
    for it in tx.get("items") or []:
        product: dict[str, Any] = next(
            (c for c in it.get("contexts") or [] if c.get("contextType") == "ProductContext"), {}
        )
        ids = {
            r.get("itemRelatedIdentifierName"): r.get("itemRelatedIdentifierValue")
            for r in it.get("relatedIdentifiers") or []
        }
        items.append(
            {
                "description": it.get("description"),
                "transaction_item_id": ids.get("TRANSACTION_ID"),
                "sku": product.get("sku"),
                "asin": product.get("asin"),
                "quantity_shipped": product.get("quantityShipped"),
                "fulfillment_network": product.get("fulfillmentNetwork"),
                "total_amount": _money(it.get("totalAmount")),
            }
        )
    raw = {
        "transaction_id": tx.get("transactionId"),
        "transaction_type": tx.get("transactionType"),
        "transaction_status": tx.get("transactionStatus"),
        "description": tx.get("description"),
        "posted_date": parse_time(tx.get("postedDate")),
        "marketplace_id": (tx.get("marketplaceDetails") or {}).get("marketplaceId")
        or meta.get("marketplaceId"),
        "selling_partner_id": meta.get("sellingPartnerId"),
        "account_type": meta.get("accountType"),
        "amazon_order_id": related.get("ORDER_ID"),
        "financial_event_group_id": related.get("FINANCIAL_EVENT_GROUP_ID"),
        "total_amount": _money(tx.get("totalAmount")),
        "related_identifiers": [{"name": k, "value": v} for k, v in related.items()],
        "breakdowns": _flatten(tx.get("breakdowns") or []),
        "items": items,
        "fetched_at": fetched_at,
    }
    return {f.name: to_arrow_value(raw.get(f.name), f.type) for f in FINANCIAL_TRANSACTIONS}


@dataclass
class TransactionsResult:
    slices: int = 0
    transactions: int = 0
    restarts: int = 0
    after: datetime | None = None
    before: datetime | None = None


async def sync_transactions(
    ctx: ItemsContext, account: AccountSettings, *, now: datetime, slice_days: int = 1
) -> TransactionsResult:
    cursor = await asyncio.to_thread(ctx.state.get, CURSORS, account.id, TRANSACTIONS_CURSOR)
    lookback = now - timedelta(days=max(1, ctx.settings.sync.lookback_days))
    stored = parse_time((cursor or {}).get("posted_before"))
    after = min(stored, lookback) if stored else lookback
    before = clamp_before(now, now)
    result = TransactionsResult(after=after, before=before)

    def restarted() -> None:
        result.restarts += 1

    version = (cursor or {}).get("_version", 0)
    for sl in time_slices(after, before, timedelta(days=slice_days)):
        txs = await fetch_transactions(ctx.client, account, sl.start, sl.end, restarted)
        await asyncio.to_thread(_land_transactions, ctx, account, txs, sl.start, sl.end, now)
        item = await asyncio.to_thread(
            ctx.state.put,
            CURSORS,
            account.id,
            TRANSACTIONS_CURSOR,
            {"posted_before": sl.end.isoformat()},
            expect_version=version,
        )
        version = int(item["_version"])
        result.slices += 1
        result.transactions += len(txs)
    log_event(
        log,
        "transactions_synced",
        account_id=account.id,
        slices=result.slices,
        transactions=result.transactions,
        restarts=result.restarts,
    )
    return result


def _land_transactions(
    ctx: ItemsContext,
    account: AccountSettings,
    txs: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> None:
    source_id = f"transactions-{start.strftime('%Y%m%dT%H%M%SZ')}-{end.strftime('%Y%m%dT%H%M%SZ')}"
    ref = ctx.raw.put_records(
        account.id,
        "api",
        source_id,
        txs,
        {
            "type": "finances_2024-06-19",
            "operation": "listTransactions",
            "posted_after": start.isoformat(),
            "posted_before": end.isoformat(),
        },
        day=now.date(),
    )
    if not txs:
        return
    prov = Provenance(
        account_id=account.id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=now,
        data_start=start,
        data_end=end,
        marketplace_ids=tuple(account.marketplaces),
    )
    ctx.lake.write(
        FINANCIAL_TRANSACTIONS_TABLE,
        to_table([transaction_row(t, now) for t in txs], FINANCIAL_TRANSACTIONS),
        prov,
    )


# --- financial event groups -----------------------------------------------------------------------------


async def fetch_event_groups(
    api: SpApi, account: AccountSettings, started_after: datetime, now: datetime
) -> list[dict[str, Any]]:
    params: dict[str, Any] = {
        "FinancialEventGroupStartedAfter": api_time(started_after),
        "FinancialEventGroupStartedBefore": api_time(clamp_before(now, now)),
        "MaxResultsPerPage": 100,
    }
    out: list[dict[str, Any]] = []
    for _ in range(MAX_PAGES):
        payload = (
            body_of(await api.call(account, "listFinancialEventGroups", params=params)).get("payload") or {}
        )
        out.extend(payload.get("FinancialEventGroupList") or [])
        token = payload.get("NextToken")
        if not token:
            break
        params = {"NextToken": token}
    return out


def group_marketplace(g: dict[str, Any], marketplace_ids: tuple[str, ...]) -> str | None:
    """The one configured marketplace whose currency the group is in (None when several share it)."""
    from splake.spapi.marketplaces import marketplace

    currency = (g.get("OriginalTotal") or {}).get("CurrencyCode")
    found = [m for m in marketplace_ids if marketplace(m).currency == currency]
    return found[0] if len(found) == 1 else None


def event_group_row(
    g: dict[str, Any], fetched_at: datetime, marketplace_ids: tuple[str, ...] = ()
) -> dict[str, Any]:
    def money(m: dict[str, Any] | None) -> dict[str, Any] | None:
        return {"currency_code": m.get("CurrencyCode"), "amount": m.get("CurrencyAmount")} if m else None

    raw = {
        "financial_event_group_id": g.get("FinancialEventGroupId"),
        "marketplace_id": group_marketplace(g, marketplace_ids),
        "processing_status": g.get("ProcessingStatus"),
        "fund_transfer_status": g.get("FundTransferStatus"),
        "original_total": money(g.get("OriginalTotal")),
        "converted_total": money(g.get("ConvertedTotal")),
        "beginning_balance": money(g.get("BeginningBalance")),
        "fund_transfer_date": parse_time(g.get("FundTransferDate")),
        "financial_event_group_start": parse_time(g.get("FinancialEventGroupStart")),
        "financial_event_group_end": parse_time(g.get("FinancialEventGroupEnd")),
        "trace_id": g.get("TraceId"),
        "account_tail": g.get("AccountTail"),
        "fetched_at": fetched_at,
    }
    return {f.name: to_arrow_value(raw.get(f.name), f.type) for f in FINANCIAL_EVENT_GROUPS}


async def sync_event_groups(
    ctx: ItemsContext, account: AccountSettings, *, now: datetime, days: int = GROUP_DAYS
) -> int:
    groups = await fetch_event_groups(ctx.client, account, now - timedelta(days=days), now)
    await asyncio.to_thread(_land_groups, ctx, account, groups, now, days)
    log_event(log, "event_groups_synced", account_id=account.id, groups=len(groups))
    return len(groups)


def _land_groups(
    ctx: ItemsContext, account: AccountSettings, groups: list[dict[str, Any]], now: datetime, days: int
) -> None:
    source_id = f"event-groups-{now.strftime('%Y%m%dT%H%M%S%fZ')}"
    ref = ctx.raw.put_records(
        account.id,
        "api",
        source_id,
        groups,
        {"type": "financesV0", "operation": "listFinancialEventGroups", "days": days},
        day=now.date(),
    )
    if not groups:
        return
    prov = Provenance(
        account_id=account.id,
        report_id=source_id,
        source_key=ref.key,
        ingested_at=now,
        data_start=now - timedelta(days=days),
        data_end=now,
    )
    ctx.lake.write(
        FINANCIAL_EVENT_GROUPS_TABLE,
        to_table(
            [event_group_row(g, now, tuple(account.marketplaces)) for g in groups], FINANCIAL_EVENT_GROUPS
        ),
        prov,
    )
