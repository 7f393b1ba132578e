"""Reports pipeline, completion side: one getReport poll (:func:`check`), the shared completion transition
(:func:`complete`, also called by REPORT_PROCESSING_FINISHED notifications) and failure explanation."""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import json
import logging
import random
import uuid
from datetime import datetime, timedelta

from splake.errors import (
    ApiError,
    SplakeError,
)
from splake.logs import get_logger, log_event
from splake.reports import ledger
from splake.reports.decode import python_codec
from splake.reports.ledger import LedgerEntry
from splake.reports.planner import (
    as_utc,
    parse_iso,
)
from splake.runners.context import Context

log = get_logger(__name__)


# --- check / complete -----------------------------------------------------------------------------------


def complete(
    ctx: Context,
    report_id: str,
    status: str,
    document_id: str | None,
    *,
    account_id: str | None = None,
    now: datetime | None = None,
    reason: str | None = None,
    processed_at: datetime | None = None,
) -> LedgerEntry | None:
    """Record a report's processing result (from polling or REPORT_PROCESSING_FINISHED). Idempotent;
    returns the entry, or None when the report is not in the ledger (not ours, or not recorded yet)."""
    entry = ledger.find_by_report(ctx.state, report_id, account_id)
    if entry is None:
        log_event(log, "report_completion_unknown", report_id=report_id, status=status)
        return None
    when = now or ctx.clock()
    cooldown = timedelta(minutes=ctx.settings.sync.fatal_cooldown_minutes)
    out = ledger.update(
        ctx.state,
        entry.account_id,
        entry.key,
        lambda e: ledger.on_status(
            e,
            report_id,
            status,
            document_id,
            when,
            cooldown=cooldown,
            reason=reason,
            processed_at=processed_at,
        ),
    )
    if out is not None and out.status != entry.status:
        log_event(
            log,
            "report_completed",
            logging.WARNING if out.status == "FATAL" else logging.INFO,
            account_id=out.account_id,
            report_type=out.unit.report_type,
            report_id=report_id,
            status=out.status,
        )
    return out


async def check(ctx: Context, entry: LedgerEntry, now: datetime) -> LedgerEntry:
    """One poll: re-read the ledger (a notification may have completed it), else getReport once."""
    current = ledger.load(ctx.state, entry.account_id, entry.key) or entry
    if not current.in_flight or current.report_id is None:
        return current
    s = ctx.settings.sync
    jitter = random.random()  # (of the next poll's backoff step: see ledger.on_poll)
    if current.requested_at and as_utc(now) - current.requested_at > timedelta(
        minutes=s.report_timeout_minutes
    ):
        cooldown = timedelta(minutes=s.fatal_cooldown_minutes)
        return (
            ledger.update(
                ctx.state, current.account_id, current.key, lambda e: ledger.on_timeout(e, now, cooldown)
            )
            or current
        )
    rid0 = current.report_id
    try:
        resp = await ctx.client.call(ctx.account(current.account_id), "getReport", path={"reportId": rid0})
    except ApiError as exc:
        if exc.status != 404:
            raise
        # Amazon no longer knows the report (older than its retention, or another endpoint): give up on
        # it; the window is requested again after the cooldown instead of being polled forever
        return (
            complete(
                ctx,
                rid0,
                "FATAL",
                None,
                account_id=current.account_id,
                now=now,
                reason=f"report {rid0} not found at Amazon (HTTP 404): expired or unknown",
            )
            or current
        )
    body = resp.body or {}
    status = str(body.get("processingStatus") or "")
    if current.created_time is None and body.get("createdTime"):
        rid, created = current.report_id, parse_iso(body.get("createdTime"))
        current = (
            ledger.update(
                ctx.state, current.account_id, current.key, lambda e: ledger.on_created_time(e, rid, created)
            )
            or current
        )
    if status in ledger.AMAZON_TERMINAL or (status in ledger.IN_FLIGHT and status != current.status):
        done = complete(
            ctx,
            rid0,
            status,
            body.get("reportDocumentId"),
            account_id=current.account_id,
            now=now,
            processed_at=parse_iso(body.get("processingEndTime")),
        )
        if done is not None and done.in_flight:
            return (
                ledger.update(
                    ctx.state,
                    done.account_id,
                    done.key,
                    lambda e: ledger.on_poll(e, now, s.poll_initial_seconds, s.poll_max_seconds, jitter),
                )
                or done
            )
        return done or current
    return (
        ledger.update(
            ctx.state,
            current.account_id,
            current.key,
            lambda e: ledger.on_poll(e, now, s.poll_initial_seconds, s.poll_max_seconds, jitter),
        )
        or current
    )


async def explain_failure(ctx: Context, entry: LedgerEntry) -> LedgerEntry:
    """A FATAL report may carry a document explaining why (Amazon's use-case guide): fetch it (small, best
    effort) and record its text as the entry's reason."""
    if entry.status != "FATAL" or not entry.document_id or entry.report_id is None:
        return entry
    dest = ctx.work_dir / f"splake-fatal-{entry.account_id}-{entry.report_id}-{uuid.uuid4().hex[:8]}"
    try:
        account = ctx.account(entry.account_id)
        doc = await ctx.client.call(
            account, "getReportDocument", path={"reportDocumentId": entry.document_id}
        )
        info = await ctx.client.download(str((doc.body or {})["url"]), dest)
        data = dest.read_bytes()[: 1 << 20]
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)[:4000]
        text = data.decode(python_codec(info.charset or "") or "utf-8", errors="replace").strip()
        with contextlib.suppress(ValueError):
            parsed = json.loads(text)
            if isinstance(parsed, dict) and parsed.get("errorDetails"):
                text = str(parsed["errorDetails"])
    except (SplakeError, OSError, KeyError):
        return entry
    finally:
        dest.unlink(missing_ok=True)
    why = f"Amazon's explanation: {text[:500]}"
    return (
        ledger.update(ctx.state, entry.account_id, entry.key, lambda e: dataclasses.replace(e, reason=why))
        or entry
    )
