"""Landing one downloaded document: decode → parse → stage the curated write (the hold rule applied), and
:func:`land_document` for the callers that commit one document directly (`reports reland`, `lake rebuild`,
the benches). The sync's :func:`splake.reports.ingest.ingest` stages with :func:`stage_document` and commits
through the grouped committer."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from splake.errors import BadDataError
from splake.lake.staged import StagedWrite
from splake.lake.tables import BadRow, Provenance, ReplaceScope
from splake.logs import get_logger, log_event
from splake.reports import drift
from splake.reports.attribution import attribute_document, label_rows
from splake.reports.decode import decoded
from splake.reports.formats import iter_document
from splake.reports.hold import DocumentHeldError, check_document
from splake.reports.ledger import LedgerEntry
from splake.reports.locales import locale_for
from splake.reports.migrate import migrate as migrate_table
from splake.reports.parse import BLOCK_SIZE, RowTooLongError, SerialParseNeededError
from splake.reports.prefetch import prefetch
from splake.reports.textstream import DecodedText, DecodeRestart, decoded_text, log_decoding
from splake.reports.typed import table_spec
from splake.reports.types import report_type
from splake.runners.context import Context

log = get_logger(__name__)

RELEASE_EVERY = 1  # parsed blocks between arrow memory-pool trims
PARSE_AHEAD = 2  # parsed chunks of a flat file waiting for the lake write (prefetch thread)


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
