"""Re-land a report from the raw zone (no SP-API call): after a HELD document's cause is fixed (config, an
upgrade of splake), or to re-parse any landed document with today's code.

The document is read exactly as it was received (its sidecar gives the charset and compression) and goes
through the same decode → parse → write step as a fresh download, under the same hold rule unless
``force`` (then the good rows land whatever share was quarantined).
"""

from __future__ import annotations

from splake.errors import ConfigError
from splake.lake.raw import RawDocument
from splake.logs import get_logger, log_event
from splake.reports import cursors, ledger
from splake.reports.hold import DocumentHeldError, RawInfo, find_for_reland, on_held, raw_to_file
from splake.reports.pipeline import IngestResult, land_document
from splake.reports.types import report_type
from splake.runners.context import Context

log = get_logger(__name__)


def reland(
    ctx: Context, report_id: str, *, account_id: str | None = None, force: bool = False
) -> IngestResult:
    """Land report ``report_id`` again from its raw document; returns the result (``entry.status`` is
    ``INGESTED``, or ``HELD`` when the document is still too bad)."""
    entry = find_for_reland(ctx.state, report_id, account_id)
    assert entry.raw_key is not None
    if report_type(entry.unit.report_type).replace == "snapshot":
        newer = [
            e
            for e in ledger.entries(ctx.state, entry.account_id)
            if e.unit.stream == entry.unit.stream
            and e.status == "INGESTED"
            and e.report_id != entry.report_id
            and (e.unit.window.end, e.requested_at or e.unit.window.end)
            > (entry.unit.window.end, entry.requested_at or entry.unit.window.end)
        ]
        if newer:
            raise ConfigError(
                f"report {report_id} is an older snapshot than report {newer[-1].report_id}, which landed "
                "since: re-landing it would replace newer data",
                where=entry.key,
                hint="nothing to do: the newer snapshot is in the table",
            )
    meta = ctx.raw.get_meta(entry.raw_key)
    doc = RawDocument(entry.raw_key, meta, ctx.objects)
    info = RawInfo(meta.get("content_type"), meta.get("charset"), meta.get("content_encoding"), 0)
    path = raw_to_file(doc, ctx.work_dir)
    now = ctx.clock()
    try:
        rows, quarantined = land_document(
            ctx, entry, path, info, meta.get("compression_algorithm"), entry.raw_key, now, force=force
        )
    except DocumentHeldError as exc:
        good, n_bad, why, key = exc.rows, exc.quarantined, exc.message, entry.raw_key
        held = ledger.update(
            ctx.state,
            entry.account_id,
            entry.key,
            lambda e: on_held(e, now, rows=good, quarantined=n_bad, raw_key=key, reason=why),
        )
        return IngestResult(held or entry, 0, n_bad, entry.raw_key, reason=why)
    finally:
        path.unlink(missing_ok=True)
    done = ledger.update(
        ctx.state,
        entry.account_id,
        entry.key,
        lambda e: ledger.on_ingested(e, now, rows=rows, quarantined=quarantined, raw_key=entry.raw_key),
    )
    final = done or entry
    unit = final.unit
    if unit.kind != "discover":
        cursors.advance(ctx.state, unit.account_id, unit.stream, unit.cursor_base, unit.window, now=now)
    log_event(log, "report_relanded", report_id=report_id, rows=rows, quarantined=quarantined, forced=force)
    return IngestResult(final, rows, quarantined, entry.raw_key)
