"""Reports pipeline, ingest side: download → raw zone → decode → parse → curated write (+ quarantine, hold
rule) → mark ingested → advance the cursor (in that order, so a crash anywhere repeats harmlessly)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from splake.errors import (
    BadDataError,
    ReportFailedError,
    RetryableError,
)
from splake.lake.tables import BadRow, Provenance, ReplaceScope
from splake.logs import get_logger, log_event
from splake.reports import cursors, drift, ledger
from splake.reports.attribution import attribute_document, label_rows
from splake.reports.decode import decoded
from splake.reports.formats import iter_document
from splake.reports.hold import DocumentHeldError, check_document, on_held
from splake.reports.ledger import LedgerEntry
from splake.reports.locales import locale_for
from splake.reports.migrate import migrate as migrate_table
from splake.reports.parse import BLOCK_SIZE, RowTooLongError, table_spec
from splake.reports.planner import (
    iso,
)
from splake.reports.types import REPORT_TYPES, report_type
from splake.runners.context import Context

log = get_logger(__name__)

INGEST_RETRIES = 3
RELEASE_EVERY = 1  # parsed blocks between arrow memory-pool trims
LAND_PARALLELISM = 2  # documents landed (decode, parse, stage, commit) at once: CPU-bound


# --- ingest ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    entry: LedgerEntry
    rows: int
    quarantined: int
    raw_key: str | None
    skipped: bool = False  # already ingested (a repeated step)
    reason: str | None = None  # when the report had no document (CANCELLED)


def _provenance(entry: LedgerEntry, source_key: str, now: datetime) -> Provenance:
    w = entry.unit.window
    return Provenance(
        account_id=entry.account_id,
        report_id=entry.report_id or "",
        source_key=source_key,
        ingested_at=now,
        data_start=w.start,
        data_end=w.end if w.start is not None else None,
        marketplace_id=entry.unit.marketplace_ids[0],
        marketplace_ids=entry.unit.marketplace_ids,
    )


def _discovered_tsv(entry: LedgerEntry) -> bool:
    return entry.unit.kind == "discover" and report_type(entry.unit.report_type).format == "tsv"


def land_document(
    ctx: Context,
    entry: LedgerEntry,
    path: Path,
    info: Any,
    compression: str | None,
    source_key: str,
    now: datetime,
    *,
    force: bool = False,
) -> tuple[int, int]:
    """Decode → parse → curated write (+ quarantine). Runs in a worker thread. Raises
    :class:`~splake.reports.hold.DocumentHeldError` (after recording the quarantined rows, with the table
    unchanged) when too many rows were quarantined — unless ``force``."""
    spec = report_type(entry.unit.report_type)
    tspec = table_spec(spec)
    migrate_table(ctx.lake, spec)  # a declared key change rewrites the old rows first (under the table lock)
    prov = _provenance(entry, source_key, now)
    w = entry.unit.window
    scope = ReplaceScope(start=w.start, end=w.end) if w.start is not None else ReplaceScope()
    bad: list[BadRow] = []
    good = [0]
    max_share = ctx.settings.sync.hold_quarantined_share
    with decoded(
        path,
        header_charset=info.charset,
        marketplace_id=entry.unit.marketplace_ids[0],
        compression=compression,
    ) as doc:
        pool = pa.default_memory_pool()
        named = attribute_document(doc.path, entry.unit.marketplace_ids) if _discovered_tsv(entry) else None
        if named is not None:  # a discovered report lands where its document says (never relabelled)
            prov = dataclasses.replace(
                prov, marketplace_id=named.fallback, marketplace_ids=named.marketplace_ids
            )
            if named.note:
                log_event(
                    log, "document_marketplace", logging.WARNING, report_id=entry.report_id, note=named.note
                )

        def batches(block_size: int) -> Iterator[pa.RecordBatch]:
            chunks = iter_document(
                doc.path,
                spec,
                window_start=w.start,
                block_size=block_size,
                locale=locale_for(entry.unit.marketplace_ids[0]),
                check_text=doc.suspect > 0,
            )
            for i, chunk in enumerate(chunks):
                bad.extend(chunk.bad)
                good[0] += chunk.table.num_rows
                table = label_rows(chunk.table, named) if named is not None and named.per_row else chunk.table
                yield from table.to_batches()
                if i % RELEASE_EVERY == 0:
                    pool.release_unused()  # hand freed arrow buffers back to the OS: bounded RSS on GB files
            if not force:  # raised before the lake commits: a bad document leaves the table as it was
                check_document(good[0], bad, max_share, f"{spec.name} report {entry.report_id}")

        if spec.replace == "window" and w.start is None:
            raise BadDataError(f"{spec.name} needs a window but the report has none", where=entry.key)
        block = BLOCK_SIZE
        while True:
            bad.clear()
            good[0] = 0
            try:  # the write is all-or-nothing: a failed attempt leaves the table as it was
                result = ctx.lake.write(tspec, batches(block), prov, scope)
                break
            except DocumentHeldError:
                ctx.lake.quarantine(tspec.name, bad, prov)
                raise
            except RowTooLongError as exc:
                log_event(log, "parse_block_enlarged", report_id=entry.report_id, block=exc.needed_block_size)
                block = exc.needed_block_size
        # layout drift (undeclared / declared-but-absent columns), for `splake reports drift`
        drift.observe_and_record(
            ctx.state, spec, doc.path, entry.unit.marketplace_ids[0], entry.report_id or "", now
        )
    quarantined = ctx.lake.quarantine(tspec.name, bad, prov) if bad else 0
    if bad:
        log_event(
            log,
            "rows_quarantined",
            logging.WARNING,
            table=tspec.name,
            report_id=entry.report_id,
            count=len(bad),
            first_reason=bad[0].reason,
        )
    return result.rows_written, quarantined


async def ingest(ctx: Context, entry: LedgerEntry) -> IngestResult:
    """Land a DONE report: idempotent (an INGESTED entry is a no-op; a crash mid-way repeats safely)."""
    async with ctx.lock(f"ingest:{entry.account_id}:{entry.key}"):  # one lander per entry in this process
        return await _ingest(ctx, entry)


async def _ingest(ctx: Context, entry: LedgerEntry) -> IngestResult:
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
        # one writer per table; at most LAND_PARALLELISM documents decoded/parsed/written at once (CPU)
        async with ctx.lock(f"table:{spec.table}"), ctx.slots("land", LAND_PARALLELISM):
            try:
                rows, quarantined = await asyncio.to_thread(
                    land_document, ctx, current, dest, info, compression, ref.key, now
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
