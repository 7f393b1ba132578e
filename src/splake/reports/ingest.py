"""Reports pipeline, ingest side: download → raw zone → decode → parse → stage the curated write (hold
rule) → grouped commit (:mod:`splake.lake.groupcommit`) → quarantine → mark ingested → advance the cursor
(in that order, so a crash anywhere repeats harmlessly). Only the commit holds the table lock."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterator
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
from splake.lake.staged import StagedWrite
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
from splake.reports.migrate import pending as pending_migrations
from splake.reports.parse import BLOCK_SIZE, RowTooLongError, SerialParseNeededError
from splake.reports.planner import (
    iso,
)
from splake.reports.prefetch import prefetch
from splake.reports.textstream import DecodedText, DecodeRestart, decoded_text, log_decoding
from splake.reports.typed import table_spec
from splake.reports.types import REPORT_TYPES, report_type
from splake.runners.context import Context

log = get_logger(__name__)

INGEST_RETRIES = 3
RELEASE_EVERY = 1  # parsed blocks between arrow memory-pool trims
PARSE_AHEAD = 2  # parsed chunks of a flat file waiting for the lake write (prefetch thread)
LAND_PARALLELISM = 2  # documents decoded, parsed and staged at once: CPU-bound


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


@dataclass(frozen=True)
class StagedDocument:
    """A document decoded, parsed and staged (its Parquet files written, nothing committed)."""

    staged: StagedWrite
    bad: list[BadRow]
    prov: Provenance

    @property
    def table(self) -> str:
        return self.staged.table


def stage_document(
    ctx: Context,
    entry: LedgerEntry,
    path: Path,
    info: Any,
    compression: str | None,
    source_key: str,
    now: datetime,
    *,
    force: bool = False,
) -> StagedDocument:
    """Decode → parse → stage the curated write (no commit, no table lock: commit the result with
    ``ctx.committer().commit`` or ``ctx.lake.commit_staged``). Runs in a worker thread. Raises
    :class:`~splake.reports.hold.DocumentHeldError` (after recording the quarantined rows, with the table
    unchanged and nothing staged) when too many rows were quarantined — unless ``force``.

    Flat files are decoded while they are parsed (:mod:`splake.reports.textstream`: no temp file, no
    separate pass); JSON/XML documents and discovered flat files (read twice: their marketplaces first)
    are decoded to a temp file first."""
    spec = report_type(entry.unit.report_type)
    market = entry.unit.marketplace_ids[0]
    if spec.format == "tsv" and not _discovered_tsv(entry):
        text = decoded_text(path, header_charset=info.charset, marketplace_id=market, compression=compression)
        staged = _stage_text(ctx, entry, text, source_key, now, force=force)
        log_decoding(text)
        drift.observe_and_record(ctx.state, spec, text, market, entry.report_id or "", now)
        return staged
    with decoded(path, header_charset=info.charset, marketplace_id=market, compression=compression) as doc:
        staged = _stage_text(ctx, entry, doc.path, source_key, now, force=force, check_text=doc.suspect > 0)
        # layout drift (undeclared / declared-but-absent columns), for `splake reports drift`
        drift.observe_and_record(ctx.state, spec, doc.path, market, entry.report_id or "", now)
    return staged


def _stage_text(
    ctx: Context,
    entry: LedgerEntry,
    text: Path | DecodedText,
    source_key: str,
    now: datetime,
    *,
    force: bool,
    check_text: bool = False,
) -> StagedDocument:
    spec = report_type(entry.unit.report_type)
    tspec = table_spec(spec)
    prov = _provenance(entry, source_key, now)
    w = entry.unit.window
    scope = ReplaceScope(start=w.start, end=w.end) if w.start is not None else ReplaceScope()
    bad: list[BadRow] = []
    good = [0]
    max_share = ctx.settings.sync.hold_quarantined_share
    pool = pa.default_memory_pool()
    named = None
    if isinstance(text, Path) and _discovered_tsv(entry):
        named = attribute_document(text, entry.unit.marketplace_ids)
    if named is not None:  # a discovered report lands where its document says (never relabelled)
        prov = dataclasses.replace(prov, marketplace_id=named.fallback, marketplace_ids=named.marketplace_ids)
        if named.note:
            log_event(
                log, "document_marketplace", logging.WARNING, report_id=entry.report_id, note=named.note
            )

    def batches(block_size: int, threads: bool) -> Iterator[pa.RecordBatch]:
        chunks = iter_document(
            text,
            spec,
            window_start=w.start,
            block_size=block_size,
            locale=locale_for(entry.unit.marketplace_ids[0]),
            check_text=check_text or (isinstance(text, DecodedText) and text.check_text),
            threads=threads,
        )
        if spec.format == "tsv":  # the next blocks are parsed and cast (Arrow, no GIL) while these land
            chunks = prefetch(chunks, PARSE_AHEAD)
        for i, chunk in enumerate(chunks):
            bad.extend(chunk.bad)
            good[0] += chunk.table.num_rows
            table = label_rows(chunk.table, named) if named is not None and named.per_row else chunk.table
            yield from table.to_batches()
            if i % RELEASE_EVERY == 0:
                pool.release_unused()  # hand freed arrow buffers back to the OS: bounded RSS on GB files
        if not force:  # raised before anything is staged for commit: a bad document changes nothing
            check_document(good[0], bad, max_share, f"{spec.name} report {entry.report_id}")

    if spec.replace == "window" and w.start is None:
        raise BadDataError(f"{spec.name} needs a window but the report has none", where=entry.key)
    block, threads = BLOCK_SIZE, True
    while True:
        bad.clear()
        good[0] = 0
        try:  # staging deletes its files on any error: a failed attempt leaves nothing behind
            staged = ctx.lake.stage(tspec, batches(block, threads), prov, scope)
            break
        except DocumentHeldError:
            ctx.lake.quarantine(tspec.name, bad, prov)
            raise
        except RowTooLongError as exc:
            log_event(log, "parse_block_enlarged", report_id=entry.report_id, block=exc.needed_block_size)
            block = exc.needed_block_size
        except SerialParseNeededError:  # a ragged row: numbered by the serial reader
            log_event(log, "parse_serial", report_id=entry.report_id)
            threads = False
        except DecodeRestart as exc:  # the charset or the garbled-text check changed mid-document
            assert isinstance(text, DecodedText)
            log_event(log, "decode_restart", report_id=entry.report_id, why=exc.why)
            text.restart(exc)
    return StagedDocument(staged, bad, prov)


def quarantine_rows(ctx: Context, doc: StagedDocument) -> int:
    """Keep the document's unparseable rows in ``<table>__quarantine`` (after its rows committed)."""
    if not doc.bad:
        return 0
    quarantined = ctx.lake.quarantine(doc.table, doc.bad, doc.prov)
    log_event(
        log,
        "rows_quarantined",
        logging.WARNING,
        table=doc.table,
        report_id=doc.prov.report_id,
        count=len(doc.bad),
        first_reason=doc.bad[0].reason,
    )
    return quarantined


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
    """Decode → parse → stage → commit this one document directly (+ quarantine): for `reports reland` and
    `lake rebuild`, which land one document at a time. Raises
    :class:`~splake.reports.hold.DocumentHeldError` like :func:`stage_document`."""
    migrate_table(ctx.lake, report_type(entry.unit.report_type))  # a declared key change first
    doc = stage_document(ctx, entry, path, info, compression, source_key, now, force=force)
    try:
        [result] = ctx.lake.commit_staged(doc.table, [doc.staged])
    except BaseException:
        ctx.lake.discard(doc.staged)
        raise
    if result.data_files == 0 and not result.already_committed:
        ctx.lake.discard(doc.staged)  # nothing of it was added: its files are nobody's
    return result.rows_written, quarantine_rows(ctx, doc)


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
    if await asyncio.to_thread(pending_migrations, ctx.lake, spec):  # a declared key change (rare):
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
            async with ctx.slots(*slots):
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
