"""Reports pipeline, ingest side: download → raw zone → decode → parse → stage the curated write (hold
rule) → grouped commit (:mod:`splake.lake.groupcommit`) → quarantine → mark ingested → advance the cursor
(in that order, so a crash anywhere repeats harmlessly). Only the commit holds the table lock."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from splake.errors import (
    BadDataError,
    ReportFailedError,
    RetryableError,
)
from splake.logs import get_logger, log_event
from splake.reports import cursors, ledger
from splake.reports.hold import DocumentHeldError, on_held
from splake.reports.landing import quarantine_rows, stage_document
from splake.reports.ledger import LedgerEntry
from splake.reports.migrate import may_be_pending
from splake.reports.migrate import migrate as migrate_table
from splake.reports.migrate import pending as pending_migrations
from splake.reports.planner import (
    iso,
)
from splake.reports.types import REPORT_TYPES, report_type
from splake.runners.context import Context

log = get_logger(__name__)

INGEST_RETRIES = 3
LAND_PARALLELISM = 2  # documents decoded, parsed and staged at once: CPU-bound
# a downloaded document at least this large is staged alone among large ones (staging a GB document peaks at
# ~0.5 GB of memory: two at once in two workers would double that); small documents go on beside it
LARGE_DOCUMENT_BYTES = 32 * 1024 * 1024


# --- ingest ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    entry: LedgerEntry
    rows: int
    quarantined: int
    raw_key: str | None
    skipped: bool = False  # already ingested (a repeated step)
    reason: str | None = None  # when the report had no document (CANCELLED)


async def ingest(
    ctx: Context, entry: LedgerEntry, *, on_staged: Callable[[], None] | None = None
) -> IngestResult:
    """Land a DONE report: idempotent (an INGESTED entry is a no-op; a crash mid-way repeats safely).
    ``on_staged`` is called once the document is staged (its download is gone), before its commit is
    awaited: the sync's landing gate then admits the next document."""
    async with ctx.lock(f"ingest:{entry.account_id}:{entry.key}"):  # one lander per entry in this process
        return await _ingest(ctx, entry, on_staged or (lambda: None))


async def _ingest(ctx: Context, entry: LedgerEntry, on_staged: Callable[[], None]) -> IngestResult:
    current = ledger.load(ctx.state, entry.account_id, entry.key) or entry
    if current.status == "INGESTED":
        _advance(ctx, current)
        return IngestResult(current, current.rows, current.quarantined, current.raw_key, skipped=True)
    if current.status == "CANCELLED":
        _advance(ctx, current)
        return IngestResult(current, 0, 0, None, reason=current.reason)
    if current.status != "DONE" or not current.document_id:
        raise BadDataError(
            f"report {current.report_id} is {current.status}, not DONE with a document",
            where=f"ingest {current.key}",
            hint="ingest runs after check/complete reported DONE",
        )
    account = ctx.account(current.account_id)
    spec = report_type(current.unit.report_type)
    dest = ctx.work_dir / f"splake-{current.account_id}-{current.report_id}-{uuid.uuid4().hex[:8]}.download"
    migrations = (
        await asyncio.to_thread(pending_migrations, ctx.lake, spec) if may_be_pending(ctx.lake, spec) else []
    )
    if migrations:  # a declared key change (rare):
        async with ctx.lock(f"table:{spec.table}"):  # the old rows are rewritten first
            await asyncio.to_thread(migrate_table, ctx.lake, spec)
    # from download to staged, the document is "landing": a committer of the table lingers for it (so
    # nothing in this block may wait for the table lock)
    with ctx.committer().landing(spec.table):
        try:
            for attempt in range(INGEST_RETRIES):
                doc = await ctx.client.call(
                    account, "getReportDocument", path={"reportDocumentId": current.document_id}
                )
                body = doc.body or {}
                try:
                    info = await ctx.client.download(str(body["url"]), dest)
                    break
                except RetryableError:
                    if attempt == INGEST_RETRIES - 1:
                        raise
            compression = body.get("compressionAlgorithm")
            meta = {
                "report_id": current.report_id,
                "document_id": current.document_id,
                "report_type": current.unit.report_type,
                "marketplace_ids": list(current.unit.marketplace_ids),
                "data_start": iso(current.unit.window.start),
                "data_end": iso(current.unit.window.end),
                "content_type": info.content_type,
                "charset": info.charset,
                "content_encoding": info.content_encoding,
                "compression_algorithm": compression,
                "format": spec.format if spec.format != "tsv" else "txt",
            }
            ref = await asyncio.to_thread(
                ctx.raw.put_document, current.account_id, "reports", current.report_id or "", dest, meta
            )
            now = ctx.clock()
            # no table lock while decoding/parsing/staging; at most LAND_PARALLELISM documents at once (CPU)
            stager = ctx.stager if ctx.stager is not None and ctx.stager.started else None
            # (with worker processes, one document more than they stage waits in their queue each)
            slots = ("land", LAND_PARALLELISM) if stager is None else ("land-workers", 2 * stager.workers)
            large = info.bytes_written >= LARGE_DOCUMENT_BYTES
            async with ctx.slots("land-large", 1) if large else contextlib.nullcontext(), ctx.slots(*slots):
                try:
                    if stager is not None:  # in worker processes (splake.runners.stagepool)
                        staged = await stager.stage(ctx, current, dest, info, compression, ref.key, now)
                    else:
                        staged = await asyncio.to_thread(
                            stage_document, ctx, current, dest, info, compression, ref.key, now
                        )
                except DocumentHeldError as held_exc:
                    good, n_bad, why = held_exc.rows, held_exc.quarantined, held_exc.message
                    held = ledger.update(
                        ctx.state,
                        current.account_id,
                        current.key,
                        lambda e: on_held(e, now, rows=good, quarantined=n_bad, raw_key=ref.key, reason=why),
                    )
                    log_event(log, "report_held", logging.ERROR, report_id=current.report_id, reason=why)
                    return IngestResult(held or current, 0, n_bad, ref.key, reason=why)
                except ReportFailedError as exc:
                    cooldown = timedelta(minutes=ctx.settings.sync.fatal_cooldown_minutes)
                    why = exc.message
                    ledger.update(
                        ctx.state,
                        current.account_id,
                        current.key,
                        lambda e: dataclasses.replace(
                            e, status="FATAL", reason=why, completed_at=now, cooldown_until=now + cooldown
                        ),
                    )
                    raise ReportFailedError(exc.message, where=current.key, hint=exc.hint) from None
        finally:
            dest.unlink(missing_ok=True)
    on_staged()
    # the commit, grouped with the other documents of the table that are ready (splake.lake.groupcommit)
    result = await ctx.committer().commit(staged.staged)
    rows = result.rows_written
    if staged.bad:
        async with ctx.lock(f"table:{staged.table}__quarantine"):
            quarantined = await asyncio.to_thread(quarantine_rows, ctx, staged)
    else:
        quarantined = 0
    done = ledger.update(
        ctx.state,
        current.account_id,
        current.key,
        lambda e: (
            ledger.on_ingested(e, now, rows=rows, quarantined=quarantined, raw_key=ref.key)
            if e.status == "DONE"
            else e
        ),
    )
    final = done or current
    _advance(ctx, final)
    log_event(
        log,
        "report_ingested",
        account_id=final.account_id,
        report_type=final.unit.report_type,
        report_id=final.report_id,
        rows=rows,
        quarantined=quarantined,
        raw_key=ref.key,
    )
    return IngestResult(final, rows, quarantined, ref.key)


def _advance(ctx: Context, entry: LedgerEntry) -> None:
    unit = entry.unit
    if unit.kind == "discover":
        return  # discovery cursors move when the whole listing landed (see sync)
    cursors.advance(ctx.state, unit.account_id, unit.stream, unit.cursor_base, unit.window, now=ctx.clock())


def record_ingest_failure(ctx: Context, entry: LedgerEntry, reason: str) -> LedgerEntry:
    now = ctx.clock()
    return (
        ledger.update(
            ctx.state, entry.account_id, entry.key, lambda e: ledger.on_ingest_failed(e, now, reason)
        )
        or entry
    )


def supported(name: str) -> bool:
    return name in REPORT_TYPES
