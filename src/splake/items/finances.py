"""Finances v0: ``listFinancialEvents`` in ``PostedAfter``/``PostedBefore`` slices, then land (raw NDJSON.gz
+ curated shipment events).

The NextToken expires (the trap): when a page request says the token expired, the whole slice is fetched
again from its start (pages collected so far are dropped, so nothing is duplicated); a slice lands only
when complete and replaces that window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from splake.config import AccountSettings
from splake.errors import ApiError
from splake.items.api import SpApi, body_of
from splake.items.context import ItemsContext
from splake.items.convert import to_table
from splake.items.next_token import MAX_PAGES, MAX_RESTARTS, TokenExpiredError, is_token_expired
from splake.items.plan import clamp_before, time_slices
from splake.items.schemas import FINANCIAL_SHIPMENT_EVENTS
from splake.items.snake import shape_row, snake_keys
from splake.items.tables import FINANCIAL_SHIPMENT_EVENTS_TABLE
from splake.items.values import api_time
from splake.lake.tables import Provenance, ReplaceScope
from splake.logs import get_logger, log_event
from splake.spapi.marketplaces import MARKETPLACES

log = get_logger(__name__)


async def fetch_financial_slice(
    api: SpApi,
    account: AccountSettings,
    start: datetime,
    end: datetime,
    on_restart: Callable[[], None] | None = None,
    page_size: int = 100,
) -> list[dict[str, Any]]:
    """All ShipmentEvents posted in [start, end); restarts the slice when the NextToken expires."""
    first = {
        "PostedAfter": api_time(start),
        "PostedBefore": api_time(end),
        "MaxResultsPerPage": page_size,
    }
    for _attempt in range(MAX_RESTARTS + 1):
        events: list[dict[str, Any]] = []
        params: dict[str, Any] = first
        try:
            for _ in range(MAX_PAGES):
                payload = (
                    body_of(await api.call(account, "listFinancialEvents", params=params)).get("payload")
                    or {}
                )
                events.extend((payload.get("FinancialEvents") or {}).get("ShipmentEventList") or [])
                token = payload.get("NextToken")
                if not token:
                    return events
                params = {"NextToken": token}
        except ApiError as exc:
            if not is_token_expired(exc):
                raise
            log_event(
                log, "finances_next_token_expired", account_id=account.id, slice_start=first["PostedAfter"]
            )
            if on_restart:
                on_restart()
    raise TokenExpiredError(
        f"listFinancialEvents NextToken kept expiring for {first['PostedAfter']}..{first['PostedBefore']}",
        hint="use narrower slices (fewer pages per slice) or check that nothing stalls between pages",
    )


_MP_BY_NAME = {m.domain.removeprefix("www.").lower(): m.id for m in MARKETPLACES}


def shipment_event_row(event: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    raw = snake_keys(event)
    items = event.get("ShipmentItemList") or []
    charges = [c for i in items for c in i.get("ItemChargeList") or []]
    fees = [f for i in items for f in i.get("ItemFeeList") or []]
    currency = next((c["ChargeAmount"].get("CurrencyCode") for c in charges if c.get("ChargeAmount")), None)
    raw.update(
        {
            "marketplace_id": _MP_BY_NAME.get(str(event.get("MarketplaceName") or "").lower()),
            "currency": currency,
            "principal": sum(
                float(c["ChargeAmount"].get("CurrencyAmount") or 0)
                for c in charges
                if c.get("ChargeType") == "Principal"
            ),
            "fees": sum(float((f.get("FeeAmount") or {}).get("CurrencyAmount") or 0) for f in fees),
            "shipment_items": snake_keys(items),
            "fetched_at": fetched_at,
        }
    )
    return shape_row(raw, FINANCIAL_SHIPMENT_EVENTS)


@dataclass
class FinancesResult:
    slices: int = 0
    events: int = 0
    restarts: int = 0


async def sync_finances(
    ctx: ItemsContext,
    account: AccountSettings,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    slice_width: timedelta = timedelta(days=1),
    page_size: int = 100,
) -> FinancesResult:
    result = FinancesResult()

    def restarted() -> None:
        result.restarts += 1

    for sl in time_slices(start, clamp_before(now, end), slice_width):
        events = await fetch_financial_slice(ctx.client, account, sl.start, sl.end, restarted, page_size)
        await asyncio.to_thread(_land_finances, ctx, account, events, sl.start, sl.end, now)
        result.slices += 1
        result.events += len(events)
    log_event(log, "finances_synced", account_id=account.id, **result.__dict__)
    return result


def _land_finances(
    ctx: ItemsContext,
    account: AccountSettings,
    events: list[dict[str, Any]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> None:
    source_id = f"financial-events-{start.strftime('%Y%m%dT%H%M%SZ')}-{end.strftime('%Y%m%dT%H%M%SZ')}"
    ref = ctx.raw.put_records(
        account.id,
        "api",
        source_id,
        events,
        {"type": "financesV0", "operation": "listFinancialEvents", "data_start": start, "data_end": end},
    )
    rows = [shipment_event_row(e, now) for e in events]
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
        FINANCIAL_SHIPMENT_EVENTS_TABLE,
        to_table(rows, FINANCIAL_SHIPMENT_EVENTS),
        prov,
        ReplaceScope.window(start, end, account.marketplaces),
    )
