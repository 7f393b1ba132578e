"""Notification-first report sync for the embedded runner (the AWS runner does the same with Step Functions).

1. Request the reports of seller accounts that receive REPORT_PROCESSING_FINISHED (the reports pipeline's
   ``plan`` + ``request``: reused/resumed exactly as in a normal sync).
2. Consume the notifications queue until every one of those reports is finished in the ledger, or until
   ``wait_seconds`` passed (the consumer completes entries through the shared ``complete`` transition).
3. Run the normal reports sync: finished entries are landed without a single getReport call; anything
   still in flight (a notification was lost or late) is polled — the fallback. Vendor accounts, which
   cannot subscribe, are polled as usual.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from splake.config import Settings
from splake.errors import FatalError, RetryableError
from splake.logs import get_logger, log_event
from splake.notifications.consumer import ConsumeResult, consume
from splake.ports import Queue

log = get_logger(__name__)


@dataclass
class NotifiedSyncResult:
    summary: Any  # splake.reports.sync.SyncSummary
    consumed: list[ConsumeResult] = field(default_factory=list)
    requested: int = 0
    completed_by_notification: int = 0
    waited_seconds: float = 0.0


def notified_accounts(settings: Settings, accounts: Sequence[str] | None = None) -> list[str]:
    """Accounts whose reports complete by notification: sellers, when notifications are enabled."""
    if not settings.notifications.enabled:
        return []
    return [a.id for a in settings.accounts if a.type == "seller" and (not accounts or a.id in accounts)]


async def sync_with_notifications(
    settings: Settings,
    ctx: Any,
    queue: Queue,
    *,
    accounts: Sequence[str] | None = None,
    report_types: Sequence[str] | None = None,
    wait_seconds: float = 600.0,
    max_wait_seconds: float | None = None,
    observer: Any = None,
) -> NotifiedSyncResult:
    from splake.reports import ledger, pipeline
    from splake.reports.sync import sync

    ids = notified_accounts(settings, accounts)
    keys: list[tuple[str, str]] = []
    now = ctx.clock()
    if ids:
        units = pipeline.plan(
            ctx, now, accounts=tuple(ids), report_types=tuple(report_types) if report_types else None
        )
        for unit in units:
            if unit.kind != "request":
                continue
            try:
                out = await pipeline.request(ctx, unit, now)
            except (FatalError, RetryableError) as exc:  # the sync below reports and retries it
                log_event(log, "notified_request_failed", account_id=unit.account_id, error=str(exc))
                continue
            if out.entry.in_flight:
                keys.append((out.entry.account_id, out.entry.key))
    result = NotifiedSyncResult(summary=None, requested=len(keys))
    started = time.monotonic()
    deadline = started + wait_seconds

    def pending() -> list[tuple[str, str]]:
        left = []
        for acct, key in keys:
            e = ledger.load(ctx.state, acct, key)
            if e is not None and e.in_flight:
                left.append((acct, key))
        return left

    waiting = await asyncio.to_thread(pending)
    while waiting and time.monotonic() < deadline:
        remaining = deadline - time.monotonic()
        result.consumed.append(await consume(ctx, queue, 10, wait_seconds=min(1.0, max(0.0, remaining))))
        waiting = await asyncio.to_thread(pending)
    result.waited_seconds = time.monotonic() - started
    result.completed_by_notification = len(keys) - len(waiting)
    log_event(
        log,
        "notified_wait_done",
        requested=len(keys),
        completed=result.completed_by_notification,
        fallback=len(waiting),
        seconds=round(result.waited_seconds, 2),
    )
    result.summary = await sync(
        settings,
        ctx,
        accounts=accounts,
        report_types=report_types,
        observer=observer,
        max_wait_seconds=max_wait_seconds,
    )
    return result
